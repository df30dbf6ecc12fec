#include "runner/chaos/selector.h"

#include <gtest/gtest.h>

#include "runner/common/error.h"

namespace faultline::chaos {
namespace {

const nlohmann::json kLabels = {{"app", "checkout"}, {"tier", "web"}, {"canary", "true"}};

TEST(Selector, EqualityAndInequalityTerms) {
  EXPECT_TRUE(selector_matches("app=checkout", kLabels));
  EXPECT_TRUE(selector_matches("app==checkout,tier=web", kLabels));
  EXPECT_FALSE(selector_matches("app=checkout,tier=db", kLabels));
  EXPECT_TRUE(selector_matches("tier!=db", kLabels));
  EXPECT_TRUE(selector_matches("missing!=x", kLabels));  // absent label is "not equal"
  EXPECT_FALSE(selector_matches("app!=checkout", kLabels));
}

TEST(Selector, ExistenceAndSetTerms) {
  EXPECT_TRUE(selector_matches("canary", kLabels));
  EXPECT_FALSE(selector_matches("!canary", kLabels));
  EXPECT_TRUE(selector_matches("tier in (db, web)", kLabels));
  EXPECT_FALSE(selector_matches("tier notin (db,web)", kLabels));
  EXPECT_TRUE(selector_matches("zone notin (a,b)", kLabels));
}

TEST(Selector, EmptySelectorMatchesEverything) { EXPECT_TRUE(selector_matches("", kLabels)); }

TEST(Selector, MalformedSetTermIsAnInputError) {
  EXPECT_THROW(selector_matches("tier in db", kLabels), InputError);
}

TEST(Selector, LabelSelectorObjectRoundTrips) {
  nlohmann::json s = {{"matchLabels", {{"app", "checkout"}}},
                      {"matchExpressions", {{{"key", "tier"}, {"operator", "In"}, {"values", {"web", "api"}}},
                                            {{"key", "legacy"}, {"operator", "DoesNotExist"}}}}};
  std::string text = selector_to_string(s);
  EXPECT_EQ(text, "app=checkout,tier in (web,api),!legacy");
  EXPECT_TRUE(selector_matches(text, kLabels));
}

}  // namespace
}  // namespace faultline::chaos
