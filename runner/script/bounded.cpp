// Bounds for the standard functions whose work the instruction hook cannot
// see: string.rep and table.move loop inside one C call (string.rep("", 1e9)
// or table.move({}, 1, math.maxinteger - 1, 1, {}) run for seconds to
// forever, allocating nothing the memory cap would refuse). Each wrapper
// checks its count and calls the stock function. Pattern matching
// (string.find/match/gmatch/gsub) has no such count to bound; a pathological
// pattern is stopped by running the script on a worker thread that rollback
// does not wait for (runner/experiment/script_thread.h).
#include "runner/script/bounded.h"

#include <string>

#include "runner/script/run_state.h"

namespace faultline::script::detail {
namespace {

// Calls upvalue 1 (the stock function) with this call's arguments.
int call_stock(lua_State* L) {
  const int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

// The stock loop runs n times even when each copy is empty; a non-empty
// result is bounded by the memory cap (it is allocated before the loop).
int bounded_rep(lua_State* L) {
  size_t len = 0, sep = 0;
  luaL_checklstring(L, 1, &len);
  luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &sep);
  if (len == 0 && sep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  return call_stock(L);
}

int bounded_move(lua_State* L) {
  const lua_Integer f = luaL_checkinteger(L, 2);
  const lua_Integer e = luaL_checkinteger(L, 3);
  if (e >= f && static_cast<lua_Unsigned>(e) - static_cast<lua_Unsigned>(f) >= kMaxMoved)
    raise(L, "table.move: moving " +
                 std::to_string(static_cast<lua_Unsigned>(e) - static_cast<lua_Unsigned>(f) + 1) +
                 " elements is over the limit of " + std::to_string(kMaxMoved));
  return call_stock(L);
}

void wrap(lua_State* L, int table, const char* name, lua_CFunction fn) {
  lua_getfield(L, table, name);
  lua_pushcclosure(L, fn, 1);
  lua_setfield(L, table, name);
}

}  // namespace

void bound_string_library(lua_State* L, int table) { wrap(L, table, "rep", bounded_rep); }
void bound_table_library(lua_State* L, int table) { wrap(L, table, "move", bounded_move); }

}  // namespace faultline::script::detail
