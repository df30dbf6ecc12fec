// Turning an HTTP error response (usually a Kubernetes Status object) into a
// typed ApiError.
#pragma once

#include <optional>
#include <string>

#include "runner/kube/errors.h"
#include "runner/kube/transport.h"

namespace faultline::kube {

ApiError::Kind kind_for_status(int http_status, const std::string& reason);

// Retry-After in seconds (delta-seconds form; HTTP dates are ignored), else
// Status.details.retryAfterSeconds.
std::optional<double> retry_after(const HttpResponse& response);

// The error for a non-2xx response. The message comes from Status.message, or
// a single-line excerpt of a non-Status body.
ApiError status_error(const HttpResponse& response, const std::string& verb,
                      const std::string& resource, const std::string& name);

}  // namespace faultline::kube
