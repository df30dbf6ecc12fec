#include "runner/kube/errors.h"

#include <cmath>

namespace faultline::kube {
namespace {

// "patch nodes \"zone-a-1\": message (HTTP 409 Conflict, AlreadyExists)"
std::string describe(ApiError::Kind kind, int status, const std::string& verb,
                     const std::string& resource, const std::string& name,
                     const std::string& message, const std::string& reason,
                     std::optional<double> retry_after) {
  std::string s = verb.empty() ? "request" : verb;
  if (!resource.empty()) s += " " + resource;
  if (!name.empty()) s += " \"" + name + "\"";
  s += ": " + message + " (";
  if (status > 0) s += "HTTP " + std::to_string(status) + " ";
  s += to_string(kind);
  if (!reason.empty() && reason != to_string(kind)) s += ", " + reason;
  if (retry_after) s += ", retry after " + std::to_string(std::lround(*retry_after)) + "s";
  s += ")";
  return s;
}

}  // namespace

ApiError::ApiError(Kind kind, int http_status, std::string verb, std::string resource,
                   std::string name, std::string message, std::string reason,
                   std::optional<double> retry_after_seconds)
    : std::runtime_error(
          describe(kind, http_status, verb, resource, name, message, reason, retry_after_seconds)),
      kind_(kind),
      http_status_(http_status),
      verb_(std::move(verb)),
      resource_(std::move(resource)),
      name_(std::move(name)),
      message_(std::move(message)),
      reason_(std::move(reason)),
      retry_after_(retry_after_seconds) {}

// Timeout (our own deadline) is deliberately not retryable: the deadline is
// the budget the caller gave the request, and retrying would multiply it.
bool ApiError::retryable() const {
  switch (kind_) {
    case Kind::TooManyRequests:
    case Kind::ServerError:
    case Kind::ServerTimeout:
    case Kind::Transport:
      return true;
    default:
      return false;
  }
}

const char* to_string(ApiError::Kind kind) {
  switch (kind) {
    case ApiError::Kind::BadRequest:
      return "BadRequest";
    case ApiError::Kind::Unauthorized:
      return "Unauthorized";
    case ApiError::Kind::Forbidden:
      return "Forbidden";
    case ApiError::Kind::NotFound:
      return "NotFound";
    case ApiError::Kind::Conflict:
      return "Conflict";
    case ApiError::Kind::Gone:
      return "Gone";
    case ApiError::Kind::Invalid:
      return "Invalid";
    case ApiError::Kind::TooManyRequests:
      return "TooManyRequests";
    case ApiError::Kind::ServerError:
      return "ServerError";
    case ApiError::Kind::ServerTimeout:
      return "ServerTimeout";
    case ApiError::Kind::Transport:
      return "Transport";
    case ApiError::Kind::Timeout:
      return "Timeout";
    case ApiError::Kind::Decode:
      return "Decode";
    case ApiError::Kind::Other:
      return "Other";
  }
  return "Other";
}

}  // namespace faultline::kube
