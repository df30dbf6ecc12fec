// Standard base64 (RFC 4648, with padding; whitespace ignored), for the
// *-data fields of kubeconfig and ExecCredential.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace faultline::kube {

// nullopt when text is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace faultline::kube
