#include "runner/observe/zone_counts.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace faultline::observe {
namespace {

// Read like the std::map it replaced: zone-name order whatever the order of
// insertion, operator[] inserts 0, at() throws on an absent zone.
TEST(ZoneCounts, ReadsLikeAMapInZoneNameOrder) {
  ZoneCounts c;
  c["zone-c"] = 3;
  c["zone-a"] += 1;
  c["zone-b"];
  std::vector<std::pair<std::string, int>> seen;
  for (const auto& [zone, n] : c) seen.emplace_back(zone, n);
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, int>>{
                      {"zone-a", 1}, {"zone-b", 0}, {"zone-c", 3}}));
  EXPECT_EQ(c.at("zone-c"), 3);
  EXPECT_EQ(c.count("zone-b"), 1u);
  EXPECT_EQ(c.count("never-seen-zone"), 0u);
  EXPECT_THROW(c.at("never-seen-zone-either"), std::out_of_range);
  EXPECT_EQ(c, (std::map<std::string, int>{{"zone-a", 1}, {"zone-b", 0}, {"zone-c", 3}}));
  EXPECT_FALSE(c == (std::map<std::string, int>{{"zone-a", 1}, {"zone-b", 0}}));
}

// Built from a map or a list: equal whatever the order they were given in.
TEST(ZoneCounts, EqualWhateverTheOrderOfConstruction) {
  ZoneCounts a = {{"y", 2}, {"x", 1}};
  ZoneCounts b = std::map<std::string, int>{{"x", 1}, {"y", 2}};
  EXPECT_EQ(a, b);
  b["x"] = 5;
  EXPECT_FALSE(a == b);
  EXPECT_EQ(a.size(), 2u);
}

// Eight bytes a zone: what makes a sample small (a std::map node was ~80).
TEST(ZoneCounts, KeepsEightBytesAZone) {
  EXPECT_EQ(sizeof(detail::ZoneCount), 8u);
  EXPECT_EQ(zone_name(zone_id("zone-q")), "zone-q");
  EXPECT_EQ(zone_id("zone-q"), zone_id(std::string("zone-") + "q"));
  EXPECT_NE(zone_id("zone-q"), zone_id("zone-r"));
}

TEST(ZoneSet, ReadsLikeASetInZoneNameOrder) {
  ZoneSet s = {"c", "a"};
  s.insert("b");
  s.insert("a");
  EXPECT_EQ(std::vector<std::string>(s.begin(), s.end()),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s.count("a"), 1u);
  EXPECT_EQ(s.count("unknown-zone-z"), 0u);
  EXPECT_EQ(s, (std::set<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s, ZoneSet(std::set<std::string>{"b", "c", "a"}));
  EXPECT_FALSE(ZoneSet{}.size());
}

// Three zones (almost every cluster) are held in the object, more go to the
// heap; either way they read, copy and move the same.
TEST(ZoneCounts, ThreeZonesInlineMoreOnTheHeapReadTheSame) {
  static_assert(sizeof(ZoneCounts) == 32, "3 zones inline, no heap block");
  static_assert(sizeof(ZoneSet) == 24, "4 zones inline, no heap block");
  std::map<std::string, int> want;
  ZoneCounts c;
  for (const char* z : {"zone-f", "zone-b", "zone-d", "zone-a", "zone-e", "zone-c", "zone-g"}) {
    c[z] = static_cast<int>(want.size()) + 1;
    want[z] = static_cast<int>(want.size()) + 1;
    ZoneCounts copy = c;
    EXPECT_EQ(copy, want) << "after " << z;
    ZoneCounts moved = std::move(copy);
    EXPECT_EQ(moved, c);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from one is empty
    copy = moved;               // and takes a value again
    EXPECT_EQ(copy, want);
  }
  ZoneCounts small = {{"zone-b", 2}, {"zone-a", 1}};
  small = c;  // inline takes a heap-held one
  EXPECT_EQ(small, want);
  c = ZoneCounts{{"zone-x", 9}};  // a heap-held one takes an inline one
  EXPECT_EQ(c, (std::map<std::string, int>{{"zone-x", 9}}));
  EXPECT_EQ(c.at("zone-x"), 9);
  EXPECT_EQ(small.at("zone-g"), 7);

  ZoneSet s;
  for (const char* z : {"zone-e", "zone-a", "zone-d", "zone-b", "zone-c"}) s.insert(z);
  ZoneSet s2 = s;
  EXPECT_EQ(s2, (std::set<std::string>{"zone-a", "zone-b", "zone-c", "zone-d", "zone-e"}));
}

}  // namespace
}  // namespace faultline::observe
