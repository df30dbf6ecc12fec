// Strict YAML: the inputs yaml-cpp accepts silently (a duplicate key) or
// dangerously (an alias cycle, unbounded nesting, a huge file), each refused
// with one line naming file:line:col.
#include "runner/common/yaml_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace faultline {
namespace {

std::string error_of(const std::string& text) {
  try {
    YamlReader::load_text("exp.yaml", text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(YamlReader, DuplicateKey_IsAnErrorAtTheSecondOne) {
  EXPECT_EQ(error_of("spec:\n  guards: { max_zones: 1 }\n  guards: { max_zones: 3 }\n"),
            "exp.yaml:3:3: duplicate key \"guards\" (first at line 2)");
  EXPECT_EQ(error_of("{ a: 1, a: 2 }"), "exp.yaml:1:9: duplicate key \"a\" (first at line 1)");
}

TEST(YamlReader, AliasCycle_IsRefusedNotRecursedInto) {
  EXPECT_EQ(error_of("params: &a [ *a ]\n"),
            "exp.yaml:1:9: nesting deeper than 32 levels (or an alias that contains itself)");
}

TEST(YamlReader, DeepNesting_IsRefused) {
  std::string deep(40, '[');
  deep += std::string(40, ']');
  EXPECT_EQ(error_of("x: " + deep + "\n"),
            "exp.yaml:1:36: nesting deeper than 32 levels (or an alias that contains itself)");
  // Far past yaml-cpp's own recursion: its depth guard answers, no stack overflow.
  std::string very(100000, '[');
  EXPECT_NE(error_of(very).find("exp.yaml:1:"), std::string::npos);
}

TEST(YamlReader, AliasBomb_IsBoundedAfterExpansion) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'h'; ++c, ++prev)
    text += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + "]\n";
  EXPECT_NE(error_of(text).find("more than 100000 values (aliases expanded)"), std::string::npos)
      << error_of(text);
}

TEST(YamlReader, HugeText_IsRefusedByItsSize) {
  std::string big(YamlReader::kMaxBytes + 1, '#');
  EXPECT_EQ(error_of(big), "exp.yaml: 1048577 bytes; a spec may have at most 1048576 bytes");
}

TEST(YamlReader, HugeFile_IsRefusedWithoutReadingItAll) {
  auto path = std::filesystem::temp_directory_path() / "faultline-huge-spec.yaml";
  {
    std::ofstream out(path);
    out << std::string(3 * YamlReader::kMaxBytes, '#');
  }
  std::string err;
  try {
    YamlReader::load_file(path.string());
  } catch (const InputError& e) {
    err = e.what();
  }
  std::filesystem::remove(path);
  EXPECT_EQ(err, path.string() + ": larger than 1048576 bytes, the most a spec may have");
}

TEST(YamlReader, TabIndentation_SaysTab) {
  EXPECT_EQ(error_of("spec:\n\tscript: x.lua\n"),
            "exp.yaml:2:1: tab character in indentation (YAML indents with spaces only)");
  EXPECT_EQ(error_of("spec:\n  \tscript: x.lua\n"),
            "exp.yaml:2:3: tab character in indentation (YAML indents with spaces only)");
  EXPECT_EQ(error_of("spec: { query: \"a\tb\" }\n"), "");  // a tab inside a value is fine
}

TEST(YamlReader, SelectorSyntax_IsCheckedWhereItIsWritten) {
  auto root = YamlReader::load_text("exp.yaml", "target:\n  selector: app=we b\n");
  std::string err;
  try {
    root["target"]["selector"].as_selector("spec.target.selector");
  } catch (const InputError& e) {
    err = e.what();
  }
  EXPECT_EQ(err,
            "exp.yaml:2:13: spec.target.selector: label selector \"app=we b\": expected \",\" or "
            "the end after a "
            "requirement, got \"b\"");
}

TEST(YamlReader, HugeDuration_IsTooLongNotInfinite) {
  auto root = YamlReader::load_text("exp.yaml", "warmup: " + std::string(400, '9') + "s\n");
  std::string err;
  try {
    root["warmup"].as_duration("timing.warmup");
  } catch (const InputError& e) {
    err = e.what();
  }
  EXPECT_EQ(err, "exp.yaml:1:9: timing.warmup: duration \"" + std::string(400, '9') +
                     "s\" is too long (at most 8784h)");
}

TEST(YamlReader, TwentyDigitInteger_IsAWholeNumberError) {
  auto root = YamlReader::load_text("exp.yaml", "max_zones: 99999999999999999999\n");
  std::string err;
  try {
    root["max_zones"].as_int("guards.max_zones");
  } catch (const InputError& e) {
    err = e.what();
  }
  EXPECT_EQ(
      err,
      "exp.yaml:1:12: guards.max_zones: expected a whole number, got \"99999999999999999999\"");
}

}  // namespace
}  // namespace faultline
