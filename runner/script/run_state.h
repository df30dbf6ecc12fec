// Internal to runner/script: the per-run state every C function reaches
// through the lua_State's extra space, and the kill machinery (limits, abort,
// host failures) that a script cannot catch. Not for use outside this folder.
#pragma once

#include <lua.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <stop_token>
#include <string>

#include "runner/script/host_api.h"
#include "runner/script/lua_host.h"

namespace faultline::script::detail {

// Chunk names are "@" + chunk_prefix(scripts_root) + file: messages name a
// script by the folder it came from, as the user gave it ("lua-scripts/" by
// default, "my-drills/" for `--scripts my-drills`), so
// "my-drills/zone_outage.lua:12: ..." points at the file that ran.
std::string chunk_prefix(const std::string& scripts_root);

// What the error path (message handler, traceback) may allocate beyond the
// memory limit, so a script at its limit still gets a readable error.
inline constexpr size_t kOverdraft = 1u << 20;

// Why the run must end. Once set it never goes back to None: every later
// instruction, protected call and host call raises it again.
enum class Kill { None, InstructionLimit, MemoryLimit, Aborted, HostFailure };

struct RunState {
  RunState(std::string root, SandboxLimits lim, HostApi* host, std::stop_token token)
      : scripts_root(std::move(root)),
        prefix(chunk_prefix(scripts_root)),
        limits(lim),
        api(host),
        stop(std::move(token)) {}

  const std::string scripts_root;
  const std::string prefix;  // chunk_prefix(scripts_root)
  const SandboxLimits limits;
  HostApi* const api;  // null when only compiling (LuaHost::check)
  const std::stop_token stop;

  std::string script;      // "lua-scripts/zone_outage.lua", for errors with no line
  lua_State* L = nullptr;  // set once the state is built; read by the allocator

  // Memory (allocator).
  size_t used = 0;
  size_t overdraft = 0;         // extra bytes granted while an error is being reported
  bool limit_refused = false;   // the allocator refused at least once because of the limit
  char refused_where[96] = {};  // script line of the last refusal ("" if none)

  // Instructions (count hook).
  uint64_t executed = 0;

  Kill kill = Kill::None;
  std::string kill_message;  // full message, "lua-scripts/x.lua:3: instruction limit exceeded ..."
  std::string kill_where;
  std::exception_ptr host_failure;  // Kill::HostFailure: what the HostApi threw

  // Filled by the top-level message handler.
  std::string error_where;
  std::string traceback;

  static RunState& of(lua_State* L) { return **static_cast<RunState**>(lua_getextraspace(L)); }
};

// A new state using `run`'s allocator and count hook, with `run` in its extra
// space. Returns nullptr when even the empty state exceeds the memory limit.
lua_State* new_state(RunState& run);

// "lua-scripts/x.lua:12" for the innermost Lua function at or above `level`
// (C functions are skipped); "" when there is none.
std::string where(lua_State* L, int level = 0);

// Records the kill (first one wins), makes the count hook fire on every
// instruction, and raises it. `at` overrides the location in the message.
[[noreturn]] void kill(lua_State* L, Kill kind, const std::string& message,
                       const std::string& at = {});
// Raises the recorded kill again.
[[noreturn]] void raise_kill(lua_State* L);
// Raises when the run is killed or a stop was requested; a no-op otherwise.
void check_alive(lua_State* L);
// After a protected call inside the sandbox returned `status`: a memory error
// or any kill is raised again so the script cannot swallow it.
void reraise_if_fatal(lua_State* L, int status);

// Raises a Lua error whose message is "<where>: <message>".
[[noreturn]] void raise(lua_State* L, const std::string& message);

// "64 MiB", "1500 bytes".
std::string format_bytes(size_t bytes);

}  // namespace faultline::script::detail
