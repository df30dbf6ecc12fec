// Internal to runner/script: Lua values <-> JSON, the only shapes that cross
// the host boundary.
//
// Lua -> JSON: nil absent; booleans; integers stay integers, other numbers
// are doubles (NaN and infinities refused); strings must be valid UTF-8; a
// table is an array when its keys are exactly 1..n, an object when every key
// is a string, and an empty table is an empty object. Functions, userdata,
// threads, mixed keys and nesting deeper than 32 levels are refused.
//
// JSON -> Lua: null is nil (absent field, hole in an array); objects and
// arrays become tables (arrays 1-based); integers stay integers.
#pragma once

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace faultline::script::detail {

// A Lua value that has no JSON form. what() names the path ("options.grace").
class ConvertError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Converts the value at `index`; `path` names it in errors. Throws ConvertError.
nlohmann::json to_json(lua_State* L, int index, const std::string& path);

// Pushes `value` as a fresh, mutable Lua value.
void push_json(lua_State* L, const nlohmann::json& value);

// Pushes `value` with every table read-only (see readonly.h); `name` is the
// path used in errors ("params", then "params.zones" for nested tables).
void push_readonly_json(lua_State* L, const nlohmann::json& value, const std::string& name);

}  // namespace faultline::script::detail
