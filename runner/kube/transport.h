// HTTP underneath the client: an interface so fault tests can inject what a
// real API server will not produce on demand.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "runner/kube/config.h"

namespace faultline::kube {

struct HttpRequest {
  std::string method;  // GET POST PATCH PUT DELETE
  std::string path;    // "/api/v1/nodes?labelSelector=..."
  std::map<std::string, std::string> headers;
  std::string body;
  std::chrono::milliseconds timeout{30000};  // 0: none (watches use stop tokens)
  // A client certificate for this request only (exec plugins may return
  // one); empty: the transport's own from the ClientConfig.
  std::string client_cert_pem;
  std::string client_key_pem;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  // stream() only: the body ended without a proper end (connection cut,
  // reset, or stalled), as opposed to the server closing it cleanly.
  bool truncated = false;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Throws ApiError(Transport/Timeout) when no HTTP response arrived.
  virtual HttpResponse send(const HttpRequest& request) = 0;
  // Streams the body to on_data as it arrives (watches). Returns the status
  // and headers once the stream ends, is cut, or stop is requested. When the
  // status is not 2xx the body is accumulated and returned instead.
  virtual HttpResponse stream(const HttpRequest& request,
                              const std::function<void(std::string_view)>& on_data,
                              std::stop_token stop) = 0;
};

// libcurl: one share handle (TLS sessions, DNS) and a pool of easy handles
// that each keep their connections alive for the next request; HTTP/2 where
// the server offers it; credentials applied per request. See
// curl_transport.cpp for why connections are not in the share handle.
std::shared_ptr<HttpTransport> make_curl_transport(const ClientConfig& config);

}  // namespace faultline::kube
