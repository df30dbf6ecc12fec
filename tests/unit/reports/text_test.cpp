#include "reports/text.h"

#include <gtest/gtest.h>

#include <cmath>

#include "reports/timeline_svg.h"

namespace faultline::reports {
namespace {

TEST(Rfc3339, ParsesUtcOffsetsAndFractions) {
  EXPECT_EQ(text::parse_rfc3339("1970-01-01T00:00:00Z"), 0.0);
  EXPECT_EQ(text::parse_rfc3339("2025-03-04T02:02:00Z"), 1741053720.0);
  EXPECT_EQ(text::parse_rfc3339("2025-03-04T04:02:00+02:00"), 1741053720.0);
  EXPECT_EQ(text::parse_rfc3339("2025-03-03T23:32:00-02:30"), 1741053720.0);
  EXPECT_EQ(text::parse_rfc3339("2025-03-04t02:02:00.25z"), 1741053720.25);
}

TEST(Rfc3339, RejectsWhatIsNotOne) {
  for (const char* bad :
       {"", "yesterday", "2025-03-04", "2025-03-04 02:02:00Z", "2025-03-04T02:02:00",
        "2025-02-30T00:00:00Z", "2025-13-01T00:00:00Z", "2025-03-04T24:00:00Z",
        "2025-03-04T02:02:00.Z", "2025-03-04T02:02:00+0200", "2025-03-04T02:02:00Zjunk"}) {
    EXPECT_FALSE(text::parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(Escape, HtmlEscapesMarkupAndDropsControls) {
  EXPECT_EQ(text::html("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  EXPECT_EQ(text::html("a\x01\x1b[31mb\nc"), "a[31mb\nc");
}

TEST(Escape, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(text::valid_utf8("ok\xff\xfe!"), "ok\xEF\xBF\xBD\xEF\xBF\xBD!");
  EXPECT_EQ(text::valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong "/"
  EXPECT_EQ(text::valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(text::valid_utf8("zone-\xC3\xA9t\xC3\xA9 \xE2\x9C\x94"),
            "zone-\xC3\xA9t\xC3\xA9 \xE2\x9C\x94");
}

TEST(Escape, XmlReplacesForbiddenCharactersAndKeepsNewlinesInAttributes) {
  EXPECT_EQ(text::xml("a<b>&\x01"), "a&lt;b&gt;&amp;\xEF\xBF\xBD");
  EXPECT_EQ(text::xml_attr("line1\nline2\t\"q\""), "line1&#10;line2&#9;&quot;q&quot;");
}

TEST(Escape, MarkdownKeepsTextAsText) {
  EXPECT_EQ(text::markdown("a|b [x](http://e) <b>*y*</b>\nz"),
            "a\\|b \\[x\\](http://e) \\<b>\\*y\\*\\</b> z");
}

TEST(Format, SecondsForHumans) {
  EXPECT_EQ(text::seconds(0), "0s");
  EXPECT_EQ(text::seconds(41.34), "41.3s");
  EXPECT_EQ(text::seconds(192.4), "3m12s");
  EXPECT_EQ(text::seconds(3720), "1h2m");
  EXPECT_EQ(text::seconds(0.25), "300ms");  // rounded to a tenth first
  EXPECT_EQ(text::number(99.50, 2), "99.5");
  EXPECT_EQ(text::number(std::nan(""), 2), "n/a");
}

TEST(Downsample, KeepsAOneSampleDipAndGaps) {
  std::vector<std::pair<double, double>> points;
  for (int i = 0; i < 10000; ++i) {
    double v = i == 4321 ? 0.2 : 1.0;
    if (i == 7000) v = std::nan("");
    points.emplace_back(i * 0.1, v);
  }
  auto out = downsample(points, 0, 1000, 500);
  EXPECT_LE(out.size(), 1002u);
  auto dip = std::find_if(out.begin(), out.end(), [](const auto& p) { return p.second == 0.2; });
  ASSERT_NE(dip, out.end());
  EXPECT_DOUBLE_EQ(dip->first, 432.1);
  EXPECT_EQ(
      std::count_if(out.begin(), out.end(), [](const auto& p) { return std::isnan(p.second); }), 1);
}

TEST(Downsample, LeavesShortSeriesAlone) {
  std::vector<std::pair<double, double>> points = {{0, 1}, {1, 0.5}, {2, 1}};
  EXPECT_EQ(downsample(points, 0, 2, 500), points);
}

}  // namespace
}  // namespace faultline::reports
