// A temporary lua-scripts/ directory with a LuaHost over it, and helpers to
// write a script and run it against a FakeHostApi. The test runs in the
// directory holding lua-scripts/ and the host is given the relative name
// "lua-scripts", as the CLI's default is: messages read "lua-scripts/x.lua:N"
// (each test is a process of its own under ctest, so the chdir is local).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "runner/script/lua_host.h"
#include "tests/unit/script/fake_host_api.h"

namespace faultline::script::testing {

class ScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    base_ = std::filesystem::temp_directory_path() /
            ("faultline-script-" + std::to_string(::getpid()) + "-" + info->test_suite_name() +
             "-" + info->name());
    std::filesystem::remove_all(base_);
    root_ = base_ / "lua-scripts";
    std::filesystem::create_directories(root_);
    previous_cwd_ = std::filesystem::current_path();
    std::filesystem::current_path(base_);
  }
  void TearDown() override {
    std::filesystem::current_path(previous_cwd_);
    std::filesystem::remove_all(base_);
  }

  // Writes lua-scripts/<name> (creating subdirectories).
  void write(const std::string& name, const std::string& text) {
    const auto path = root_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }

  LuaHost host(SandboxLimits limits = {}) const { return LuaHost("lua-scripts", limits); }

  // Writes `source` as lua-scripts/main.lua and runs it.
  void run(const std::string& source, const nlohmann::json& params = nullptr,
           const nlohmann::json& target = nullptr, SandboxLimits limits = {},
           std::stop_token stop = {}) {
    write("main.lua", source);
    host(limits).run("main.lua", api, params, target, std::move(stop));
  }

  // Runs `source` and returns the ScriptError it must throw.
  ScriptError run_error(const std::string& source, SandboxLimits limits = {},
                        const nlohmann::json& params = nullptr) {
    try {
      run(source, params, nullptr, limits);
    } catch (const ScriptError& e) {
      return e;
    }
    ADD_FAILURE() << "no ScriptError from:\n" << source;
    return ScriptError(ScriptError::Kind::Runtime, "", "", "");
  }

  std::filesystem::path base_;  // holds lua-scripts/; the test's working directory
  std::filesystem::path root_;  // base_/lua-scripts
  std::filesystem::path previous_cwd_;
  FakeHostApi api;
};

}  // namespace faultline::script::testing
