// Percent-encoding for path segments and query values, and a small builder
// for query strings (selectors contain '=', ',', '!' and spaces).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline::kube {

// Escapes everything except RFC 3986 unreserved characters.
std::string url_escape(std::string_view text);

// "?a=1&b=x%3Dy" from the non-empty values; "" when all are empty.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace faultline::kube
