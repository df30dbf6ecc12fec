// Strict reading of the option tables the `dr` Lua functions take: an
// unknown key or a mistyped value is a DrError naming the function and the
// key, never ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

namespace faultline::dr {

using json = nlohmann::json;

void allow_keys(const json& options, const char* function, std::initializer_list<const char*> keys);
// A non-empty string, or "" when absent (required: DrError when absent).
std::string string_opt(const json& options, const char* function, const char* key,
                       bool required = false);
// A string or a list of strings; absent gives {}.
std::vector<std::string> strings_opt(const json& options, const char* function, const char* key);
// "5m", "90s" or seconds; absent gives `fallback`.
std::chrono::milliseconds duration_opt(const json& options, const char* function, const char* key,
                                       std::chrono::milliseconds fallback);
bool bool_opt(const json& options, const char* function, const char* key, bool fallback);
// A count: true = any, false = none, or at most N.
int count_opt(const json& options, const char* function, const char* key, int fallback);

}  // namespace faultline::dr
