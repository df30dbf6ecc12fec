// Internal to runner/script: the host modules (cluster, chaos, wait, probe,
// log) and print, bound to RunState::api. One table lists every export.
#pragma once

#include <lua.hpp>

namespace faultline::script::detail {

// Sets base.cluster, base.chaos, base.wait, base.probe, base.log (strict
// read-only tables) and base.print in the table at `base`, and registers the
// module tables in the registry's _LOADED so tracebacks name the function
// ("in function 'chaos.cordon_zone'").
void add_host_modules(lua_State* L, int base);

}  // namespace faultline::script::detail
