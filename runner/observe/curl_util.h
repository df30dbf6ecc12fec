// Small libcurl helpers shared by the probes.
#pragma once

#include <string>

namespace faultline::observe {

// curl_global_init once per process, before the first handle.
void ensure_curl_global();

// Percent-encodes a query parameter value.
std::string url_escape(const std::string& text);

}  // namespace faultline::observe
