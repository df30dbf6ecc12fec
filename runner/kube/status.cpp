#include "runner/kube/status.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdlib>

namespace faultline::kube {
namespace {

// A body that is not a Status (a proxy's HTML page, say): first line, short.
std::string excerpt(const std::string& body) {
  std::string out;
  for (char c : body) {
    if (out.size() >= 200) {
      out += "...";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return out.empty() ? "empty response body" : out;
}

}  // namespace

ApiError::Kind kind_for_status(int status, const std::string& reason) {
  if (reason == "Timeout" || reason == "ServerTimeout") return ApiError::Kind::ServerTimeout;
  switch (status) {
    case 400:
      return ApiError::Kind::BadRequest;
    case 401:
      return ApiError::Kind::Unauthorized;
    case 403:
      return ApiError::Kind::Forbidden;
    case 404:
      return ApiError::Kind::NotFound;
    case 409:
      return ApiError::Kind::Conflict;
    case 410:
      return ApiError::Kind::Gone;
    case 422:
      return ApiError::Kind::Invalid;
    case 429:
      return ApiError::Kind::TooManyRequests;
    case 504:
      return ApiError::Kind::ServerTimeout;
    default:
      break;
  }
  if (status >= 500) return ApiError::Kind::ServerError;
  return ApiError::Kind::Other;
}

std::optional<double> retry_after(const HttpResponse& response) {
  if (auto it = response.headers.find("retry-after"); it != response.headers.end()) {
    const std::string& v = it->second;
    char* end = nullptr;
    double seconds = std::strtod(v.c_str(), &end);
    if (end != v.c_str() && *end == '\0' && seconds >= 0) return seconds;
  }
  auto status = nlohmann::json::parse(response.body, nullptr, false);
  if (status.is_object() && status.contains("details") && status["details"].is_object()) {
    const auto& d = status["details"];
    if (d.contains("retryAfterSeconds") && d["retryAfterSeconds"].is_number() &&
        d["retryAfterSeconds"].get<double>() > 0)
      return d["retryAfterSeconds"].get<double>();
  }
  return std::nullopt;
}

ApiError status_error(const HttpResponse& response, const std::string& verb,
                      const std::string& resource, const std::string& name) {
  std::string message, reason;
  auto status = nlohmann::json::parse(response.body, nullptr, false);
  if (status.is_object() && status.value("kind", "") == "Status") {
    if (status.contains("message") && status["message"].is_string())
      message = status["message"].get<std::string>();
    if (status.contains("reason") && status["reason"].is_string())
      reason = status["reason"].get<std::string>();
  }
  if (message.empty()) message = excerpt(response.body);
  return ApiError(kind_for_status(response.status, reason), response.status, verb, resource, name,
                  message, reason, retry_after(response));
}

}  // namespace faultline::kube
