// Internal to runner/script: bounded replacements for standard functions
// that can run long inside one C call (see bounded.cpp).
#pragma once

#include <lua.hpp>

#include <cstddef>

namespace faultline::script::detail {

// Elements one table.move may move: far more than a drill script needs,
// little enough to take milliseconds.
inline constexpr size_t kMaxMoved = size_t{1} << 22;

// Replace the functions in the library table at `table` (before it is made read-only).
void bound_string_library(lua_State* L, int table);
void bound_table_library(lua_State* L, int table);

}  // namespace faultline::script::detail
