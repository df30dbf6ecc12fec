// Internal to runner/script: read-only proxy tables. A proxy is an empty
// table whose protected metatable reads from a hidden backing table and
// refuses writes, so params, target, the libraries and the host modules
// cannot be changed by a script (rawset is wrapped to refuse them too).
#pragma once

#include <lua.hpp>

#include <string>

namespace faultline::script::detail {

// Replaces the table on top of the stack with a read-only proxy. `name`
// ("params", "chaos") appears in errors. When `strict`, reading a missing
// field is an error (host modules: a typo must not silently yield nil).
void make_readonly(lua_State* L, const std::string& name, bool strict);

// True when the value at `index` is a read-only proxy.
bool is_readonly(lua_State* L, int index);

// If the value at `index` is a read-only proxy, pushes its backing table and
// returns true; otherwise pushes nothing and returns false.
bool push_backing(lua_State* L, int index);

}  // namespace faultline::script::detail
