#include "runner/script/convert.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "runner/script/readonly.h"

namespace faultline::script::detail {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 32;

// nlohmann::json::dump() throws on invalid UTF-8; refuse it here, where the
// script line is still known, rather than when the journal is written.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

json convert(lua_State* L, int index, const std::string& path, int depth);

json convert_table(lua_State* L, int index, const std::string& path, int depth) {
  if (depth >= kMaxDepth) {
    throw ConvertError(path + ": tables nested more than " + std::to_string(kMaxDepth) +
                       " levels deep (is there a cycle?)");
  }
  if (push_backing(L, index)) {  // a read-only proxy (params, target): convert what it shows
    json out = convert_table(L, lua_gettop(L), path, depth);
    lua_pop(L, 1);
    return out;
  }
  luaL_checkstack(L, 4, "converting a table to JSON");
  lua_Integer count = 0;
  bool all_positive_integers = true, all_strings = true;
  lua_Integer max_key = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    ++count;
    if (lua_isinteger(L, -2)) {
      const lua_Integer k = lua_tointeger(L, -2);
      if (k < 1) all_positive_integers = false;
      if (k > max_key) max_key = k;
      all_strings = false;
    } else if (lua_type(L, -2) == LUA_TSTRING) {
      all_positive_integers = false;
    } else {
      const std::string type = luaL_typename(L, -2);
      lua_pop(L, 2);
      throw ConvertError(path + ": a table key of type " + type +
                         " cannot be passed to the host (keys must be strings, or 1..n)");
    }
    lua_pop(L, 1);
  }
  if (count == 0) return json::object();
  if (all_positive_integers && max_key == count) {
    json out = json::array();
    for (lua_Integer i = 1; i <= count; ++i) {
      lua_rawgeti(L, index, i);
      out.push_back(convert(L, lua_gettop(L), path + "[" + std::to_string(i) + "]", depth + 1));
      lua_pop(L, 1);
    }
    return out;
  }
  if (!all_strings) {
    throw ConvertError(path +
                       ": a table mixing string and number keys (or an array with holes) cannot "
                       "be passed to the host");
  }
  json out = json::object();
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    const std::string key = lua_tostring(L, -2);  // a string key: no conversion in place
    out[key] = convert(L, lua_gettop(L), path + "." + key, depth + 1);
    lua_pop(L, 1);
  }
  return out;
}

json convert(lua_State* L, int index, const std::string& path, int depth) {
  switch (lua_type(L, index)) {
    case LUA_TNIL:
    case LUA_TNONE:
      return nullptr;
    case LUA_TBOOLEAN:
      return lua_toboolean(L, index) != 0;
    case LUA_TNUMBER: {
      if (lua_isinteger(L, index)) return static_cast<int64_t>(lua_tointeger(L, index));
      const double d = lua_tonumber(L, index);
      if (!std::isfinite(d))
        throw ConvertError(path + ": NaN and infinity cannot be passed to the host");
      return d;
    }
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      std::string text(s, len);
      if (!valid_utf8(text)) throw ConvertError(path + ": string is not valid UTF-8");
      return text;
    }
    case LUA_TTABLE:
      return convert_table(L, lua_absindex(L, index), path, depth);
    default:
      throw ConvertError(path + ": a " + luaL_typename(L, index) + " cannot be passed to the host");
  }
}

void push(lua_State* L, const json& value, const std::string* name) {
  luaL_checkstack(L, 3, "converting JSON to Lua");
  switch (value.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
    case json::value_t::binary:
      lua_pushnil(L);
      return;
    case json::value_t::boolean:
      lua_pushboolean(L, value.get<bool>() ? 1 : 0);
      return;
    case json::value_t::number_integer:
      lua_pushinteger(L, static_cast<lua_Integer>(value.get<int64_t>()));
      return;
    case json::value_t::number_unsigned: {
      const auto u = value.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<lua_Integer>::max())) {
        lua_pushinteger(L, static_cast<lua_Integer>(u));
      } else {
        lua_pushnumber(L, static_cast<lua_Number>(u));
      }
      return;
    }
    case json::value_t::number_float:
      lua_pushnumber(L, value.get<double>());
      return;
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case json::value_t::array: {
      lua_createtable(L, static_cast<int>(value.size()), 0);
      lua_Integer i = 0;
      for (const auto& item : value) {
        ++i;
        if (item.is_null()) continue;
        if (name) {
          const std::string child = *name + "[" + std::to_string(i) + "]";
          push(L, item, &child);
        } else {
          push(L, item, nullptr);
        }
        lua_rawseti(L, -2, i);
      }
      if (name) make_readonly(L, *name, false);
      return;
    }
    case json::value_t::object: {
      lua_createtable(L, 0, static_cast<int>(value.size()));
      for (const auto& [key, item] : value.items()) {
        if (item.is_null()) continue;
        lua_pushlstring(L, key.data(), key.size());
        if (name) {
          const std::string child = *name + "." + key;
          push(L, item, &child);
        } else {
          push(L, item, nullptr);
        }
        lua_rawset(L, -3);
      }
      if (name) make_readonly(L, *name, false);
      return;
    }
  }
  lua_pushnil(L);
}

}  // namespace

json to_json(lua_State* L, int index, const std::string& path) {
  return convert(L, lua_absindex(L, index), path, 0);
}

void push_json(lua_State* L, const json& value) { push(L, value, nullptr); }

void push_readonly_json(lua_State* L, const json& value, const std::string& name) {
  push(L, value, &name);
}

}  // namespace faultline::script::detail
