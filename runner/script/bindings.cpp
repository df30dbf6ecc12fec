// Every function a script can call on the host, in one table (mpv's
// main_fns). Each export reads its arguments strictly (a number is not a
// zone name), calls the HostApi, and converts the result; dispatch() turns
// what the HostApi throws into Lua errors carrying the script's file:line.
#include "runner/script/bindings.h"

#include <cmath>
#include <iterator>
#include <string>
#include <vector>

#include "runner/common/duration.h"
#include "runner/common/error.h"
#include "runner/script/convert.h"
#include "runner/script/readonly.h"
#include "runner/script/run_state.h"

namespace faultline::script::detail {
namespace {

using nlohmann::json;

// ---- argument helpers ----
//
// Lua's luaL_argerror names the function as the call site spelled it
// ("cordon_zone") and locates it one level up, which is pcall when a script
// writes pcall(chaos.cordon_zone, 42). These name the export in full and
// locate the nearest script line instead.

// The running export's "module.function" (upvalue 2 of dispatch).
std::string qualified_name(lua_State* L) { return lua_tostring(L, lua_upvalueindex(2)); }

[[noreturn]] void arg_error(lua_State* L, int arg, const std::string& message) {
  raise(L, "bad argument #" + std::to_string(arg) + " to '" + qualified_name(L) + "' (" + message +
               ")");
}

[[noreturn]] void type_error(lua_State* L, int arg, const std::string& expected) {
  const std::string got = lua_isnone(L, arg) ? "no value" : luaL_typename(L, arg);
  arg_error(L, arg, expected + " expected, got " + got);
}

void no_more_args(lua_State* L, int count) {
  if (lua_gettop(L) > count) arg_error(L, count + 1, "no value expected");
}

std::string string_arg(lua_State* L, int arg) {
  if (lua_type(L, arg) != LUA_TSTRING) type_error(L, arg, "string");
  size_t len = 0;
  const char* s = lua_tolstring(L, arg, &len);
  if (len == 0) arg_error(L, arg, "must not be empty");
  return std::string(s, len);
}

// A table of named options; nil (or nothing) is {} unless `required`.
json options_arg(lua_State* L, int arg, bool required) {
  const int type = lua_type(L, arg);
  if ((type == LUA_TNIL || type == LUA_TNONE) && !required) return json::object();
  if (type != LUA_TTABLE) type_error(L, arg, "table");
  std::string error;
  try {
    json value = to_json(L, arg, "options");
    if (value.is_object()) return value;
    error = "expected a table of named options, got a list";
  } catch (const ConvertError& e) {
    error = e.what();
  }
  arg_error(L, arg, error);
}

// Calls the HostApi. Anything it throws that is not a std::exception is
// wrapped here, where no Lua error can be in flight (Lua's own errors are
// C++ exceptions too, and must never be caught by a catch-all).
template <class F>
decltype(auto) call_api(F&& f) {
  try {
    return f();
  } catch (const std::exception&) {
    throw;
  } catch (...) {
    throw std::runtime_error("the host threw an exception of unknown type");
  }
}

int push_result(lua_State* L, const json& result) {
  push_json(L, result);
  return 1;
}

// The message of a log call: every argument through tostring, space-separated.
std::string message_args(lua_State* L) {
  std::string out;
  const int n = lua_gettop(L);
  for (int i = 1; i <= n; ++i) {
    size_t len = 0;
    const char* s = luaL_tolstring(L, i, &len);
    if (i > 1) out += ' ';
    out.append(s, len);
    lua_pop(L, 1);
  }
  return out;
}

// ---- the exports ----

int cluster_zones(lua_State* L, HostApi& api) {
  no_more_args(L, 0);
  const std::vector<std::string> zones = call_api([&] { return api.zones(); });
  return push_result(L, json(zones));
}

template <json (HostApi::*Method)(const json&)>
int filter_query(lua_State* L, HostApi& api) {
  no_more_args(L, 1);
  const json filter = options_arg(L, 1, false);
  return push_result(L, call_api([&] { return (api.*Method)(filter); }));
}

template <json (HostApi::*Method)(const json&)>
int options_call(lua_State* L, HostApi& api) {
  no_more_args(L, 1);
  const json options = options_arg(L, 1, true);
  return push_result(L, call_api([&] { return (api.*Method)(options); }));
}

template <json (HostApi::*Method)(const std::string&)>
int name_call(lua_State* L, HostApi& api) {
  no_more_args(L, 1);
  const std::string name = string_arg(L, 1);
  return push_result(L, call_api([&] { return (api.*Method)(name); }));
}

template <json (HostApi::*Method)(const std::string&, const json&)>
int name_options_call(lua_State* L, HostApi& api) {
  no_more_args(L, 2);
  const std::string name = string_arg(L, 1);
  const json options = options_arg(L, 2, false);
  return push_result(L, call_api([&] { return (api.*Method)(name, options); }));
}

int wait_sleep(lua_State* L, HostApi& api) {
  no_more_args(L, 1);
  double seconds = 0;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    seconds = lua_tonumber(L, 1);
    if (!std::isfinite(seconds) || seconds < 0) {
      arg_error(L, 1, "duration must be a non-negative number of seconds");
    }
  } else if (lua_type(L, 1) == LUA_TSTRING) {
    const std::string text = lua_tostring(L, 1);
    const auto parsed = parse_duration(text);
    if (!parsed) {
      arg_error(
          L, 1,
          "invalid duration '" + text + "' (expected e.g. \"5s\", \"2m\", \"250ms\" or seconds)");
    }
    seconds = parsed->count();
  } else {
    type_error(L, 1, "duration (string or number)");
  }
  call_api([&] { api.sleep(seconds); });
  return 0;
}

int log_at(lua_State* L, HostApi& api, const char* level) {
  const std::string message = message_args(L);
  const std::string at = where(L);
  call_api([&] { api.log(level, message, at); });
  return 0;
}

int log_mark(lua_State* L, HostApi& api) {
  no_more_args(L, 1);
  const std::string label = string_arg(L, 1);
  call_api([&] { api.mark(label); });
  return 0;
}

using Impl = int (*)(lua_State*, HostApi&);

struct Binding {
  const char* module;  // nullptr: a global function
  const char* name;
  Impl impl;
};

// The whole script-facing API. Keep in step with lua-scripts/README.md.
const Binding kBindings[] = {
    {"cluster", "zones", cluster_zones},
    {"cluster", "nodes", filter_query<&HostApi::nodes>},
    {"cluster", "pods", filter_query<&HostApi::pods>},
    {"cluster", "workloads", filter_query<&HostApi::workloads>},
    {"cluster", "pdbs", filter_query<&HostApi::pdbs>},

    {"chaos", "cordon_zone", name_call<&HostApi::cordon_zone>},
    {"chaos", "uncordon_zone", name_call<&HostApi::uncordon_zone>},
    {"chaos", "cordon_node", name_call<&HostApi::cordon_node>},
    {"chaos", "uncordon_node", name_call<&HostApi::uncordon_node>},
    {"chaos", "drain_zone", name_options_call<&HostApi::drain_zone>},
    {"chaos", "drain_node", name_options_call<&HostApi::drain_node>},
    {"chaos", "kill_pods", options_call<&HostApi::kill_pods>},
    {"chaos", "violate_pdb", options_call<&HostApi::violate_pdb>},
    {"chaos", "fail_zone", name_options_call<&HostApi::fail_zone>},
    {"chaos", "restore_zone", name_call<&HostApi::restore_zone>},

    {"wait", "until_ready", options_call<&HostApi::until_ready>},
    {"wait", "sleep", wait_sleep},

    {"probe", "http", options_call<&HostApi::probe_http>},
    {"probe", "query", options_call<&HostApi::probe_query>},

    {"dr", "backup", options_call<&HostApi::dr_backup>},
    {"dr", "latest_backup", options_call<&HostApi::dr_latest_backup>},
    {"dr", "disaster", filter_query<&HostApi::dr_disaster>},
    {"dr", "restore", options_call<&HostApi::dr_restore>},
    {"dr", "recovered", filter_query<&HostApi::dr_recovered>},

    {"log", "debug", [](lua_State* L, HostApi& api) { return log_at(L, api, "debug"); }},
    {"log", "info", [](lua_State* L, HostApi& api) { return log_at(L, api, "info"); }},
    {"log", "warn", [](lua_State* L, HostApi& api) { return log_at(L, api, "warn"); }},
    {"log", "error", [](lua_State* L, HostApi& api) { return log_at(L, api, "error"); }},
    {"log", "mark", log_mark},

    {nullptr, "print", [](lua_State* L, HostApi& api) { return log_at(L, api, "info"); }},
};

constexpr const char* kModules[] = {"cluster", "chaos", "wait", "probe", "dr", "log"};

// The C function behind every export; upvalues: its index in kBindings, its
// "module.function" name.
int dispatch(lua_State* L) {
  const Binding& binding = kBindings[lua_tointeger(L, lua_upvalueindex(1))];
  RunState& run = RunState::of(L);
  check_alive(L);
  enum class Failure { Host, Aborted, Fatal } failure = Failure::Host;
  std::string message;
  std::exception_ptr error;
  try {
    const int results = binding.impl(L, *run.api);
    check_alive(L);  // a stop requested while the host call blocked
    return results;
  } catch (const HostError& e) {
    failure = Failure::Host, message = e.what();
  } catch (const AbortedError& e) {
    failure = Failure::Aborted, message = e.what();
  } catch (const std::exception& e) {
    failure = Failure::Fatal, message = e.what(), error = std::current_exception();
  }
  // Raised outside the handlers: the C++ exception is finished with.
  const std::string qualified = qualified_name(L);
  switch (failure) {
    case Failure::Host:
      // HostApi messages may already name the function; say it once.
      raise(L, message.rfind(qualified + ": ", 0) == 0 ? message : qualified + ": " + message);
    case Failure::Aborted:
      kill(L, Kill::Aborted, message + " (during " + qualified + ")");
    case Failure::Fatal:
      if (run.kill == Kill::None) run.host_failure = error;
      kill(L, Kill::HostFailure, qualified + ": " + message);
  }
  return 0;
}

void push_export(lua_State* L, size_t index) {
  const Binding& binding = kBindings[index];
  const std::string qualified =
      binding.module ? std::string(binding.module) + "." + binding.name : binding.name;
  lua_pushinteger(L, static_cast<lua_Integer>(index));
  lua_pushlstring(L, qualified.data(), qualified.size());
  lua_pushcclosure(L, dispatch, 2);
}

}  // namespace

void add_host_modules(lua_State* L, int base) {
  base = lua_absindex(L, base);
  luaL_checkstack(L, 6, "binding the host modules");
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  const int loaded = lua_gettop(L);
  for (const char* module : kModules) {
    lua_newtable(L);
    const int table = lua_gettop(L);
    for (size_t i = 0; i < std::size(kBindings); ++i) {
      if (kBindings[i].module == nullptr || std::string(kBindings[i].module) != module) continue;
      push_export(L, i);
      lua_setfield(L, table, kBindings[i].name);
    }
    lua_pushvalue(L, table);
    lua_setfield(L, loaded, module);  // so tracebacks say 'chaos.cordon_zone'
    make_readonly(L, module, true);
    lua_setfield(L, base, module);
  }
  for (size_t i = 0; i < std::size(kBindings); ++i) {
    if (kBindings[i].module != nullptr) continue;
    push_export(L, i);
    lua_setfield(L, base, kBindings[i].name);
  }
  lua_pop(L, 1);
}

}  // namespace faultline::script::detail
