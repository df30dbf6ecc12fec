// Internal to runner/script: the sandbox _ENV and the loaders. An
// allow-list: the environment holds only the names listed in
// lua-scripts/README.md; reading any other global is an error, and the
// built-in names cannot be reassigned.
#pragma once

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace faultline::script::detail {

// Opens the approved parts of the standard library, binds the host modules
// (bindings.h) and builds the sandbox environment with read-only `params` and
// `target`. Leaves the stack as it found it; push_env() fetches the result.
void build_env(lua_State* L, const nlohmann::json& params, const nlohmann::json& target);
void push_env(lua_State* L);

// Reads <root>/<relative> into *text. On failure returns false and sets
// *error to "<root>/<relative>: cannot read: <reason>".
bool read_script(const std::string& root, const std::string& relative, std::string* text,
                 std::string* error);

// Compiles `text` as a text chunk named "@<root>/<relative>" (lua_load
// status; the function or the message is left on the stack).
int load_script(lua_State* L, const std::string& text, const std::string& relative);

// Message handler for the top-level protected call: converts the error to a
// string and records where it happened and a traceback in the RunState.
int message_handler(lua_State* L);

}  // namespace faultline::script::detail
