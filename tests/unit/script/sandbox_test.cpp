// The sandbox: only approved names exist, escape routes (os, io, debug,
// package, files, bytecode, the real globals) are closed with clear errors,
// built-ins cannot be replaced, and require reads only lua-scripts/.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/script/script_fixture.h"

namespace faultline::script::testing {
namespace {

using ::testing::ElementsAre;

using SandboxTest = ScriptTest;

std::string missing_global(const std::string& name) {
  return "lua-scripts/main.lua:1: script attempted to access nonexistent global variable '" + name +
         "'";
}

TEST_F(SandboxTest, DangerousLibrariesDoNotExist) {
  EXPECT_STREQ(run_error("os.execute('touch /tmp/pwned')\n").what(), missing_global("os").c_str());
  EXPECT_STREQ(run_error("io.open('/etc/passwd')\n").what(), missing_global("io").c_str());
  EXPECT_STREQ(run_error("debug.getregistry()\n").what(), missing_global("debug").c_str());
  EXPECT_STREQ(run_error("package.loadlib('libc.so.6', 'system')\n").what(),
               missing_global("package").c_str());
  EXPECT_STREQ(run_error("coroutine.create(print)\n").what(), missing_global("coroutine").c_str());
}

TEST_F(SandboxTest, FileAndStateFunctionsDoNotExist) {
  for (const std::string name : {"dofile", "loadfile", "loadstring", "collectgarbage", "warn",
                                 "setfenv", "getfenv", "module"}) {
    EXPECT_STREQ(run_error(name + "('/etc/passwd')\n").what(), missing_global(name).c_str());
  }
}

TEST_F(SandboxTest, UnknownGlobalReadIsAnError) {
  EXPECT_STREQ(run_error("local zone = paramz.zone\n").what(), missing_global("paramz").c_str());
}

TEST_F(SandboxTest, StringDumpIsGone) {
  EXPECT_STREQ(run_error("local b = string.dump(function() end)\n").what(),
               "lua-scripts/main.lua:1: attempt to call a nil value (field 'dump')");
  EXPECT_STREQ(run_error("local b = (''):dump()\n").what(),
               "lua-scripts/main.lua:1: attempt to call a nil value (method 'dump')");
}

TEST_F(SandboxTest, LoadRefusesBytecode) {
  run(R"(
local f, err = load("\27Lua\84\0\25\147\r\n\26\n")
assert(f == nil)
log.info(err)
)");
  ASSERT_EQ(api.logs.size(), 1u);
  EXPECT_EQ(api.logs[0].message, "attempt to load a binary chunk (mode is 't')");
}

TEST_F(SandboxTest, LoadRefusesBinaryModes) {
  EXPECT_STREQ(
      run_error("load('return 1', nil, 'b')\n").what(),
      "lua-scripts/main.lua:1: load: mode 'b' is not allowed: only text chunks (mode \"t\") "
      "can be loaded");
  EXPECT_STREQ(run_error("load('return 1', 'x', 'bt')\n").what(),
               "lua-scripts/main.lua:1: load: mode 'bt' is not allowed: only text chunks (mode "
               "\"t\") can be loaded");
}

TEST_F(SandboxTest, LoadRefusesReaderFunctions) {
  EXPECT_STREQ(run_error("load(function() return nil end)\n").what(),
               "lua-scripts/main.lua:1: load: only source strings can be loaded (got function)");
}

TEST_F(SandboxTest, LoadedTextRunsInTheSandbox) {
  run(R"(
local f = assert(load("return 1 + 2"))
assert(f() == 3)
assert(load("return chaos")() == chaos)
local ok, err = pcall(load("return os"))
log.info(ok, err)
local g = assert(load("return x", "=snippet", "t", { x = 5 }))
assert(g() == 5)
)");
  ASSERT_EQ(api.logs.size(), 1u);
  EXPECT_EQ(
      api.logs[0].message,
      "false [string \"return os\"]:1: script attempted to access nonexistent global variable "
      "'os'");
}

TEST_F(SandboxTest, LoadSyntaxErrorReturnsNilAndMessage) {
  run("local f, err = load('x = = 1')\nassert(f == nil)\nlog.info(err)\n");
  EXPECT_EQ(api.logs.at(0).message, "[string \"x = = 1\"]:1: unexpected symbol near '='");
}

TEST_F(SandboxTest, StringMetatableIsHidden) {
  run(R"(
assert(getmetatable("") == false)
assert(("x"):rep(3) == "xxx")
assert(("%d zones"):format(3) == "3 zones")
log.mark("ok")
)");
  EXPECT_THAT(api.marks, ElementsAre("ok"));
  EXPECT_STREQ(run_error("local mt = getmetatable('')\nlocal lib = mt.__index\n").what(),
               "lua-scripts/main.lua:2: attempt to index a boolean value (local 'mt')");
  EXPECT_STREQ(
      run_error("setmetatable('', {})\n").what(),
      "lua-scripts/main.lua:1: bad argument #1 to 'setmetatable' (table expected, got string)");
}

TEST_F(SandboxTest, RealGlobalsAreUnreachable) {
  run(R"(
assert(_G == _ENV)
assert(getmetatable(_G) == false)
assert(rawget(_G, "os") == nil and rawget(_G, "dofile") == nil)
assert(not pcall(function() return _G.io end))
log.mark("ok")
)");
  EXPECT_THAT(api.marks, ElementsAre("ok"));
}

TEST_F(SandboxTest, BuiltinsCannotBeReplaced) {
  EXPECT_STREQ(run_error("chaos = {}\n").what(),
               "lua-scripts/main.lua:1: cannot assign to global 'chaos': it is a sandbox built-in");
  EXPECT_STREQ(run_error("pcall = nil\n").what(),
               "lua-scripts/main.lua:1: cannot assign to global 'pcall': it is a sandbox built-in");
  EXPECT_STREQ(run_error("rawset(_ENV, 'chaos', {})\n").what(),
               "lua-scripts/main.lua:1: rawset: cannot assign to global 'chaos': it is a sandbox "
               "built-in");
  EXPECT_STREQ(run_error("chaos.cordon_zone = print\n").what(),
               "lua-scripts/main.lua:1: attempt to modify read-only table 'chaos' (field "
               "cordon_zone)");
  EXPECT_STREQ(run_error("string.format = nil\n").what(),
               "lua-scripts/main.lua:1: attempt to modify read-only table 'string' (field format)");
  EXPECT_STREQ(run_error("rawset(math, 'pi', 3)\n").what(),
               "lua-scripts/main.lua:1: rawset: the table is read-only");
}

TEST_F(SandboxTest, ScriptsMayDeclareGlobals) {
  run(R"(
zone = "zone-a"
function helper() return zone end
rawset(_ENV, "other", 2)
assert(helper() == "zone-a" and other == 2)
log.mark("ok")
)");
  EXPECT_THAT(api.marks, ElementsAre("ok"));
}

TEST_F(SandboxTest, UnknownHostFunctionIsAnError) {
  EXPECT_STREQ(
      run_error("chaos.cordon_zones('zone-a')\n").what(),
      "lua-scripts/main.lua:1: 'chaos.cordon_zones' does not exist in the faultline Lua API "
      "(see lua-scripts/README.md)");
}

TEST_F(SandboxTest, FinalizersAreRefused) {
  EXPECT_STREQ(
      run_error("setmetatable({}, { __gc = function() end })\n").what(),
      "lua-scripts/main.lua:1: setmetatable: __gc metamethods are not allowed in experiment "
      "scripts");
}

TEST_F(SandboxTest, ApprovedLibrariesWork) {
  run(R"(
local t = { 3, 1, 2 }
table.sort(t)
assert(table.concat(t, ",") == "1,2,3")
assert(select("#", unpack(t)) == 3 and table.unpack(t) == 1)
assert(math.floor(2.5) == 2 and math.maxinteger > 0)
local r = math.random(1, 6)
assert(r >= 1 and r <= 6)
assert(utf8.len("zone-ä") == 6)
assert(("a,b"):find(",", 1, true) == 2)
assert(tostring(12) == "12" and tonumber("0x10") == 16 and type(print) == "function")
assert(rawequal(t, t) and rawlen(t) == 3 and rawget(t, 1) == 1)
assert(next({}) == nil)
assert(select(2, pcall(error, "x", 0)) == "x")
assert(select(2, xpcall(error, function(m) return "handled " .. m end, "x", 0)) == "handled x")
assert(_VERSION == "Lua 5.4")
log.mark("ok")
)");
  EXPECT_THAT(api.marks, ElementsAre("ok"));
}

TEST_F(SandboxTest, RequireLoadsFromScriptsRootOnce) {
  write(
      "lib/util.lua",
      "log.mark('loading util')\nlocal M = {}\nfunction M.double(x) return 2 * x end\nreturn M\n");
  write("plain.lua", "log.mark('plain')\n");
  run(R"(
local a = require("lib.util")
local b = require("lib.util")
assert(a == b and a.double(21) == 42)
assert(require("plain") == true)
)");
  EXPECT_THAT(api.marks, ElementsAre("loading util", "plain"));
}

TEST_F(SandboxTest, RequiredModulesShareTheSandbox) {
  write("escape.lua", "return os\n");
  EXPECT_STREQ(
      run_error("require('escape')\n").what(),
      "lua-scripts/escape.lua:1: script attempted to access nonexistent global variable 'os'");
}

TEST_F(SandboxTest, RequireRefusesPathsOutsideTheScriptsRoot) {
  const std::string tail =
      "' is not allowed (letters, digits, '_' and '.' only; modules are loaded from lua-scripts/)";
  EXPECT_EQ(run_error("require('../x')\n").what(),
            "lua-scripts/main.lua:1: require: module name '../x" + tail);
  EXPECT_EQ(run_error("require('lib/util')\n").what(),
            "lua-scripts/main.lua:1: require: module name 'lib/util" + tail);
  EXPECT_EQ(run_error("require('/etc/passwd')\n").what(),
            "lua-scripts/main.lua:1: require: module name '/etc/passwd" + tail);
  EXPECT_EQ(run_error("require('.hidden')\n").what(),
            "lua-scripts/main.lua:1: require: module name '.hidden" + tail);
  EXPECT_EQ(run_error("require('a..b')\n").what(),
            "lua-scripts/main.lua:1: require: module name 'a..b" + tail);
  EXPECT_STREQ(run_error("require(42)\n").what(),
               "lua-scripts/main.lua:1: require: module name must be a string (got number)");
}

TEST_F(SandboxTest, RequireMissingModuleNamesTheFile) {
  EXPECT_STREQ(run_error("\nrequire('lib.missing')\n").what(),
               "lua-scripts/main.lua:2: require: lua-scripts/lib/missing.lua: cannot read: No such "
               "file or directory");
}

TEST_F(SandboxTest, RequireSyntaxErrorNamesTheModuleLine) {
  write("bad.lua", "local x = \n");
  EXPECT_STREQ(
      run_error("require('bad')\n").what(),
      "lua-scripts/main.lua:1: require: lua-scripts/bad.lua:2: unexpected symbol near <eof>");
}

TEST_F(SandboxTest, RequireLoopIsAnError) {
  write("a.lua", "require('b')\n");
  write("b.lua", "require('a')\n");
  EXPECT_STREQ(run_error("require('a')\n").what(),
               "lua-scripts/b.lua:1: require: loop while loading module 'a'");
}

TEST_F(SandboxTest, FailedRequireCanBeRetried) {
  write("flaky.lua", "if params.fail then error('module failed') end\nreturn 'ok'\n");
  run(R"(
local ok, err = pcall(require, "flaky")
log.info(ok, err)
local ok2, err2 = pcall(require, "flaky")
log.info(ok2, err2)
)",
      {{"fail", true}});
  ASSERT_EQ(api.logs.size(), 2u);
  EXPECT_EQ(api.logs[0].message, "false lua-scripts/flaky.lua:1: module failed");
  EXPECT_EQ(api.logs[1].message, api.logs[0].message);
}

TEST_F(SandboxTest, StdlibModuleCanBeRequired) {
  // The lead's stdlib lives in lua-scripts/lib/; any module there loads the same way.
  write("lib/zones.lua", R"(
local M = {}
function M.other_zones(zone)
  local out = {}
  for _, z in ipairs(cluster.zones()) do
    if z ~= zone then out[#out + 1] = z end
  end
  return out
end
return M
)");
  run("local zones = require('lib.zones')\nlog.info(table.concat(zones.other_zones('zone-b'), ' "
      "'))\n");
  EXPECT_EQ(api.logs.at(0).message, "zone-a zone-c");
}

}  // namespace
}  // namespace faultline::script::testing
