// The limits a script cannot escape: a byte budget enforced by the
// allocator (mpv mp_lua_alloc), an instruction budget and the stop token
// checked by a count hook, and kills that stick (redis luaMaskCountHook):
// once one fires, the hook raises on every instruction and every protected
// call re-raises, so pcall cannot hide it.
#include <cstdio>
#include <cstdlib>

#include "runner/script/run_state.h"

namespace faultline::script::detail {
namespace {

// How many instructions pass between two hook calls while the run is healthy:
// small enough that a stop request is seen within microseconds, large enough
// that the hook costs nothing measurable.
constexpr int kHookStep = 1000;

void note_refusal(RunState& run) {
  run.limit_refused = true;
  run.refused_where[0] = '\0';
  if (run.L == nullptr) return;
  // lua_getstack/lua_getinfo("Sl") only read the call chain: they neither
  // allocate nor raise, so they are safe inside the allocator.
  lua_Debug ar;
  for (int level = 0; lua_getstack(run.L, level, &ar); ++level) {
    if (lua_getinfo(run.L, "Sl", &ar) && ar.currentline > 0) {
      std::snprintf(run.refused_where, sizeof run.refused_where, "%s:%d", ar.short_src,
                    ar.currentline);
      return;
    }
  }
}

void* allocate(void* ud, void* ptr, size_t osize, size_t nsize) noexcept {
  auto& run = *static_cast<RunState*>(ud);
  const size_t old = ptr != nullptr ? osize : 0;  // osize is a type tag for new blocks
  if (nsize == 0) {
    std::free(ptr);
    run.used -= old;
    return nullptr;
  }
  if (nsize > old) {
    const size_t budget = run.limits.max_memory_bytes + run.overdraft;
    const size_t grow = nsize - old;
    if (grow > budget || run.used > budget - grow) {
      note_refusal(run);
      return nullptr;  // Lua runs an emergency GC and retries once, then raises LUA_ERRMEM
    }
  }
  void* block = std::realloc(ptr, nsize);
  if (block == nullptr) return nullptr;
  run.used = run.used - old + nsize;
  return block;
}

void count_hook(lua_State* L, lua_Debug*) {
  RunState& run = RunState::of(L);
  if (run.kill == Kill::None) {
    run.executed += static_cast<uint64_t>(lua_gethookcount(L));
    if (run.stop.stop_requested()) {
      kill(L, Kill::Aborted, "run aborted (stop requested)");
    }
    if (run.executed >= run.limits.max_instructions) {
      kill(L, Kill::InstructionLimit,
           "instruction limit exceeded (" + std::to_string(run.limits.max_instructions) +
               " instructions)");
    }
    return;
  }
  raise_kill(L);
}

}  // namespace

lua_State* new_state(RunState& run) {
  lua_State* L = lua_newstate(allocate, &run);
  if (L == nullptr) return nullptr;
  *static_cast<RunState**>(lua_getextraspace(L)) = &run;
  const uint64_t step =
      std::min<uint64_t>(kHookStep, std::max<uint64_t>(run.limits.max_instructions, 1));
  lua_sethook(L, count_hook, LUA_MASKCOUNT, static_cast<int>(step));
  run.L = L;
  return L;
}

std::string where(lua_State* L, int level) {
  lua_Debug ar;
  for (; lua_getstack(L, level, &ar); ++level) {
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
      return std::string(ar.short_src) + ":" + std::to_string(ar.currentline);
    }
  }
  return "";
}

void kill(lua_State* L, Kill kind, const std::string& message, const std::string& at) {
  RunState& run = RunState::of(L);
  if (run.kill == Kill::None) {
    run.overdraft = kOverdraft;
    run.kill = kind;
    run.kill_where = at.empty() ? where(L) : at;
    run.kill_message = run.kill_where.empty() ? message : run.kill_where + ": " + message;
    // From now on the hook fires on every instruction and raises.
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
  }
  raise_kill(L);
}

void raise_kill(lua_State* L) {
  const RunState& run = RunState::of(L);
  lua_pushlstring(L, run.kill_message.data(), run.kill_message.size());
  lua_error(L);
  std::abort();  // lua_error does not return
}

void check_alive(lua_State* L) {
  RunState& run = RunState::of(L);
  if (run.kill != Kill::None) raise_kill(L);
  if (run.stop.stop_requested()) kill(L, Kill::Aborted, "run aborted (stop requested)");
}

void reraise_if_fatal(lua_State* L, int status) {
  RunState& run = RunState::of(L);
  if (status == LUA_ERRMEM && run.kill == Kill::None) {
    const std::string message =
        run.limit_refused
            ? "memory limit exceeded (" + format_bytes(run.limits.max_memory_bytes) + ")"
            : std::string("out of memory");
    kill(L, Kill::MemoryLimit, message, run.refused_where);
  }
  if (status != LUA_OK) check_alive(L);
}

void raise(lua_State* L, const std::string& message) {
  const std::string at = where(L);
  const std::string text = at.empty() ? message : at + ": " + message;
  lua_pushlstring(L, text.data(), text.size());
  lua_error(L);
  std::abort();  // lua_error does not return
}

std::string format_bytes(size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace faultline::script::detail
