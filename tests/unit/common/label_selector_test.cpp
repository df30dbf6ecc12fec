// Label selector syntax: what the API server accepts passes, every typo the
// API server would answer with HTTP 400 mid-run is named here instead.
#include "runner/common/label_selector.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

std::string error_of(const std::string& s) { return label_selector_error(s).value_or(""); }

TEST(LabelSelector, AcceptsTheApiServersForms) {
  for (const char* ok :
       {"", "app=checkout", "app==checkout", "app!=checkout", "app", "!app",
        "app=", "app=checkout,tier!=db", " app = checkout , tier ", "env in (a, b)",
        "env notin (a)", "example.com/team=payments", "app.kubernetes.io/name=x_y.z-1",
        "replicas>2", "app=checkout,env in (prod,staging),!legacy"})
    EXPECT_EQ(error_of(ok), "") << ok;
}

TEST(LabelSelector, SyntaxErrors_SayWhatIsWrong) {
  EXPECT_EQ(
      error_of("app=we b"),
      "label selector \"app=we b\": expected \",\" or the end after a requirement, got \"b\"");
  EXPECT_EQ(error_of("app=="), "");  // key== with an empty value, as the API server reads it
  EXPECT_EQ(error_of("app=(x)"),
            "label selector \"app=(x)\": expected a value after \"app=\", got \"(\"");
  EXPECT_EQ(error_of("app:checkout"),
            "label selector \"app:checkout\": label key \"app:checkout\" has \":\" (allowed: "
            "letters, digits, "
            "'-', '_', '.')");
  EXPECT_EQ(error_of("app=checkout,"),
            "label selector \"app=checkout,\": expected a label key, got end of selector");
  EXPECT_EQ(error_of("env in a,b"),
            "label selector \"env in a,b\": expected \"(\" after \"env in\"");
  EXPECT_EQ(error_of("env in ()"),
            "label selector \"env in ()\": \"env in ()\": the set of values must not be empty");
  EXPECT_EQ(error_of("env in (a b)"),
            "label selector \"env in (a b)\": expected \",\" or \")\" in the values of \"env in\", "
            "got \"b\"");
  EXPECT_EQ(
      error_of("app=-x"),
      "label selector \"app=-x\": label value \"-x\" must start and end with a letter or digit");
  EXPECT_EQ(
      error_of("replicas>two"),
      "label selector \"replicas>two\": expected a whole number after \"replicas>\", got \"two\"");
  EXPECT_EQ(error_of("app=" + std::string(64, 'a')),
            "label selector \"app=" + std::string(64, 'a') + "\": label value \"" +
                std::string(64, 'a') + "\" is longer than 63 characters");
  EXPECT_EQ(error_of("Example.com/x=y"),
            "label selector \"Example.com/x=y\": label key \"Example.com/x\": prefix must be a DNS "
            "subdomain "
            "(lower-case letters, digits, '-', '.')");
}

}  // namespace
}  // namespace faultline
