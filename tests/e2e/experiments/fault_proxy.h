// A fault-injecting reverse proxy in front of the real kube-apiserver, for
// the one fault the real server will not produce on demand: answering 500 to
// chosen requests. Plain HTTP on 127.0.0.1 in front; behind, HTTPS to the API
// server with the kubeconfig's client certificate (libcurl). Responses are
// relayed chunk by chunk as they arrive, so watches stream through it.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runner/kube/config.h"

namespace faultline::testing {

struct ProxiedRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::string body;
};

class FaultProxy {
 public:
  // `fail(request)` decides whether a request is answered `status` (500, or
  // e.g. 403 for a watch RBAC refuses) instead of forwarded; it is called for
  // every request, one at a time (so it can also record them all).
  FaultProxy(kube::ClientConfig upstream, std::function<bool(const ProxiedRequest&)> fail,
             int status = 500);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  // Writes a kubeconfig that points at the proxy (no credentials: the proxy
  // authenticates upstream); returns its path.
  std::string write_kubeconfig(const std::string& path) const;
  int injected() const { return injected_; }    // requests answered 500
  int forwarded() const { return forwarded_; }  // requests relayed upstream

 private:
  void accept_loop();
  void serve(int fd);
  void forward(int fd, const ProxiedRequest& request, const std::vector<std::string>& headers);

  kube::ClientConfig upstream_;
  std::function<bool(const ProxiedRequest&)> fail_;
  int status_ = 500;
  std::mutex fail_mutex_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> injected_{0}, forwarded_{0};
  std::mutex threads_mutex_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace faultline::testing
