// Bad input never touches the cluster. Invalid specs, a missing kubeconfig
// and Lua that does not compile are refused before anything runs: one line
// naming the file (and line), exit 2, no report, no journal. Scripts that try
// to escape the sandbox fail at the offending line (exit 1, a script error)
// before the chaos call that follows it, so nothing is injected either.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"

namespace faultline::testing {
namespace {

namespace fs = std::filesystem;

const char* kValidSpec = R"(apiVersion: faultline.io/v1alpha1
kind: Experiment
metadata:
  name: bad-input
spec:
  script: cordon.lua
  target: { namespace: shop, selector: app=checkout, service: checkout }
  timing: { warmup: 2s, recovery: 10s, cooldown: 1s }
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("test spec has no " + from);
  return text.replace(at, from.size(), to);
}

// Refused before anything runs: exit 2 and exactly one line that starts with
// `prefix`; no report directory, no journal, no lock, nodes untouched.
class InvalidInput : public ::testing::Test {
 protected:
  void SetUp() override {
    before_ = snapshot_nodes();
    scratch_.script("cordon.lua", "chaos.cordon_zone(\"zone-a\")\n");
  }

  void expect_refused(const std::string& command, const std::string& prefix,
                      bool via_test_kubeconfig = true) {
    std::string out_dir = scratch_.output_dir(), output;
    int code = via_test_kubeconfig ? faultline(command + " --output-dir " + out_dir, &output)
                                   : run(faultline_binary() + " " + command + " --output-dir " +
                                             out_dir + " --no-progress",
                                         &output);
    EXPECT_EQ(code, 2) << output;
    EXPECT_EQ(output.rfind(prefix, 0), 0u)
        << "expected a line starting with\n  " << prefix << "\ngot\n  " << output;
    ASSERT_FALSE(output.empty());
    EXPECT_EQ(output.find('\n'), output.size() - 1) << "not one line:\n" << output;
    EXPECT_FALSE(fs::exists(out_dir)) << "a refused run wrote reports";
    expect_cluster_as_before(before_);
  }

  Scratch scratch_;
  NodeSnapshot before_;
};

TEST_F(InvalidInput, MalformedYaml_NamesFileLineAndColumn) {
  // A second ':' on line 6: the column points at it.
  std::string file = scratch_.experiment(
      "malformed", replace(kValidSpec, "  script: cordon.lua\n", "  script: cordon.lua: extra\n"));
  expect_refused("run " + file, "error: " + file + ":6:21: invalid YAML: illegal map value");
}

TEST_F(InvalidInput, UnknownField_NamesTheFieldAndWhatIsAllowed) {
  std::string file =
      scratch_.experiment("unknown-field", replace(kValidSpec, "  script: cordon.lua\n",
                                                   "  script: cordon.lua\n  scirpt_timeout: 5s\n"));
  expect_refused(
      "run " + file,
      "error: " + file +
          ":7:3: unknown field \"scirpt_timeout\" in spec (expected one of: script, params, "
          "target, probes, slos, abort, guards, timing, params_schema, dr)");
}

TEST_F(InvalidInput, BadDuration_NamesTheFieldAndTheExpectedForm) {
  std::string file =
      scratch_.experiment("bad-duration", replace(kValidSpec, "warmup: 2s", "warmup: 2 parsecs"));
  expect_refused(
      "run " + file,
      "error: " + file +
          ":8:21: timing.warmup: invalid duration \"2 parsecs\" (expected e.g. 90s, 2m, 250ms)");
}

TEST_F(InvalidInput, MissingKubeconfigFile_IsNamed) {
  std::string file = scratch_.experiment("valid", kValidSpec);
  std::string missing = scratch_.path("no-such.kubeconfig");
  expect_refused("run " + file + " --kubeconfig " + missing,
                 "error: " + missing + ": kubeconfig file does not exist (from --kubeconfig)",
                 /*via_test_kubeconfig=*/false);
}

// A drill aimed at kube-system needs guards.allow_kube_system: refused at the
// line naming it, exit 2, before anything is touched.
TEST_F(InvalidInput, KubeSystemTarget_IsRefusedWithoutAllowKubeSystem) {
  std::string file = scratch_.experiment(
      "kube-system", replace(kValidSpec, "namespace: shop", "namespace: kube-system"));
  const std::string line = "error: " + file +
                           ":7:24: spec.target.namespace: kube-system is untouchable unless "
                           "guards.allow_kube_system is true";
  expect_refused("run " + file, line);
  expect_refused("plan " + file, line);
}

TEST_F(InvalidInput, LuaSyntaxError_IsReportedAtCompileTimeBeforeTheCordonRuns) {
  scratch_.script("syntax_error.lua", "chaos.cordon_zone(\"zone-a\")\nif then\n");
  std::string file =
      scratch_.experiment("syntax-error", replace(kValidSpec, "cordon.lua", "syntax_error.lua"));
  // The script is named by the folder it came from: lua-scripts/ beside the
  // experiment's folder, here an absolute path.
  expect_refused("run " + file, "error: " + scratch_.path("lua-scripts/syntax_error.lua") +
                                    ":2: unexpected symbol near 'then'");
}

// Compiles, starts, and is stopped at line `line` by the sandbox.
class SandboxEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    fresh_demo();
    before_ = snapshot_nodes();
  }

  // The script's escape attempt is followed by a cordon: if the sandbox let
  // it through, the cordon would show in the report's faults.
  void expect_stopped(const std::string& script, const std::string& lua,
                      const std::string& message) {
    scratch_.script(script, lua + "chaos.cordon_zone(\"zone-a\")\n");
    ExperimentSpec spec;
    spec.name = "e2e-sandbox";
    spec.script = script;
    spec.params = "";
    std::string file = scratch_.experiment("sandbox", spec.yaml()), out_dir = scratch_.output_dir(),
                output;

    int code = faultline("run " + file + " --output-dir " + out_dir, &output);

    EXPECT_EQ(code, 1) << output;
    EXPECT_EQ(line_starting_with(output, "result: "),
              "result: error (exit 1): script error: " + scratch_.path("lua-scripts/" + script) +
                  ":" + message)
        << output;
    json report = read_report(out_dir);
    EXPECT_EQ(report.value("result", ""), "error");
    EXPECT_TRUE(report.value("faults", json::array()).empty()) << report["faults"].dump(2);
    expect_cluster_as_before(before_);
  }

  Scratch scratch_;
  NodeSnapshot before_;
};

TEST_F(SandboxEscape, OsExecute_IsNotThere) {
  std::string marker = scratch_.path("escaped");
  expect_stopped("os_execute.lua", "os.execute(\"touch " + marker + "\")\n",
                 "1: script attempted to access nonexistent global variable 'os'");
  EXPECT_FALSE(fs::exists(marker)) << "os.execute ran";
}

TEST_F(SandboxEscape, IoOpen_IsNotThere) {
  expect_stopped("io_open.lua", "local f = io.open(\"/etc/hostname\")\nlog.info(f:read(\"a\"))\n",
                 "1: script attempted to access nonexistent global variable 'io'");
}

TEST_F(SandboxEscape, LoadOfBytecode_IsRefused) {
  // The header of a Lua 5.4 binary chunk (string.dump is not there to make one).
  expect_stopped(
      "load_bytecode.lua",
      "local f, err = load(\"\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10\")\nassert(f, err)\nf()\n",
      "2: attempt to load a binary chunk (mode is 't')");
}

TEST_F(SandboxEscape, StringRepMemoryBomb_HitsTheMemoryCapEvenInsidePcall) {
  expect_stopped("memory_bomb.lua", "local ok, s = pcall(string.rep, \"x\", 1 << 30)\n",
                 "1: memory limit exceeded (64 MiB)");
}

TEST_F(SandboxEscape, InfiniteLoop_HitsTheInstructionBudgetEvenInsidePcall) {
  expect_stopped("infinite_loop.lua", "pcall(function() while true do end end)\n",
                 "1: instruction limit exceeded (200000000 instructions)");
}

}  // namespace
}  // namespace faultline::testing
