// The host modules: every function reaches the right HostApi method with its
// arguments, returns its result, and refuses misuse with file:line errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/script/script_fixture.h"

namespace faultline::script::testing {
namespace {

using ::testing::ElementsAre;
using json = nlohmann::json;

using BindingsTest = ScriptTest;

TEST_F(BindingsTest, EveryFunctionReachesTheHostWithItsArguments) {
  run(R"(
cluster.zones()
cluster.nodes()
cluster.nodes{ zone = "zone-a" }
cluster.pods{ namespace = "shop", selector = "app=checkout" }
cluster.workloads{ namespace = "shop" }
cluster.pdbs{ namespace = "shop" }
chaos.cordon_zone("zone-a")
chaos.uncordon_zone("zone-a")
chaos.cordon_node("node-1")
chaos.uncordon_node("node-1")
chaos.drain_zone("zone-a", { timeout = "120s", grace = 30 })
chaos.drain_node("node-1")
chaos.kill_pods{ selector = "app=checkout", zone = "zone-a", count = 2, grace = 0 }
chaos.violate_pdb{ pdb = "checkout", by = 1 }
chaos.fail_zone("zone-b", { duration = 90 })
chaos.restore_zone("zone-b")
wait.until_ready{ selector = "app=checkout", off_zone = "zone-a", within = "2m" }
wait.sleep(1.5)
probe.http{ url = "http://127.0.0.1:8080/healthz", timeout = "1s", expect_status = 200 }
probe.query{ query = "up" }
log.mark("zone-a failed")
)");
  const std::vector<std::pair<std::string, json>> expected = {
      {"cluster.zones", json::array()},
      {"cluster.nodes", json::array({json::object()})},
      {"cluster.nodes", json::array({{{"zone", "zone-a"}}})},
      {"cluster.pods", json::array({{{"namespace", "shop"}, {"selector", "app=checkout"}}})},
      {"cluster.workloads", json::array({{{"namespace", "shop"}}})},
      {"cluster.pdbs", json::array({{{"namespace", "shop"}}})},
      {"chaos.cordon_zone", json::array({"zone-a"})},
      {"chaos.uncordon_zone", json::array({"zone-a"})},
      {"chaos.cordon_node", json::array({"node-1"})},
      {"chaos.uncordon_node", json::array({"node-1"})},
      {"chaos.drain_zone", json::array({"zone-a", {{"timeout", "120s"}, {"grace", 30}}})},
      {"chaos.drain_node", json::array({"node-1", json::object()})},
      {"chaos.kill_pods",
       json::array(
           {{{"selector", "app=checkout"}, {"zone", "zone-a"}, {"count", 2}, {"grace", 0}}})},
      {"chaos.violate_pdb", json::array({{{"pdb", "checkout"}, {"by", 1}}})},
      {"chaos.fail_zone", json::array({"zone-b", {{"duration", 90}}})},
      {"chaos.restore_zone", json::array({"zone-b"})},
      {"wait.until_ready",
       json::array({{{"selector", "app=checkout"}, {"off_zone", "zone-a"}, {"within", "2m"}}})},
      {"wait.sleep", json::array({1.5})},
      {"probe.http", json::array({{{"url", "http://127.0.0.1:8080/healthz"},
                                   {"timeout", "1s"},
                                   {"expect_status", 200}}})},
      {"probe.query", json::array({{{"query", "up"}}})},
      {"log.mark", json::array({"zone-a failed"})},
  };
  ASSERT_EQ(api.calls.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(api.calls[i].function, expected[i].first) << i;
    EXPECT_EQ(api.calls[i].args, expected[i].second) << expected[i].first;
  }
}

TEST_F(BindingsTest, ResultsComeBackAsTables) {
  api.results["cluster.nodes"] = json::array(
      {{{"name", "node-1"}, {"zone", "zone-a"}, {"ready", true}, {"taints", json::array()}},
       {{"name", "node-2"}, {"zone", "zone-b"}, {"ready", false}, {"taints", json::array()}}});
  api.results["chaos.drain_zone"] = {
      {"evicted", 4}, {"skipped", {{{"pod", "ds-1"}, {"reason", "DaemonSet"}}}}, {"failed", 0}};
  api.results["probe.http"] = {
      {"ok", false}, {"status", 503}, {"latency_ms", 12.5}, {"error", nullptr}};
  run(R"(
local zones = cluster.zones()
log.info(#zones, zones[1], zones[3])
local nodes = cluster.nodes()
log.info(#nodes, nodes[1].name, nodes[2].zone, tostring(nodes[2].ready), #nodes[1].taints)
local r = chaos.drain_zone("zone-a")
log.info(r.evicted, r.skipped[1].pod, r.skipped[1].reason, r.failed)
local p = probe.http{ url = "http://127.0.0.1:1/" }
log.info(p.ok, p.status, p.latency_ms, p.error == nil)
r.evicted = 5 -- results are the script's own tables
)");
  ASSERT_EQ(api.logs.size(), 4u);
  EXPECT_EQ(api.logs[0].message, "3 zone-a zone-c");
  EXPECT_EQ(api.logs[1].message, "2 node-1 zone-b false 0");
  EXPECT_EQ(api.logs[2].message, "4 ds-1 DaemonSet 0");
  EXPECT_EQ(api.logs[3].message, "false 503 12.5 true");
}

TEST_F(BindingsTest, ArgumentTypeMisuseNamesTheFunctionAndLine) {
  EXPECT_STREQ(
      run_error("\nchaos.cordon_zone(42)\n").what(),
      "lua-scripts/main.lua:2: bad argument #1 to 'chaos.cordon_zone' (string expected, got "
      "number)");
  EXPECT_STREQ(
      run_error("chaos.cordon_zone()\n").what(),
      "lua-scripts/main.lua:1: bad argument #1 to 'chaos.cordon_zone' (string expected, got "
      "no value)");
  EXPECT_STREQ(
      run_error("chaos.cordon_node('')\n").what(),
      "lua-scripts/main.lua:1: bad argument #1 to 'chaos.cordon_node' (must not be empty)");
  EXPECT_STREQ(run_error("chaos.drain_zone('zone-a', '120s')\n").what(),
               "lua-scripts/main.lua:1: bad argument #2 to 'chaos.drain_zone' (table expected, got "
               "string)");
  EXPECT_STREQ(
      run_error("chaos.kill_pods()\n").what(),
      "lua-scripts/main.lua:1: bad argument #1 to 'chaos.kill_pods' (table expected, got no "
      "value)");
  EXPECT_STREQ(run_error("cluster.nodes('zone-a')\n").what(),
               "lua-scripts/main.lua:1: bad argument #1 to 'cluster.nodes' (table expected, got "
               "string)");
  EXPECT_STREQ(
      run_error("chaos.cordon_zone('zone-a', 'zone-b')\n").what(),
      "lua-scripts/main.lua:1: bad argument #2 to 'chaos.cordon_zone' (no value expected)");
  EXPECT_STREQ(
      run_error("log.mark(7)\n").what(),
      "lua-scripts/main.lua:1: bad argument #1 to 'log.mark' (string expected, got number)");
  EXPECT_STREQ(run_error("chaos.kill_pods{ 'app=checkout' }\n").what(),
               "lua-scripts/main.lua:1: bad argument #1 to 'chaos.kill_pods' (expected a table of "
               "named options, got a list)");
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(BindingsTest, MisuseThroughPcallNamesThePcallLine) {
  run("local ok, err = pcall(chaos.cordon_zone, 42)\nlog.info(err)\n");
  EXPECT_EQ(api.logs.at(0).message,
            "lua-scripts/main.lua:1: bad argument #1 to 'chaos.cordon_zone' (string expected, got "
            "number)");
}

TEST_F(BindingsTest, SleepTakesSecondsOrDurationStrings) {
  run("wait.sleep(2)\nwait.sleep('5s')\nwait.sleep('1m30s')\nwait.sleep('250ms')\nwait.sleep(0)\n");
  std::vector<double> seconds;
  for (const auto& call : api.calls) seconds.push_back(call.args[0].get<double>());
  EXPECT_THAT(seconds, ElementsAre(2, 5, 90, 0.25, 0));
}

TEST_F(BindingsTest, SleepRefusesBadDurations) {
  EXPECT_STREQ(run_error("wait.sleep('soon')\n").what(),
               "lua-scripts/main.lua:1: bad argument #1 to 'wait.sleep' (invalid duration 'soon' "
               "(expected e.g. \"5s\", \"2m\", \"250ms\" or seconds))");
  EXPECT_STREQ(run_error("wait.sleep(-1)\n").what(),
               "lua-scripts/main.lua:1: bad argument #1 to 'wait.sleep' (duration must be a "
               "non-negative number of seconds)");
  EXPECT_STREQ(run_error("wait.sleep(0/0)\n").what(),
               "lua-scripts/main.lua:1: bad argument #1 to 'wait.sleep' (duration must be a "
               "non-negative number of seconds)");
  EXPECT_STREQ(
      run_error("wait.sleep({})\n").what(),
      "lua-scripts/main.lua:1: bad argument #1 to 'wait.sleep' (duration (string or number) "
      "expected, got table)");
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(BindingsTest, LogPassesLevelMessageAndScriptLine) {
  run(R"(log.debug("d")
log.info("zone", "zone-a", "has", 3, "nodes", true, nil)
log.warn("w")

log.error("e")
print("printed", 1)
)");
  ASSERT_EQ(api.logs.size(), 5u);
  EXPECT_EQ(api.logs[0].level, "debug");
  EXPECT_EQ(api.logs[0].where, "lua-scripts/main.lua:1");
  EXPECT_EQ(api.logs[1].level, "info");
  EXPECT_EQ(api.logs[1].message, "zone zone-a has 3 nodes true nil");
  EXPECT_EQ(api.logs[2].level, "warn");
  EXPECT_EQ(api.logs[3].level, "error");
  EXPECT_EQ(api.logs[3].where, "lua-scripts/main.lua:5");
  EXPECT_EQ(api.logs[4].level, "info");
  EXPECT_EQ(api.logs[4].message, "printed 1");
  EXPECT_EQ(api.logs[4].where, "lua-scripts/main.lua:6");
}

TEST_F(BindingsTest, LogUsesTostring) {
  run("log.info(setmetatable({}, { __tostring = function() return 'zone<a>' end }))\n");
  EXPECT_EQ(api.logs.at(0).message, "zone<a>");
}

TEST_F(BindingsTest, TargetCanBePassedBackToTheHost) {
  run("cluster.pods(target)\nchaos.kill_pods{ selector = target.selector, count = 1 }\n", nullptr,
      {{"namespace", "shop"}, {"selector", "app=checkout"}});
  ASSERT_EQ(api.calls.size(), 2u);
  EXPECT_EQ(api.calls[0].args,
            json::array({{{"namespace", "shop"}, {"selector", "app=checkout"}}}));
  EXPECT_EQ(api.calls[1].args, json::array({{{"selector", "app=checkout"}, {"count", 1}}}));
}

TEST_F(BindingsTest, ModuleTablesCanBeIterated) {
  run(R"(
local names = {}
for name in pairs(chaos) do names[#names + 1] = name end
table.sort(names)
log.info(table.concat(names, " "))
)");
  EXPECT_EQ(api.logs.at(0).message,
            "cordon_node cordon_zone drain_node drain_zone fail_zone kill_pods restore_zone "
            "uncordon_node uncordon_zone violate_pdb");
}

}  // namespace
}  // namespace faultline::script::testing
