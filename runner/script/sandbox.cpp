// The sandbox: approved names only (redis libraries_allow_list), a fresh
// _ENV per run, and wrappers for the few base functions whose stock versions
// would open a hole: load (bytecode, the real globals), require (files),
// pcall/xpcall (swallowing kills), rawset/setmetatable (read-only tables,
// finalizers).
#include "runner/script/sandbox.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "runner/script/bindings.h"
#include "runner/script/bounded.h"
#include "runner/script/convert.h"
#include "runner/script/readonly.h"
#include "runner/script/run_state.h"

namespace faultline::script::detail {
namespace {

// Addresses used as registry keys.
const char kEnvKey = 0;
const char kLoadedKey = 0;

// Stock base functions that are safe as they are.
constexpr const char* kBaseAllowList[] = {
    "assert",   "error", "ipairs",   "next",   "pairs",  "select",       "tonumber",
    "tostring", "type",  "rawequal", "rawlen", "rawget", "getmetatable", "_VERSION",
};

// Libraries offered as read-only tables.
struct Library {
  const char* name;
  lua_CFunction open;
};
constexpr Library kLibraries[] = {
    {LUA_STRLIBNAME, luaopen_string},
    {LUA_TABLIBNAME, luaopen_table},
    {LUA_MATHLIBNAME, luaopen_math},
    {LUA_UTF8LIBNAME, luaopen_utf8},
};

std::string to_text(lua_State* L, int index) {
  size_t len = 0;
  const char* s = luaL_tolstring(L, index, &len);
  std::string out(s, len);
  lua_pop(L, 1);
  return out;
}

// __index of the environment; upvalue 1: the table of built-ins.
int global_index(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  raise(L, "script attempted to access nonexistent global variable '" + to_text(L, 2) + "'");
}

// __newindex of the environment: scripts may declare globals (phase
// functions, shared state) but not replace a built-in.
int global_newindex(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {
    raise(L, "cannot assign to global '" + to_text(L, 2) + "': it is a sandbox built-in");
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 0;
}

// pcall that cannot catch a kill (limit, abort, host failure, memory).
int sandbox_pcall(lua_State* L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  const int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
  reraise_if_fatal(L, status);
  if (status != LUA_OK) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L);
}

// The message handler xpcall installs in place of the script's: once the run
// is killed it returns the error untouched instead of calling the script's
// handler, because an error raised from the count hook leaves hooks disabled
// until the protected call unwinds, and a looping handler would then never
// be stopped. Upvalue 1: the script's handler.
int guarded_handler(lua_State* L) {
  if (RunState::of(L).kill != Kill::None) return 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

int sandbox_xpcall(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, guarded_handler, 1);
  lua_replace(L, 2);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);  // [f, handler, true, f, args...]
  const int status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
  reraise_if_fatal(L, status);
  if (status != LUA_OK) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - 2;
}

// load(chunk [, chunkname [, mode [, env]]]): strings only, text mode only,
// the sandbox environment unless one is given.
int sandbox_load(lua_State* L) {
  if (lua_type(L, 1) != LUA_TSTRING) {
    raise(L,
          std::string("load: only source strings can be loaded (got ") + luaL_typename(L, 1) + ")");
  }
  size_t len = 0;
  const char* source = lua_tolstring(L, 1, &len);
  const char* chunkname = luaL_optstring(L, 2, source);  // stock default: the source itself
  const char* mode = luaL_optstring(L, 3, "t");
  if (std::strcmp(mode, "t") != 0) {
    raise(L, std::string("load: mode '") + mode +
                 "' is not allowed: only text chunks (mode \"t\") can be loaded");
  }
  const int status = luaL_loadbufferx(L, source, len, chunkname, "t");
  if (status != LUA_OK) {
    if (status == LUA_ERRMEM) reraise_if_fatal(L, status);
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;  // nil, message: as the stock load
  }
  if (!lua_isnone(L, 4)) {
    lua_pushvalue(L, 4);
  } else {
    push_env(L);
  }
  if (lua_setupvalue(L, -2, 1) == nullptr) lua_pop(L, 1);
  return 1;
}

// require(name): <scripts_root>/<name with '.' as '/'>.lua and nothing else,
// run once in the sandbox environment; the result is cached.
int sandbox_require(lua_State* L) {
  if (lua_type(L, 1) != LUA_TSTRING) {
    raise(L,
          std::string("require: module name must be a string (got ") + luaL_typename(L, 1) + ")");
  }
  const std::string name = lua_tostring(L, 1);
  bool ok = !name.empty() && name.front() != '.' && name.back() != '.' &&
            name.find("..") == std::string::npos;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) ok = false;
  }
  if (!ok) {
    raise(L, "require: module name '" + name +
                 "' is not allowed (letters, digits, '_' and '.' only; modules are loaded from "
                 "lua-scripts/)");
  }
  lua_settop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kLoadedKey);  // 2: cache
  lua_pushvalue(L, 1);
  const int cached = lua_rawget(L, 2);
  if (cached == LUA_TLIGHTUSERDATA) raise(L, "require: loop while loading module '" + name + "'");
  if (cached != LUA_TNIL) return 1;
  lua_pop(L, 1);

  std::string relative = name;
  for (char& c : relative) {
    if (c == '.') c = '/';
  }
  relative += ".lua";
  const RunState& run = RunState::of(L);
  std::string text, error;
  if (!read_script(run.scripts_root, relative, &text, &error)) raise(L, "require: " + error);
  const int loaded = load_script(L, text, relative);  // 3: the chunk or the message
  if (loaded != LUA_OK) {
    reraise_if_fatal(L, loaded);
    std::string message = lua_tostring(L, -1);
    if (message.rfind(run.prefix, 0) != 0) message = run.prefix + relative + ": " + message;
    raise(L, "require: " + message);
  }
  push_env(L);
  lua_setupvalue(L, 3, 1);

  lua_pushvalue(L, 1);  // mark as loading, so a cycle fails instead of recursing
  lua_pushlightuserdata(L, const_cast<char*>(&kLoadedKey));
  lua_rawset(L, 2);
  lua_pushvalue(L, 1);
  const int status = lua_pcall(L, 1, 1, 0);
  if (status != LUA_OK) {
    lua_pushvalue(L, 1);  // clear the mark so a later require retries
    lua_pushnil(L);
    lua_rawset(L, 2);
    reraise_if_fatal(L, status);
    lua_error(L);  // the module's own error, with its file:line
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, 2);
  return 1;
}

// rawset that respects read-only tables and the environment's built-ins;
// upvalue 1: the table of built-ins.
int sandbox_rawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (is_readonly(L, 1)) raise(L, "rawset: the table is read-only");
  push_env(L);
  const bool is_env = lua_rawequal(L, 1, -1) != 0;
  lua_pop(L, 1);
  if (is_env) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {
      raise(L, "rawset: cannot assign to global '" + to_text(L, 2) + "': it is a sandbox built-in");
    }
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

// setmetatable without finalizers: a __gc would run at arbitrary points
// (and after the run), where its errors would be lost.
int sandbox_setmetatable(lua_State* L) {
  const int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (t == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) {
      raise(L, "setmetatable: __gc metamethods are not allowed in experiment scripts");
    }
    lua_pop(L, 1);
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
    raise(L, "cannot change a protected metatable");
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

}  // namespace

void build_env(lua_State* L, const nlohmann::json& params, const nlohmann::json& target) {
  const int top = lua_gettop(L);
  luaL_checkstack(L, 8, "building the sandbox");
  lua_newtable(L);
  const int base = lua_gettop(L);

  // The stock base library fills the real global table; copy the allowed
  // names, then empty it so nothing reachable later can find the rest.
  luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
  const int globals = lua_gettop(L);
  for (const char* name : kBaseAllowList) {
    lua_getfield(L, globals, name);
    lua_setfield(L, base, name);
  }
  lua_pushnil(L);
  while (lua_next(L, globals) != 0) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, globals);
  }
  lua_settop(L, base);

  for (const Library& lib : kLibraries) {
    luaL_requiref(L, lib.name, lib.open, 0);
    const int table = lua_gettop(L);
    if (std::strcmp(lib.name, LUA_STRLIBNAME) == 0) {
      // No bytecode, ever: string.dump goes from the table every string
      // indexes into, and the string metatable is hidden from getmetatable.
      lua_pushnil(L);
      lua_setfield(L, table, "dump");
      lua_pushliteral(L, "");
      lua_getmetatable(L, -1);
      lua_pushboolean(L, 0);
      lua_setfield(L, -2, "__metatable");
      lua_pop(L, 2);
      bound_string_library(L, table);
    }
    if (std::strcmp(lib.name, LUA_TABLIBNAME) == 0) {
      bound_table_library(L, table);
      lua_getfield(L, table, "unpack");
      lua_setfield(L, base, "unpack");  // Lua 5.1's global name, kept for convenience
    }
    make_readonly(L, lib.name, false);
    lua_setfield(L, base, lib.name);
  }

  lua_pushcfunction(L, sandbox_pcall);
  lua_setfield(L, base, "pcall");
  lua_pushcfunction(L, sandbox_xpcall);
  lua_setfield(L, base, "xpcall");
  lua_pushcfunction(L, sandbox_load);
  lua_setfield(L, base, "load");
  lua_pushcfunction(L, sandbox_require);
  lua_setfield(L, base, "require");
  lua_pushcfunction(L, sandbox_setmetatable);
  lua_setfield(L, base, "setmetatable");
  lua_pushvalue(L, base);
  lua_pushcclosure(L, sandbox_rawset, 1);
  lua_setfield(L, base, "rawset");

  add_host_modules(L, base);
  push_readonly_json(L, params.is_null() ? nlohmann::json::object() : params, "params");
  lua_setfield(L, base, "params");
  push_readonly_json(L, target.is_null() ? nlohmann::json::object() : target, "target");
  lua_setfield(L, base, "target");

  lua_newtable(L);  // the environment: empty; built-ins come through __index
  const int env = lua_gettop(L);
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, base);
  lua_pushcclosure(L, global_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, base);
  lua_pushcclosure(L, global_newindex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, env);
  lua_pushvalue(L, env);
  lua_setfield(L, base, "_G");
  // Tracebacks name functions by searching the registry's _LOADED tables;
  // pointing its "_G" at the environment names the script's global functions
  // ("in function 'inject'") instead of the emptied real globals.
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, env);
  lua_setfield(L, -2, LUA_GNAME);
  lua_pop(L, 1);

  lua_pushvalue(L, env);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kEnvKey);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kLoadedKey);
  lua_settop(L, top);
}

void push_env(lua_State* L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &kEnvKey); }

std::string chunk_prefix(const std::string& scripts_root) {
  if (scripts_root.empty() || scripts_root.back() == '/') return scripts_root;
  return scripts_root + "/";
}

bool read_script(const std::string& root, const std::string& relative, std::string* text,
                 std::string* error) {
  std::ifstream in(root + "/" + relative, std::ios::binary);
  if (!in) {
    *error = chunk_prefix(root) + relative + ": cannot read: " + std::strerror(errno);
    return false;
  }
  text->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    *error = chunk_prefix(root) + relative + ": cannot read: I/O error";
    return false;
  }
  return true;
}

int load_script(lua_State* L, const std::string& text, const std::string& relative) {
  const std::string chunkname = "@" + RunState::of(L).prefix + relative;
  return luaL_loadbufferx(L, text.data(), text.size(), chunkname.c_str(), "t");
}

int message_handler(lua_State* L) {
  RunState& run = RunState::of(L);
  run.overdraft = kOverdraft;
  if (lua_type(L, 1) != LUA_TSTRING && lua_type(L, 1) != LUA_TNUMBER) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
      lua_replace(L, 1);
    } else {
      lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
      lua_replace(L, 1);
    }
  }
  lua_tostring(L, 1);  // a number becomes its text in place
  luaL_traceback(L, L, nullptr, 1);
  try {
    run.traceback = lua_tostring(L, -1);
    run.error_where = where(L);
  } catch (const std::exception&) {
    // Out of host memory while copying the traceback: the message itself is
    // still reported; only the traceback text is lost.
    run.traceback.clear();
  }
  lua_settop(L, 1);
  return 1;
}

}  // namespace faultline::script::detail
