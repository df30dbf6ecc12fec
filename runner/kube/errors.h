// Kubernetes Status errors and transport failures as typed values carrying the
// verb, resource and name. Messages never contain credentials.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

namespace faultline::kube {

class ApiError : public std::runtime_error {
 public:
  enum class Kind {
    BadRequest,       // 400
    Unauthorized,     // 401
    Forbidden,        // 403
    NotFound,         // 404
    Conflict,         // 409 (also AlreadyExists, see reason)
    Gone,             // 410 (watch resourceVersion too old)
    Invalid,          // 422
    TooManyRequests,  // 429 (a PDB refusing an eviction, or throttling)
    ServerError,      // 500, 502, 503
    ServerTimeout,    // 504, or Status reason ServerTimeout/Timeout
    Transport,        // connection refused/reset, TLS failure, DNS
    Timeout,          // our own request deadline passed
    Decode,           // the body was not the JSON we expected
    Other,
  };

  ApiError(Kind kind, int http_status, std::string verb, std::string resource, std::string name,
           std::string message, std::string reason = "",
           std::optional<double> retry_after_seconds = std::nullopt);

  Kind kind() const { return kind_; }
  int http_status() const { return http_status_; }   // 0 for transport errors
  const std::string& verb() const { return verb_; }  // "get", "patch", "evict", ...
  const std::string& resource() const { return resource_; }
  const std::string& name() const { return name_; }
  const std::string& reason() const { return reason_; }  // Status.reason, e.g. "AlreadyExists"
  const std::string& message() const { return message_; }
  std::optional<double> retry_after_seconds() const { return retry_after_; }

  // Whether retrying an idempotent request may help.
  bool retryable() const;

 private:
  Kind kind_;
  int http_status_;
  std::string verb_, resource_, name_, message_, reason_;
  std::optional<double> retry_after_;
};

const char* to_string(ApiError::Kind kind);

}  // namespace faultline::kube
