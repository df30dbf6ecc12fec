// The Lua 5.4 host: compiles and runs experiment scripts in a sandbox bound to
// a HostApi. This header is Lua-free on purpose; only runner/script/*.cpp
// include Lua. The script-facing contract is lua-scripts/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "runner/script/host_api.h"

namespace faultline::script {

struct SandboxLimits {
  // Lua VM instructions for the whole run (chunk + phase functions), counted
  // in steps of a few thousand; time spent inside host calls does not count.
  uint64_t max_instructions = 200'000'000;
  // Bytes the Lua allocator may hold at once (the state itself included).
  size_t max_memory_bytes = 64u << 20;
};

// A script failed at run time. what() is one line, "lua-scripts/x.lua:12:
// message"; the traceback is kept apart so reports can fold it away.
class ScriptError : public std::runtime_error {
 public:
  enum class Kind {
    Runtime,           // error(), a failed assert, a HostError, a type error, ...
    InstructionLimit,  // SandboxLimits::max_instructions ran out
    MemoryLimit,       // SandboxLimits::max_memory_bytes refused an allocation
  };

  ScriptError(Kind kind, const std::string& message, std::string where, std::string traceback)
      : std::runtime_error(message),
        kind_(kind),
        where_(std::move(where)),
        traceback_(std::move(traceback)) {}

  Kind kind() const { return kind_; }
  // "lua-scripts/x.lua:12": the innermost script line running when it failed
  // (empty when no script line was on the stack).
  const std::string& where() const { return where_; }
  // Lua's "stack traceback:\n\t..." text; may be empty (memory errors).
  const std::string& traceback() const { return traceback_; }

 private:
  Kind kind_;
  std::string where_;
  std::string traceback_;
};

class LuaHost {
 public:
  // scripts_root: the scripts directory (lua-scripts/ or `--scripts DIR`).
  // Chunk names, and so every error message and log location, read
  // "<scripts_root>/<file>": the folder the script came from, as given.
  explicit LuaHost(std::string scripts_root, SandboxLimits limits = {});

  // Compiles `script` (text mode only) without running it. Throws
  // faultline::InputError: "lua-scripts/x.lua:12: <msg>" on a syntax error,
  // "lua-scripts/x.lua: cannot read: <reason>" when the file is missing, and
  // "script '<name>': ..." when the name escapes scripts_root.
  void check(const std::string& script) const;

  // Runs `script` in a fresh Lua state: the chunk, then the global phase
  // functions it defined, in order steady_state, inject, verify. `params` and
  // `target` (JSON objects or null) become read-only tables. Throws:
  //  - faultline::InputError when the script cannot be read or compiled, or
  //    params/target are not objects (nothing was run);
  //  - ScriptError on a Lua error or an exhausted limit (no pcall in the
  //    script can catch a limit);
  //  - faultline::AbortedError when `stop` is requested (checked every few
  //    thousand instructions and around each host call) or the HostApi throws
  //    AbortedError;
  //  - any other exception a HostApi method threw except HostError (e.g.
  //    kube::ApiError), unchanged, after the Lua stack has unwound: the script
  //    cannot catch it. HostError becomes a catchable Lua error instead.
  void run(const std::string& script, HostApi& api, const nlohmann::json& params,
           const nlohmann::json& target, std::stop_token stop = {}) const;

  const std::string& scripts_root() const { return scripts_root_; }
  const SandboxLimits& limits() const { return limits_; }

 private:
  std::string scripts_root_;
  SandboxLimits limits_;
};

}  // namespace faultline::script
