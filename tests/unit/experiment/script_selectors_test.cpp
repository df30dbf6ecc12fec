// validate checks the selectors a script writes literally.
#include "runner/experiment/script_selectors.h"

#include <gtest/gtest.h>

#include "runner/common/error.h"

namespace faultline::experiment {
namespace {

std::string error_of(const std::string& lua) {
  try {
    check_literal_selectors("lua-scripts/x.lua", lua);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ScriptSelectors, LiteralSyntaxErrorNamesTheLine) {
  EXPECT_EQ(error_of("local z = 1\nchaos.kill_pods{ selector = \"app=we b\", count = 1 }\n"),
            "lua-scripts/x.lua:2: selector: label selector \"app=we b\": expected \",\" or the end "
            "after a "
            "requirement, got \"b\"");
  EXPECT_EQ(error_of("wait.until_ready{selector='tier in (a'}\n"),
            "lua-scripts/x.lua:1: selector: label selector \"tier in (a\": expected \",\" or \")\" "
            "in the values "
            "of \"tier in\", got end of selector");
}

TEST(ScriptSelectors, ValidRuntimeAndNonLiteralSelectorsPass) {
  EXPECT_EQ(error_of("chaos.kill_pods{ selector = \"app=web,tier!=db\" }\n"), "");
  EXPECT_EQ(error_of("chaos.kill_pods{ selector = target.selector }\n"), "");
  EXPECT_EQ(error_of("chaos.kill_pods{ selector = \"tier in (\" .. t .. \")\" }\n"), "");
  EXPECT_EQ(error_of("if selector == \"a b\" then end\n"), "");
  EXPECT_EQ(error_of("local myselector = \"a b\"\n"), "");
}

}  // namespace
}  // namespace faultline::experiment
