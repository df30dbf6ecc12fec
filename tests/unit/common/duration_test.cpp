// Durations, ratios and rates as users write them, and the ones refused:
// nothing parses into infinity or a value a conversion would overflow.
#include "runner/common/duration.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

TEST(Duration, ParsesTheUsualForms) {
  EXPECT_DOUBLE_EQ(parse_duration("90s")->count(), 90);
  EXPECT_DOUBLE_EQ(parse_duration("1m30s")->count(), 90);
  EXPECT_DOUBLE_EQ(parse_duration("250ms")->count(), 0.25);
  EXPECT_DOUBLE_EQ(parse_duration("2")->count(), 2);
  EXPECT_DOUBLE_EQ(parse_duration("8784h")->count(), kMaxDuration.count());
}

TEST(Duration, RefusesNegativeMalformedAndHugeValues) {
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("5 parsecs"));
  EXPECT_FALSE(parse_duration("8785h"));
  std::string digits400(400, '9');
  EXPECT_FALSE(parse_duration(digits400));
  EXPECT_FALSE(parse_duration(digits400 + "s"));
  EXPECT_TRUE(duration_too_long(digits400 + "s"));
  EXPECT_TRUE(duration_too_long("8785h"));
  EXPECT_FALSE(duration_too_long("5 parsecs"));
  EXPECT_FALSE(duration_too_long("90s"));
}

TEST(Duration, FormatsHugeValuesWithoutConvertingThemToAnInteger) {
  EXPECT_EQ(format_duration(Seconds(1e300)), "1e+300s");
  EXPECT_EQ(format_duration(kMaxDuration), "8784h");
}

TEST(Duration, RatiosAndRatesRefuseInfinity) {
  EXPECT_FALSE(parse_ratio(std::string(400, '9') + "%"));
  EXPECT_FALSE(parse_rate(std::string(400, '9') + "/s"));
  EXPECT_DOUBLE_EQ(*parse_rate("20/s"), 20);
  EXPECT_DOUBLE_EQ(*parse_ratio("99.5%"), 0.995);
}

}  // namespace
}  // namespace faultline
