// Lua <-> JSON across the host boundary: what the host returns comes back
// unchanged when a script passes it on, and values JSON cannot hold are
// refused with the path of the offending field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/script/script_fixture.h"

namespace faultline::script::testing {
namespace {

using json = nlohmann::json;

using ConvertTest = ScriptTest;

TEST_F(ConvertTest, RoundTripKeepsEveryJsonShape) {
  const json value = {
      {"string", "zone-ä \u2713"},
      {"integer", 42},
      {"negative", -7},
      {"big", 9007199254740993},
      {"float", 2.5},
      {"true", true},
      {"false", false},
      {"list", {1, "two", 3.5, false}},
      {"nested", {{"deeper", {{"list", {{{"a", 1}}, {{"b", 2}}}}}}}},
      {"empty_object", json::object()},
  };
  api.results["cluster.workloads"] = value;
  run("chaos.kill_pods(cluster.workloads())\n");
  ASSERT_EQ(api.calls.size(), 2u);
  EXPECT_EQ(api.calls[1].args[0], value);
  // Integers stay integers, floats stay floats.
  EXPECT_TRUE(api.calls[1].args[0]["integer"].is_number_integer());
  EXPECT_TRUE(api.calls[1].args[0]["float"].is_number_float());
}

TEST_F(ConvertTest, ParamsPassBackUnchanged) {
  const json params = {
      {"zone", "zone-a"}, {"zones", {"zone-a", "zone-b"}}, {"by", 1}, {"ratio", 0.5}};
  run("chaos.violate_pdb(params)\n", params);
  EXPECT_EQ(api.calls.at(0).args[0], params);
}

TEST_F(ConvertTest, NullBecomesNilAndIsDropped) {
  api.results["cluster.pdbs"] = {
      {"name", "checkout"}, {"max_unavailable", nullptr}, {"list", {1, nullptr, 3}}};
  run(R"(
local p = cluster.pdbs()
log.info(p.max_unavailable == nil, p.list[1], p.list[2] == nil, p.list[3])
chaos.violate_pdb{ pdb = p.name, by = nil }
)");
  EXPECT_EQ(api.logs.at(0).message, "true 1 true 3");
  EXPECT_EQ(api.calls.back().args[0], json({{"pdb", "checkout"}}));
}

TEST_F(ConvertTest, EmptyTableIsAnEmptyObject) {
  run("cluster.pods{}\nchaos.kill_pods{ labels = {} }\n");
  EXPECT_EQ(api.calls[0].args[0], json::object());
  EXPECT_EQ(api.calls[1].args[0], json({{"labels", json::object()}}));
}

TEST_F(ConvertTest, SequencesBecomeArrays) {
  run("chaos.kill_pods{ names = { 'a', 'b', 'c' }, nums = { [1] = 1, [2] = 2 } }\n");
  EXPECT_EQ(api.calls[0].args[0], json({{"names", {"a", "b", "c"}}, {"nums", {1, 2}}}));
}

TEST_F(ConvertTest, ValuesWithoutJsonFormAreRefusedWithTheirPath) {
  const std::string prefix = "lua-scripts/main.lua:1: bad argument #1 to 'chaos.kill_pods' (";
  EXPECT_EQ(run_error("chaos.kill_pods{ selector = print }\n").what(),
            prefix + "options.selector: a function cannot be passed to the host)");
  EXPECT_EQ(run_error("chaos.kill_pods{ count = 0/0 }\n").what(),
            prefix + "options.count: NaN and infinity cannot be passed to the host)");
  EXPECT_EQ(run_error("chaos.kill_pods{ count = math.huge }\n").what(),
            prefix + "options.count: NaN and infinity cannot be passed to the host)");
  EXPECT_EQ(run_error("chaos.kill_pods{ zone = 'zone-\\xff' }\n").what(),
            prefix + "options.zone: string is not valid UTF-8)");
  EXPECT_EQ(run_error("chaos.kill_pods{ names = { 'a', nil, 'c' } }\n").what(),
            prefix +
                "options.names: a table mixing string and number keys (or an array with holes) "
                "cannot be passed to the host)");
  EXPECT_EQ(run_error("chaos.kill_pods{ names = { 'a', x = 1 } }\n").what(),
            prefix +
                "options.names: a table mixing string and number keys (or an array with holes) "
                "cannot be passed to the host)");
  EXPECT_EQ(run_error("chaos.kill_pods{ m = { [true] = 1 } }\n").what(),
            prefix +
                "options.m: a table key of type boolean cannot be passed to the host (keys "
                "must be strings, or 1..n))");
  EXPECT_EQ(run_error("chaos.kill_pods{ l = { { {}, print } } }\n").what(),
            prefix + "options.l[1][2]: a function cannot be passed to the host)");
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(ConvertTest, CyclesAreRefused) {
  const auto e = run_error("local t = {}\nt.self = t\nchaos.kill_pods(t)\n");
  EXPECT_THAT(e.what(), ::testing::StartsWith("lua-scripts/main.lua:3: bad argument #1 to "
                                              "'chaos.kill_pods' (options.self.self.self"));
  EXPECT_THAT(e.what(),
              ::testing::HasSubstr("tables nested more than 32 levels deep (is there a cycle?))"));
}

TEST_F(ConvertTest, InvalidUtf8SequencesAreRefused) {
  // Overlong '/', a lone surrogate, a truncated sequence, a code point past U+10FFFF.
  for (const std::string bad :
       {"\\xc0\\xaf", "\\xed\\xa0\\x80", "abc\\xe2\\x82", "\\xf4\\x90\\x80\\x80"}) {
    EXPECT_THAT(run_error("chaos.kill_pods{ zone = '" + bad + "' }\n").what(),
                ::testing::HasSubstr("options.zone: string is not valid UTF-8"))
        << bad;
  }
}

}  // namespace
}  // namespace faultline::script::testing
