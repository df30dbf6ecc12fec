// Read-only proxies: the proxy itself stays empty so every read goes through
// __index and every write through __newindex; __len and __pairs make # and
// pairs() see the backing table, and __metatable hides the metatable (and
// with it the backing table) from getmetatable/setmetatable.
#include "runner/script/readonly.h"

#include "runner/script/run_state.h"

namespace faultline::script::detail {
namespace {

// Its address is the key under which a proxy's metatable keeps the backing
// table; nothing a script can name.
const char kBackingKey = 0;

std::string key_text(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TSTRING) return lua_tostring(L, index);
  if (lua_type(L, index) == LUA_TNUMBER)
    return "[" + std::string(luaL_tolstring(L, index, nullptr)) + "]";
  return std::string("<") + luaL_typename(L, index) + ">";
}

// __newindex(proxy, key, value); upvalue 1: the table's name.
int refuse_write(lua_State* L) {
  const std::string name = lua_tostring(L, lua_upvalueindex(1));
  raise(L, "attempt to modify read-only table '" + name + "' (field " + key_text(L, 2) + ")");
}

// __index(proxy, key) for strict tables; upvalues: backing table, name.
int strict_index(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  const std::string name = lua_tostring(L, lua_upvalueindex(2));
  raise(L, "'" + name + "." + key_text(L, 2) +
               "' does not exist in the faultline Lua API (see lua-scripts/README.md)");
}

// __len(proxy); upvalue 1: backing table.
int length(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, lua_upvalueindex(1))));
  return 1;
}

// The iterator pairs() returns: next() over the backing table, which stays
// an upvalue so the script never holds it.
int iterate(lua_State* L) {
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 2);
  if (lua_next(L, -2) != 0) return 2;
  lua_pushnil(L);
  return 1;
}

// __pairs(proxy); upvalue 1: backing table.
int pairs(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushcclosure(L, iterate, 1);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

}  // namespace

void make_readonly(lua_State* L, const std::string& name, bool strict) {
  const int backing = lua_gettop(L);
  luaL_checkstack(L, 4, "read-only table");
  lua_newtable(L);  // the proxy
  lua_createtable(L, 0, 6);
  if (strict) {
    lua_pushvalue(L, backing);
    lua_pushlstring(L, name.data(), name.size());
    lua_pushcclosure(L, strict_index, 2);
  } else {
    lua_pushvalue(L, backing);
  }
  lua_setfield(L, -2, "__index");
  lua_pushlstring(L, name.data(), name.size());
  lua_pushcclosure(L, refuse_write, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, backing);
  lua_pushcclosure(L, length, 1);
  lua_setfield(L, -2, "__len");
  lua_pushvalue(L, backing);
  lua_pushcclosure(L, pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pushvalue(L, backing);
  lua_rawsetp(L, -2, &kBackingKey);
  lua_setmetatable(L, -2);
  lua_replace(L, backing);
}

bool is_readonly(lua_State* L, int index) {
  if (!push_backing(L, index)) return false;
  lua_pop(L, 1);
  return true;
}

bool push_backing(lua_State* L, int index) {
  index = lua_absindex(L, index);
  if (lua_type(L, index) != LUA_TTABLE || !lua_getmetatable(L, index)) return false;
  if (lua_rawgetp(L, -1, &kBackingKey) == LUA_TNIL) {
    lua_pop(L, 2);
    return false;
  }
  lua_remove(L, -2);
  return true;
}

}  // namespace faultline::script::detail
