// LuaHost: one fresh, sandboxed lua_State per check or run, closed before the
// RunState it points to goes away. Everything that can allocate inside Lua
// runs under lua_pcall: an unprotected Lua error would abort the process.
#include "runner/script/lua_host.h"

#include <cctype>
#include <utility>

#include "runner/common/error.h"
#include "runner/script/run_state.h"
#include "runner/script/sandbox.h"

namespace faultline::script {
namespace {

using detail::Kill;
using detail::RunState;

// The phase functions a script may define, in the order they run.
constexpr const char* kPhases[] = {"steady_state", "inject", "verify"};

void check_script_name(const std::string& script) {
  bool ok = !script.empty() && script.front() != '/' && script.find('\\') == std::string::npos;
  size_t start = 0;
  while (ok && start <= script.size()) {
    const size_t end = std::min(script.find('/', start), script.size());
    const std::string part = script.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") ok = false;
    start = end + 1;
  }
  if (!ok) {
    throw InputError(
        "script '" + script +
        "': expected a file name relative to lua-scripts/ (no absolute path, no '..')");
  }
}

// Owns the lua_State and closes it while its RunState is still alive.
class State {
 public:
  explicit State(RunState& run) : run_(run), L_(detail::new_state(run)) {}
  ~State() {
    if (L_ != nullptr) {
      run_.L = nullptr;  // the allocator must not walk a closing stack
      lua_close(L_);
    }
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  lua_State* get() const { return L_; }

 private:
  RunState& run_;
  lua_State* L_;
};

std::string memory_message(const RunState& run) {
  if (!run.limit_refused) return "out of memory";
  return "memory limit exceeded (" + detail::format_bytes(run.limits.max_memory_bytes) + ")";
}

[[noreturn]] void throw_no_state(const RunState& run) {
  throw ScriptError(ScriptError::Kind::MemoryLimit, run.script + ": " + memory_message(run), "",
                    "");
}

// The location a message starts with: "<dir>/x.lua:12" or, for errors about
// the whole script, "<dir>/x.lua"; "" when it has none. Matched by shape, not
// by the directory: Lua shortens a long chunk name to "...<tail>.lua".
std::string location_prefix(const std::string& message) {
  const size_t dot_lua = message.find(".lua:");
  if (dot_lua == std::string::npos) return "";
  const size_t colon = dot_lua + 4;
  if (message.find_first_of(" \t\n") < colon) return "";
  size_t end = colon + 1;
  while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
  if (end > colon + 1 && end < message.size() && message[end] == ':') return message.substr(0, end);
  if (end == colon + 1 && end < message.size() && message[end] == ' ')
    return message.substr(0, colon);
  return "";
}

// Compile errors that Lua reports without a position (a binary chunk) still
// name the file.
std::string located(const std::string& message, const std::string& script) {
  return location_prefix(message).empty() ? script + ": " + message : message;
}

// Turns a failed top-level protected call into the exception run() throws.
[[noreturn]] void throw_failure(RunState& run, lua_State* L, int status) {
  switch (run.kill) {
    case Kill::Aborted:
      throw AbortedError(run.kill_message);
    case Kill::HostFailure:
      if (run.host_failure) std::rethrow_exception(run.host_failure);
      break;
    case Kill::InstructionLimit:
      throw ScriptError(ScriptError::Kind::InstructionLimit, run.kill_message, run.kill_where,
                        run.traceback);
    case Kill::MemoryLimit:
      throw ScriptError(ScriptError::Kind::MemoryLimit, run.kill_message, run.kill_where,
                        run.traceback);
    case Kill::None:
      break;
  }
  if (status == LUA_ERRMEM) {
    // Lua does not call the message handler for memory errors; the allocator
    // noted which line asked for the memory.
    const std::string at = run.refused_where;
    throw ScriptError(ScriptError::Kind::MemoryLimit,
                      (at.empty() ? run.script : at) + ": " + memory_message(run), at, "");
  }
  const char* text = lua_tostring(L, -1);
  std::string message = text != nullptr ? text : "(error object is not a string)";
  std::string at = location_prefix(message);
  if (at.empty()) {
    at = run.error_where;
    message = (at.empty() ? run.script : at) + ": " + message;
  }
  throw ScriptError(ScriptError::Kind::Runtime, message, at, run.traceback);
}

struct SetupArgs {
  const nlohmann::json* params;
  const nlohmann::json* target;
};

// setup(args): builds the sandbox; protected because it allocates.
int setup(lua_State* L) {
  const auto* args = static_cast<const SetupArgs*>(lua_touserdata(L, 1));
  detail::build_env(L, *args->params, *args->target);
  return 0;
}

[[noreturn]] void raise_unlocated(lua_State* L, const std::string& message) {
  const std::string text = RunState::of(L).script + ": " + message;
  lua_pushlstring(L, text.data(), text.size());
  lua_error(L);
  std::abort();  // lua_error does not return
}

// run_main(chunk): the chunk, then the phase functions it defined.
int run_main(lua_State* L) {
  lua_call(L, 0, 0);
  detail::push_env(L);
  const int env = lua_gettop(L);
  lua_pushliteral(L, "rollback");
  if (lua_rawget(L, env) != LUA_TNIL) {
    raise_unlocated(L,
                    "a global 'rollback' is not supported: every chaos action is undone from the "
                    "journal automatically (see lua-scripts/README.md)");
  }
  lua_pop(L, 1);
  for (const char* phase : kPhases) {
    lua_pushstring(L, phase);
    const int type = lua_rawget(L, env);
    if (type == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if (type != LUA_TFUNCTION) {
      raise_unlocated(L, std::string("global '") + phase + "' must be a function (got " +
                             lua_typename(L, type) + ")");
    }
    detail::check_alive(L);
    lua_call(L, 0, 0);
  }
  detail::check_alive(L);
  return 0;
}

void require_object(const nlohmann::json& value, const char* name) {
  if (!value.is_null() && !value.is_object()) {
    throw InputError(std::string(name) + ": expected a mapping of names to values, got " +
                     value.type_name());
  }
}

}  // namespace

LuaHost::LuaHost(std::string scripts_root, SandboxLimits limits)
    : scripts_root_(std::move(scripts_root)), limits_(limits) {}

void LuaHost::check(const std::string& script) const {
  check_script_name(script);
  std::string text, error;
  if (!detail::read_script(scripts_root_, script, &text, &error)) throw InputError(error);
  RunState run(scripts_root_, limits_, nullptr, {});
  run.script = run.prefix + script;
  State state(run);
  if (state.get() == nullptr) throw_no_state(run);
  const int status = detail::load_script(state.get(), text, script);
  if (status == LUA_OK) return;
  if (status == LUA_ERRMEM) {
    throw InputError(run.script + ": cannot be compiled within the memory limit (" +
                     detail::format_bytes(limits_.max_memory_bytes) + ")");
  }
  throw InputError(located(lua_tostring(state.get(), -1), run.script));
}

void LuaHost::run(const std::string& script, HostApi& api, const nlohmann::json& params,
                  const nlohmann::json& target, std::stop_token stop) const {
  check_script_name(script);
  require_object(params, "params");
  require_object(target, "target");
  std::string text, error;
  if (!detail::read_script(scripts_root_, script, &text, &error)) throw InputError(error);

  RunState run(scripts_root_, limits_, &api, std::move(stop));
  run.script = run.prefix + script;
  State state(run);
  lua_State* L = state.get();
  if (L == nullptr) throw_no_state(run);

  SetupArgs args{&params, &target};
  lua_pushcfunction(L, setup);
  lua_pushlightuserdata(L, &args);
  int status = lua_pcall(L, 1, 0, 0);
  if (status != LUA_OK) throw_failure(run, L, status);

  status = detail::load_script(L, text, script);
  if (status == LUA_ERRMEM) throw_failure(run, L, status);
  if (status != LUA_OK) throw InputError(located(lua_tostring(L, -1), run.script));
  detail::push_env(L);
  lua_setupvalue(L, -2, 1);  // the chunk's _ENV

  lua_pushcfunction(L, detail::message_handler);
  lua_pushcfunction(L, run_main);
  lua_rotate(L, -3, 2);  // [handler, run_main, chunk]
  const int handler = lua_gettop(L) - 2;
  status = lua_pcall(L, 1, 0, handler);
  if (status != LUA_OK) throw_failure(run, L, status);
}

}  // namespace faultline::script
