// The limits: an instruction budget, a memory cap and the stop token each end
// a runaway script with a clear error, and no pcall/xpcall can swallow them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <thread>

#include "runner/common/error.h"
#include "tests/unit/script/script_fixture.h"

namespace faultline::script::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr SandboxLimits kSmallBudget{.max_instructions = 1'000'000, .max_memory_bytes = 64u << 20};
constexpr SandboxLimits kSmallMemory{.max_instructions = 2'000'000'000,
                                     .max_memory_bytes = 8u << 20};
constexpr SandboxLimits kUnbounded{.max_instructions = UINT64_MAX, .max_memory_bytes = 64u << 20};

using LimitsTest = ScriptTest;

TEST_F(LimitsTest, InfiniteLoopHitsTheInstructionLimit) {
  const auto e = run_error("local n = 0\nwhile true do n = n + 1 end\n", kSmallBudget);
  EXPECT_EQ(e.kind(), ScriptError::Kind::InstructionLimit);
  EXPECT_STREQ(e.what(),
               "lua-scripts/main.lua:2: instruction limit exceeded (1000000 instructions)");
  EXPECT_EQ(e.where(), "lua-scripts/main.lua:2");
  EXPECT_THAT(e.traceback(), HasSubstr("lua-scripts/main.lua:2: in main chunk"));
}

TEST_F(LimitsTest, PcallCannotSwallowTheInstructionLimit) {
  const auto e =
      run_error("while true do\n  pcall(function() while true do end end)\nend\n", kSmallBudget);
  EXPECT_EQ(e.kind(), ScriptError::Kind::InstructionLimit);
  EXPECT_THAT(e.what(), HasSubstr("instruction limit exceeded"));
}

TEST_F(LimitsTest, XpcallAndItsHandlerCannotSwallowTheInstructionLimit) {
  const auto e = run_error(R"(
for i = 1, 10 do
  xpcall(function() while true do end end, function(m) while true do end end)
end
chaos.cordon_zone("zone-a")
)",
                           kSmallBudget);
  EXPECT_EQ(e.kind(), ScriptError::Kind::InstructionLimit);
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(LimitsTest, NoHostCallAfterTheLimitFires) {
  const auto e = run_error(R"(
local ok = pcall(function() while true do end end)
chaos.cordon_zone("zone-a")
)",
                           kSmallBudget);
  EXPECT_EQ(e.kind(), ScriptError::Kind::InstructionLimit);
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(LimitsTest, RequireCannotSwallowTheInstructionLimit) {
  write("spin.lua", "while true do end\n");
  const auto e =
      run_error("for i = 1, 3 do pcall(require, 'spin') end\nlog.mark('after')\n", kSmallBudget);
  EXPECT_EQ(e.kind(), ScriptError::Kind::InstructionLimit);
  EXPECT_STREQ(e.what(),
               "lua-scripts/spin.lua:1: instruction limit exceeded (1000000 instructions)");
  EXPECT_TRUE(api.marks.empty());
}

TEST_F(LimitsTest, LimitCountsPhaseFunctionsToo) {
  const auto e = run_error("function inject() while true do end end\n", kSmallBudget);
  EXPECT_EQ(e.kind(), ScriptError::Kind::InstructionLimit);
  EXPECT_EQ(e.where(), "lua-scripts/main.lua:1");
}

TEST_F(LimitsTest, ToBeClosedHandlerCannotOutliveTheLimit) {
  const auto e = run_error(R"(
local guard <close> = setmetatable({}, { __close = function() while true do end end })
while true do end
)",
                           kSmallBudget);
  EXPECT_EQ(e.kind(), ScriptError::Kind::InstructionLimit);
  EXPECT_STREQ(e.what(),
               "lua-scripts/main.lua:3: instruction limit exceeded (1000000 instructions)");
}

TEST_F(LimitsTest, EachRunHasItsOwnBudget) {
  // ~600k instructions: fits the budget once, and again in a second run.
  const std::string source = "local n = 0\nfor i = 1, 150000 do n = n + i end\nlog.mark('done')\n";
  run(source, nullptr, nullptr, kSmallBudget);
  run(source, nullptr, nullptr, kSmallBudget);
  EXPECT_THAT(api.marks, ElementsAre("done", "done"));
}

TEST_F(LimitsTest, StringRepBombHitsTheMemoryLimit) {
  const auto e = run_error("local s = 'x'\nlocal bomb = string.rep(s, 1 << 30)\n");
  EXPECT_EQ(e.kind(), ScriptError::Kind::MemoryLimit);
  EXPECT_STREQ(e.what(), "lua-scripts/main.lua:2: memory limit exceeded (64 MiB)");
  EXPECT_EQ(e.where(), "lua-scripts/main.lua:2");
}

TEST_F(LimitsTest, GrowingTableHitsTheMemoryLimit) {
  const auto e = run_error(R"(
local t = {}
while true do
  t[#t + 1] = ("x"):rep(1000) .. #t
end
)",
                           kSmallMemory);
  EXPECT_EQ(e.kind(), ScriptError::Kind::MemoryLimit);
  EXPECT_THAT(e.what(), HasSubstr("lua-scripts/main.lua:"));
  EXPECT_THAT(e.what(), HasSubstr(": memory limit exceeded (8 MiB)"));
}

TEST_F(LimitsTest, PcallCannotSwallowTheMemoryLimit) {
  const auto e = run_error(R"(
local ok, err = pcall(string.rep, "x", 1 << 30)
chaos.cordon_zone("zone-a")
)");
  EXPECT_EQ(e.kind(), ScriptError::Kind::MemoryLimit);
  EXPECT_STREQ(e.what(), "lua-scripts/main.lua:2: memory limit exceeded (64 MiB)");
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(LimitsTest, ConcatBombInsidePcallLoopHitsTheMemoryLimit) {
  const auto e = run_error(R"(
local s = "x"
for i = 1, 100 do
  pcall(function() s = s .. s end)
end
)",
                           kSmallMemory);
  EXPECT_EQ(e.kind(), ScriptError::Kind::MemoryLimit);
  EXPECT_STREQ(e.what(), "lua-scripts/main.lua:4: memory limit exceeded (8 MiB)");
}

TEST_F(LimitsTest, MemoryIsReleasedAsTheScriptRuns) {
  // 40 MiB of garbage under an 8 MiB cap: the collector keeps up.
  run("for i = 1, 40 do local s = ('x'):rep(1 << 20) end\nlog.mark('done')\n", nullptr, nullptr,
      kSmallMemory);
  EXPECT_THAT(api.marks, ElementsAre("done"));
}

TEST_F(LimitsTest, LimitTooSmallForTheStateIsAMemoryError) {
  try {
    run("log.mark('x')\n", nullptr, nullptr, {.max_instructions = 1000, .max_memory_bytes = 1024});
    FAIL() << "no ScriptError";
  } catch (const ScriptError& e) {
    EXPECT_EQ(e.kind(), ScriptError::Kind::MemoryLimit);
    EXPECT_STREQ(e.what(), "lua-scripts/main.lua: memory limit exceeded (1 KiB)");
  }
  EXPECT_TRUE(api.marks.empty());
}

TEST_F(LimitsTest, DeepRecursionIsAnErrorNotACrash) {
  const auto e = run_error("local function f(n) return 1 + f(n + 1) end\nf(1)\n", kUnbounded);
  EXPECT_EQ(e.kind(), ScriptError::Kind::Runtime);
  EXPECT_THAT(e.what(), HasSubstr("stack overflow"));
}

TEST_F(LimitsTest, StopFromAnotherThreadAbortsAnInfiniteLoop) {
  std::stop_source source;
  write("main.lua", "log.mark('started')\nwhile true do end\n");
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    source.request_stop();
  });
  try {
    host(kUnbounded).run("main.lua", api, nullptr, nullptr, source.get_token());
    FAIL() << "no AbortedError";
  } catch (const AbortedError& e) {
    EXPECT_STREQ(e.what(), "lua-scripts/main.lua:2: run aborted (stop requested)");
  }
  EXPECT_THAT(api.marks, ElementsAre("started"));
}

TEST_F(LimitsTest, StopCannotBeSwallowedByPcall) {
  std::stop_source source;
  write("main.lua", R"(
while true do
  pcall(function() while true do end end)
end
)");
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    source.request_stop();
  });
  EXPECT_THROW(host(kUnbounded).run("main.lua", api, nullptr, nullptr, source.get_token()),
               AbortedError);
}

TEST_F(LimitsTest, StopRequestedBeforeTheRunPreventsHostCalls) {
  std::stop_source source;
  source.request_stop();
  write("main.lua", "chaos.cordon_zone('zone-a')\n");
  EXPECT_THROW(host().run("main.lua", api, nullptr, nullptr, source.get_token()), AbortedError);
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(LimitsTest, StopDuringAHostCallAbortsWhenItReturns) {
  std::stop_source source;
  api.before["wait.sleep"] = [&] { source.request_stop(); };
  write("main.lua", R"(
local ok = pcall(wait.sleep, "30s")
chaos.cordon_zone("zone-a")
)");
  try {
    host().run("main.lua", api, nullptr, nullptr, source.get_token());
    FAIL() << "no AbortedError";
  } catch (const AbortedError& e) {
    EXPECT_STREQ(e.what(), "lua-scripts/main.lua:2: run aborted (stop requested)");
  }
  EXPECT_THAT(api.call_names(), ElementsAre("wait.sleep"));
}

// Calls that loop inside one C call, where the count hook never fires: each
// must end in milliseconds, not seconds to forever.
template <typename F>
std::chrono::milliseconds timed(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0);
}

TEST_F(LimitsTest, StringRepOfEmptyStringsReturnsAtOnce) {
  auto took = timed([&] {
    run("local s = string.rep('', 1e9)\nassert(s == '')\nlocal t = ('') :rep(math.maxinteger, "
        "'')\n");
  });
  EXPECT_LT(took, std::chrono::milliseconds(200));
}

TEST_F(LimitsTest, TableMoveOfAHugeRangeIsRefused) {
  ScriptError e(ScriptError::Kind::Runtime, "", "", "");
  auto took = timed([&] { e = run_error("table.move({}, 1, math.maxinteger - 1, 1, {})\n"); });
  EXPECT_LT(took, std::chrono::milliseconds(200));
  EXPECT_EQ(e.kind(), ScriptError::Kind::Runtime);
  EXPECT_STREQ(e.what(),
               "lua-scripts/main.lua:1: table.move: moving 9223372036854775806 elements is over "
               "the limit of "
               "4194304");
  run("local t = table.move({1, 2, 3}, 1, 3, 2)\nassert(t[4] == 3)\n");  // ordinary use unchanged
}

}  // namespace
}  // namespace faultline::script::testing
