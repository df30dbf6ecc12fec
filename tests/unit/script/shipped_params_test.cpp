// The shipped scripts check their params before their first fault: a bad
// value stops the script at its params check, with no chaos call made.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/test_paths.h"
#include "tests/unit/script/script_fixture.h"

namespace faultline::script::testing {
namespace {

namespace fs = std::filesystem;

class ShippedParams : public ScriptTest {
 protected:
  void SetUp() override {
    ScriptTest::SetUp();
    for (const auto& f :
         fs::directory_iterator(std::string(faultline::test_paths::source_dir()) + "/lua-scripts"))
      if (f.path().extension() == ".lua") fs::copy_file(f.path(), root_ / f.path().filename());
  }

  std::string error_of(const std::string& script, const nlohmann::json& params) {
    try {
      host().run(script, api, params,
                 {{"namespace", "shop"}, {"selector", "app=checkout"}, {"service", "checkout"}});
    } catch (const ScriptError& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(ShippedParams, NegativeWithinStopsZoneOutageBeforeTheZoneIsFailed) {
  EXPECT_EQ(error_of("zone_outage.lua", {{"zone", "zone-a"}, {"within", "-5s"}}),
            "lua-scripts/zone_outage.lua:6: params.within: expected a duration like \"90s\" or "
            "\"2m\", got \"-5s\"");
  EXPECT_TRUE(api.calls.empty()) << api.call_names().front();
}

TEST_F(ShippedParams, EveryShippedScriptChecksBeforeItsFirstCall) {
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"zone_drain.lua", {{"timeout", "soon"}}},
      {"pod_kill.lua", {{"count", 0}}},
      {"pdb_violation.lua", {{"by", 1.5}}},
      {"rolling_failover.lua", {{"hold", "forever"}}},
  };
  for (const auto& [script, params] : bad) {
    api.calls.clear();
    std::string err = error_of(script, params);
    EXPECT_NE(err.find("lua-scripts/" + script + ":"), std::string::npos) << script << ": " << err;
    EXPECT_NE(err.find("params."), std::string::npos) << script << ": " << err;
    EXPECT_TRUE(api.calls.empty()) << script << " made a call first: " << api.call_names().front();
  }
}

}  // namespace
}  // namespace faultline::script::testing
