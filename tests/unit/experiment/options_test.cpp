// Script option tables: counts are range-checked before any narrowing, so
// `by = math.maxinteger` or `count = 1e30` is a script error, not UB.
#include "runner/experiment/options.h"

#include <gtest/gtest.h>

#include "runner/script/host_api.h"

namespace faultline::experiment {
namespace {

using json = nlohmann::json;

std::string error_of(const json& options, const std::string& key, int min, int max) {
  try {
    Options(options, "chaos.violate_pdb", {"by", "count"}).integer_in(key, min, max);
  } catch (const script::HostError& e) {
    return e.what();
  }
  return "";
}

TEST(Options, IntegerInRange_RefusesOutOfRangeWithoutNarrowing) {
  EXPECT_EQ(*Options(json{{"by", 3}}, "f", {"by"}).integer_in("by", 1, 10), 3);
  EXPECT_EQ(
      error_of(json{{"by", 2147483647LL}}, "by", 1, 1000000),
      "chaos.violate_pdb: option \"by\" must be a whole number from 1 to 1000000, got 2147483647");
  EXPECT_EQ(error_of(json{{"by", 9223372036854775807LL}}, "by", 1, 1000000),
            "chaos.violate_pdb: option \"by\" must be a whole number from 1 to 1000000, got "
            "9223372036854775807");
  EXPECT_EQ(
      error_of(json{{"count", 1e30}}, "count", 1, 1000000),
      "chaos.violate_pdb: option \"count\" must be a whole number from 1 to 1000000, got 1e+30");
  EXPECT_EQ(error_of(json{{"count", 4294967298LL}}, "count", 1, 1000000),
            "chaos.violate_pdb: option \"count\" must be a whole number from 1 to 1000000, got "
            "4294967298");
  EXPECT_EQ(error_of(json{{"by", 0}}, "by", 1, 1000000),
            "chaos.violate_pdb: option \"by\" must be a whole number from 1 to 1000000, got 0");
  EXPECT_EQ(error_of(json{{"by", 1.5}}, "by", 1, 1000000),
            "chaos.violate_pdb: option \"by\" must be a whole number from 1 to 1000000, got 1.5");
}

TEST(Options, Seconds_RefusesHugeValues) {
  EXPECT_THROW(Options(json{{"within", 1e300}}, "f", {"within"}).seconds("within"),
               script::HostError);
  EXPECT_THROW(
      Options(json{{"within", std::string(400, '9') + "s"}}, "f", {"within"}).seconds("within"),
      script::HostError);
  EXPECT_DOUBLE_EQ(*Options(json{{"within", "90s"}}, "f", {"within"}).seconds("within"), 90);
}

}  // namespace
}  // namespace faultline::experiment
