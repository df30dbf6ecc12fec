// LuaHost::check and run: compile errors, runtime errors with file:line and
// traceback, phase functions, params/target, and how host exceptions end a run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runner/common/error.h"
#include "tests/test_paths.h"
#include "tests/unit/script/script_fixture.h"

namespace faultline::script::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

using LuaHostTest = ScriptTest;

TEST_F(LuaHostTest, Check_SyntaxErrorIsInputErrorWithFileAndLine) {
  write("zone_outage.lua", "local zone = params.zone\nchaos.cordon_zone(zone\nlog.info('x')\n");
  EXPECT_EQ(input_error([&] { host().check("zone_outage.lua"); }),
            "lua-scripts/zone_outage.lua:3: ')' expected (to close '(' at line 2) near 'log'");
}

TEST_F(LuaHostTest, Check_SyntaxErrorInSubdirectoryNamesThePath) {
  write("custom/drill.lua", "x = = 1\n");
  EXPECT_EQ(input_error([&] { host().check("custom/drill.lua"); }),
            "lua-scripts/custom/drill.lua:1: unexpected symbol near '='");
}

TEST_F(LuaHostTest, Check_MissingFileIsInputError) {
  EXPECT_EQ(input_error([&] { host().check("nope.lua"); }),
            "lua-scripts/nope.lua: cannot read: No such file or directory");
}

// `--scripts DIR`: every message and log location names the folder the
// script came from, as the user gave it, not "lua-scripts/".
TEST_F(LuaHostTest, ScriptsFromAnotherFolder_AreNamedByThatFolder) {
  const auto drills = base_ / "team" / "my-drills";
  std::filesystem::create_directories(drills / "lib");
  std::ofstream(drills / "bad.lua") << "x = = 1\n";
  std::ofstream(drills / "lib" / "steps.lua") << "return { go = function() error('boom') end }\n";
  std::ofstream(drills / "main.lua")
      << "log.info('hello')\nlocal steps = require('lib.steps')\nsteps.go()\n";
  const LuaHost custom("team/my-drills");
  EXPECT_EQ(input_error([&] { custom.check("bad.lua"); }),
            "team/my-drills/bad.lua:1: unexpected symbol near '='");
  EXPECT_EQ(input_error([&] { custom.check("nope.lua"); }),
            "team/my-drills/nope.lua: cannot read: No such file or directory");
  try {
    custom.run("main.lua", api, nullptr, nullptr, {});
    ADD_FAILURE() << "no ScriptError";
  } catch (const ScriptError& e) {
    EXPECT_STREQ(e.what(), "team/my-drills/lib/steps.lua:1: boom");
    EXPECT_EQ(e.where(), "team/my-drills/lib/steps.lua:1");
    EXPECT_THAT(e.traceback(), HasSubstr("team/my-drills/main.lua:3: in main chunk"));
  }
  ASSERT_FALSE(api.logs.empty());
  EXPECT_EQ(api.logs[0].where, "team/my-drills/main.lua:1");

  // An absolute folder (a trailing slash is not doubled).
  const LuaHost absolute(drills.string() + "/");
  EXPECT_EQ(input_error([&] { absolute.check("nope.lua"); }),
            drills.string() + "/nope.lua: cannot read: No such file or directory");
}

// Lua shortens a chunk name over LUA_IDSIZE to "...<tail>": the message is
// still located once (not prefixed with the script name a second time).
TEST_F(LuaHostTest, ScriptsFromADeepFolder_KeepOneLocation) {
  const auto deep = base_ / std::string(80, 'd');
  std::filesystem::create_directories(deep);
  std::ofstream(deep / "main.lua") << "local x = nil\nreturn x.y\n";
  const LuaHost host_deep(deep.string());
  try {
    host_deep.run("main.lua", api, nullptr, nullptr, {});
    ADD_FAILURE() << "no ScriptError";
  } catch (const ScriptError& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, StartsWith("..."));
    EXPECT_THAT(what, HasSubstr("/main.lua:2: attempt to index"));
    EXPECT_EQ(what.find("main.lua"), what.rfind("main.lua")) << what;
  }
}

TEST_F(LuaHostTest, Check_RefusesNamesOutsideTheScriptsRoot) {
  for (const std::string name :
       {"../etc/passwd", "/etc/passwd", "lib/../../x.lua", "./x.lua", ""}) {
    EXPECT_EQ(input_error([&] { host().check(name); }),
              "script '" + name +
                  "': expected a file name relative to lua-scripts/ (no absolute path, no '..')")
        << name;
  }
}

TEST_F(LuaHostTest, Check_RefusesBytecode) {
  write("binary.lua", std::string("\x1bLua\x54\x00\x19\x93\r\n\x1a\n", 12));
  EXPECT_EQ(input_error([&] { host().check("binary.lua"); }),
            "lua-scripts/binary.lua: attempt to load a binary chunk (mode is 't')");
}

TEST_F(LuaHostTest, Check_CompilesWithoutRunning) {
  write("main.lua", "chaos.cordon_zone('zone-a')\nerror('ran')\n");
  host().check("main.lua");
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(LuaHostTest, Run_SyntaxErrorIsInputErrorAndNothingIsCalled) {
  EXPECT_EQ(input_error([&] { run("chaos.cordon_zone('zone-a')\nif then\n"); }),
            "lua-scripts/main.lua:2: unexpected symbol near 'then'");
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(LuaHostTest, Run_ParamsMustBeAnObject) {
  EXPECT_EQ(input_error([&] { run("", nlohmann::json::array({1})); }),
            "params: expected a mapping of names to values, got array");
  EXPECT_EQ(input_error([&] { run("", nullptr, "x"); }),
            "target: expected a mapping of names to values, got string");
}

TEST_F(LuaHostTest, Run_ErrorCarriesFileLineAndTraceback) {
  const auto e =
      run_error("local function fail(what)\n  error('boom: ' .. what)\nend\n\nfail('zone-a')\n");
  EXPECT_EQ(e.kind(), ScriptError::Kind::Runtime);
  EXPECT_STREQ(e.what(), "lua-scripts/main.lua:2: boom: zone-a");
  EXPECT_EQ(e.where(), "lua-scripts/main.lua:2");
  EXPECT_THAT(e.traceback(), StartsWith("stack traceback:"));
  EXPECT_THAT(e.traceback(), HasSubstr("lua-scripts/main.lua:2: in "));
  EXPECT_THAT(e.traceback(), HasSubstr("lua-scripts/main.lua:5: in main chunk"));
}

TEST_F(LuaHostTest, Run_ErrorAtLevelTwoNamesTheCaller) {
  const auto e = run_error(
      "local function check(x)\n  if not x then error('x is required', 2) end\nend\ncheck(nil)\n");
  EXPECT_STREQ(e.what(), "lua-scripts/main.lua:4: x is required");
  EXPECT_EQ(e.where(), "lua-scripts/main.lua:4");
}

TEST_F(LuaHostTest, Run_ErrorWithoutPositionGetsTheInnermostLine) {
  EXPECT_STREQ(run_error("local a = 1\nerror('plain', 0)\n").what(),
               "lua-scripts/main.lua:2: plain");
  EXPECT_STREQ(run_error("\nerror({code = 7})\n").what(),
               "lua-scripts/main.lua:2: (error object is a table value)");
  EXPECT_STREQ(
      run_error("error(setmetatable({}, {__tostring = function() return 'custom' end}), 0)\n")
          .what(),
      "lua-scripts/main.lua:1: custom");
}

TEST_F(LuaHostTest, Run_RuntimeTypeErrorsNameTheLine) {
  EXPECT_STREQ(run_error("local t = nil\n\nreturn t.x\n").what(),
               "lua-scripts/main.lua:3: attempt to index a nil value (local 't')");
  EXPECT_STREQ(run_error("assert(1 == 2, 'math broke')\n").what(),
               "lua-scripts/main.lua:1: math broke");
}

TEST_F(LuaHostTest, Run_PhaseFunctionsRunInOrderAfterTheChunk) {
  run(R"(
function verify() log.mark("verify") end
function inject() log.mark("inject") end
function steady_state() log.mark("steady_state") end
log.mark("chunk")
)");
  EXPECT_THAT(api.marks, ElementsAre("chunk", "steady_state", "inject", "verify"));
}

TEST_F(LuaHostTest, Run_PhaseFunctionsAreOptional) {
  run("function inject() log.mark('inject') end\n");
  EXPECT_THAT(api.marks, ElementsAre("inject"));
  api.marks.clear();
  run("log.mark('plain')\n");
  EXPECT_THAT(api.marks, ElementsAre("plain"));
}

TEST_F(LuaHostTest, Run_ErrorInAPhaseStopsTheLaterPhases) {
  const auto e = run_error(R"(function steady_state() log.mark("steady") end
function inject()
  error("inject failed")
end
function verify() log.mark("verify") end
)");
  EXPECT_STREQ(e.what(), "lua-scripts/main.lua:3: inject failed");
  EXPECT_THAT(e.traceback(), HasSubstr("in function 'inject'"));
  EXPECT_THAT(api.marks, ElementsAre("steady"));
}

TEST_F(LuaHostTest, Run_PhaseThatIsNotAFunctionIsAnError) {
  EXPECT_STREQ(run_error("inject = 42\n").what(),
               "lua-scripts/main.lua: global 'inject' must be a function (got number)");
}

TEST_F(LuaHostTest, Run_RollbackPhaseIsRefused) {
  EXPECT_THAT(run_error("function inject() end\nfunction rollback() end\n").what(),
              StartsWith("lua-scripts/main.lua: a global 'rollback' is not supported"));
}

TEST_F(LuaHostTest, Run_ParamsAndTargetAreVisible) {
  run(R"(
log.info(params.zone, params.count, params.nested.list[2], #params.nested.list)
log.info(target.namespace, target.selector)
local keys = {}
for k in pairs(params) do keys[#keys + 1] = k end
table.sort(keys)
log.info(table.concat(keys, ","))
local sum = 0
for _, v in ipairs(params.nested.list) do sum = sum + v end
log.info(sum, params.missing == nil)
)",
      {{"zone", "zone-b"}, {"count", 2}, {"nested", {{"list", {10, 20, 30}}}}},
      {{"namespace", "shop"}, {"selector", "app=checkout"}});
  ASSERT_EQ(api.logs.size(), 4u);
  EXPECT_EQ(api.logs[0].message, "zone-b 2 20 3");
  EXPECT_EQ(api.logs[1].message, "shop app=checkout");
  EXPECT_EQ(api.logs[2].message, "count,nested,zone");
  EXPECT_EQ(api.logs[3].message, "60 true");
}

TEST_F(LuaHostTest, Run_NullParamsAreEmptyTables) {
  run("assert(next(params) == nil and params.zone == nil and target.selector == "
      "nil)\nlog.mark('ok')\n");
  EXPECT_THAT(api.marks, ElementsAre("ok"));
}

TEST_F(LuaHostTest, Run_ParamsAreReadOnly) {
  const nlohmann::json params = {{"zone", "zone-a"}, {"list", {1, 2}}};
  EXPECT_STREQ(run_error("params.zone = 'zone-b'\n", {}, params).what(),
               "lua-scripts/main.lua:1: attempt to modify read-only table 'params' (field zone)");
  EXPECT_STREQ(
      run_error("params.list[1] = 5\n", {}, params).what(),
      "lua-scripts/main.lua:1: attempt to modify read-only table 'params.list' (field [1])");
  EXPECT_STREQ(
      run_error("table.insert(params.list, 3)\n", {}, params).what(),
      "lua-scripts/main.lua:1: attempt to modify read-only table 'params.list' (field [3])");
  EXPECT_STREQ(run_error("rawset(params, 'zone', 'zone-b')\n", {}, params).what(),
               "lua-scripts/main.lua:1: rawset: the table is read-only");
  EXPECT_STREQ(run_error("setmetatable(params, nil)\n", {}, params).what(),
               "lua-scripts/main.lua:1: cannot change a protected metatable");
  EXPECT_STREQ(
      run_error("params = {}\n", {}, params).what(),
      "lua-scripts/main.lua:1: cannot assign to global 'params': it is a sandbox built-in");
  // Neither pairs() nor getmetatable() hands out the writable backing table.
  run(R"(
local f, state = pairs(params)
assert(state == params)
assert(getmetatable(params) == false)
for k, v in pairs(params) do
  if type(v) == "table" then assert(not pcall(function() v[1] = 0 end)) end
end
log.mark("ok")
)",
      params);
  EXPECT_THAT(api.marks, ElementsAre("ok"));
}

TEST_F(LuaHostTest, Run_HostErrorBecomesALuaErrorAtTheScriptLine) {
  api.before["chaos.cordon_zone"] = [] { throw HostError("zone 'zone-q' has no nodes"); };
  const auto e = run_error("local zone = 'zone-q'\n\nchaos.cordon_zone(zone)\n");
  EXPECT_EQ(e.kind(), ScriptError::Kind::Runtime);
  EXPECT_STREQ(e.what(), "lua-scripts/main.lua:3: chaos.cordon_zone: zone 'zone-q' has no nodes");
  EXPECT_EQ(e.where(), "lua-scripts/main.lua:3");
}

TEST_F(LuaHostTest, Run_HostErrorAlreadyNamingTheFunctionIsNotPrefixedTwice) {
  api.before["chaos.kill_pods"] = [] {
    throw HostError("chaos.kill_pods: give count or percent, not both");
  };
  EXPECT_STREQ(run_error("chaos.kill_pods{ count = 1, percent = 50 }\n").what(),
               "lua-scripts/main.lua:1: chaos.kill_pods: give count or percent, not both");
}

TEST_F(LuaHostTest, Run_HostErrorInARequiredModuleNamesTheModuleLine) {
  write("lib/steps.lua",
        "local M = {}\nfunction M.cordon(z)\n  return chaos.cordon_zone(z)\nend\nreturn M\n");
  api.before["chaos.cordon_zone"] = [] { throw HostError("guard: kube-system is untouchable"); };
  const auto e = run_error("local steps = require('lib.steps')\nsteps.cordon('zone-a')\n");
  EXPECT_STREQ(e.what(),
               "lua-scripts/lib/steps.lua:3: chaos.cordon_zone: guard: kube-system is untouchable");
  EXPECT_THAT(e.traceback(), HasSubstr("lua-scripts/main.lua:2: in main chunk"));
}

TEST_F(LuaHostTest, Run_HostErrorCanBeCaughtByTheScript) {
  api.before["chaos.cordon_zone"] = [] { throw HostError("no such zone"); };
  run(R"(
local ok, err = pcall(chaos.cordon_zone, "zone-q")
assert(not ok)
log.info(err)
chaos.uncordon_zone("zone-a")
)");
  ASSERT_EQ(api.logs.size(), 1u);
  EXPECT_EQ(api.logs[0].message, "lua-scripts/main.lua:2: chaos.cordon_zone: no such zone");
  EXPECT_THAT(api.call_names(),
              ElementsAre("chaos.cordon_zone", "log.info", "chaos.uncordon_zone"));
}

class ClusterUnreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

TEST_F(LuaHostTest, Run_OtherHostExceptionsEndTheRunWithTheirOwnType) {
  api.before["chaos.drain_zone"] = [] { throw ClusterUnreachable("connection refused"); };
  write("main.lua", R"(
local ok = pcall(chaos.drain_zone, "zone-a")
chaos.uncordon_zone("zone-a")
)");
  EXPECT_THROW(host().run("main.lua", api, nullptr, nullptr, {}), ClusterUnreachable);
  EXPECT_THAT(api.call_names(), ElementsAre("chaos.drain_zone"));
}

TEST_F(LuaHostTest, Run_AbortFromTheHostCannotBeCaught) {
  api.before["wait.until_ready"] = [] {
    throw AbortedError("stop condition 'availability' breached");
  };
  write("main.lua", R"(
for i = 1, 3 do
  pcall(wait.until_ready, { within = "120s" })
end
chaos.uncordon_zone("zone-a")
)");
  try {
    host().run("main.lua", api, nullptr, nullptr, {});
    FAIL() << "no AbortedError";
  } catch (const AbortedError& e) {
    EXPECT_STREQ(e.what(),
                 "lua-scripts/main.lua:3: stop condition 'availability' breached (during "
                 "wait.until_ready)");
  }
  EXPECT_THAT(api.call_names(), ElementsAre("wait.until_ready"));
}

TEST_F(LuaHostTest, ShippedScriptsCompile) {
  const std::filesystem::path shipped =
      std::filesystem::path(faultline::test_paths::source_dir()) / "lua-scripts";
  const LuaHost lua(shipped.string());
  int checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(shipped)) {
    if (entry.path().extension() != ".lua") continue;
    const std::string name = std::filesystem::relative(entry.path(), shipped).string();
    try {
      lua.check(name);
    } catch (const InputError& e) {
      ADD_FAILURE() << e.what();
    }
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no scripts under " << shipped;
}

TEST_F(LuaHostTest, ReadmeExamplesCompile) {
  // Every ```lua block of lua-scripts/README.md, the API reference, is valid Lua.
  std::ifstream in(std::filesystem::path(faultline::test_paths::source_dir()) / "lua-scripts" /
                   "README.md");
  ASSERT_TRUE(in) << "lua-scripts/README.md";
  std::string line, block;
  bool inside = false;
  int blocks = 0;
  while (std::getline(in, line)) {
    if (!inside && line == "```lua") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      const std::string name = "readme_" + std::to_string(++blocks) + ".lua";
      write(name, block);
      try {
        host().check(name);
      } catch (const InputError& e) {
        ADD_FAILURE() << e.what() << "\n" << block;
      }
    } else if (inside) {
      block += line + "\n";
    }
  }
  EXPECT_GT(blocks, 20);
}

TEST_F(LuaHostTest, Run_EachRunStartsFromAFreshState) {
  run("assert(rawget(_G, 'counter') == nil)\ncounter = 1\n");
  run("assert(rawget(_G, 'counter') == nil)\ncounter = 1\n");
}

}  // namespace
}  // namespace faultline::script::testing
