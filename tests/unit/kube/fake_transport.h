// An HttpTransport keyed by method and path (without the query), for the
// client's pure logic: pagination, retries, idempotency, error mapping.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "runner/kube/errors.h"
#include "runner/kube/transport.h"

namespace faultline::testing {

class FakeTransport : public kube::HttpTransport {
 public:
  using Reply = std::function<kube::HttpResponse(const kube::HttpRequest&)>;

  // Replies for "METHOD path" in order; the last one repeats.
  void on(const std::string& method, const std::string& path, Reply reply) {
    std::lock_guard lock(mu_);
    replies_[method + " " + path].push_back(std::move(reply));
  }
  void on(const std::string& method, const std::string& path, int status, const std::string& body,
          std::map<std::string, std::string> headers = {}) {
    on(method, path, [=](const kube::HttpRequest&) {
      return kube::HttpResponse{status, headers, body, false};
    });
  }

  std::vector<kube::HttpRequest> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  size_t count(const std::string& method, const std::string& path) const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& r : sent_)
      if (r.method == method && r.path.substr(0, r.path.find('?')) == path) ++n;
    return n;
  }

  kube::HttpResponse send(const kube::HttpRequest& request) override {
    Reply reply;
    {
      std::lock_guard lock(mu_);
      sent_.push_back(request);
      auto key = request.method + " " + request.path.substr(0, request.path.find('?'));
      auto it = replies_.find(key);
      if (it == replies_.end() || it->second.empty())
        return {404,
                {},
                R"({"kind":"Status","code":404,"reason":"NotFound","message":"no fake for )" + key +
                    "\"}",
                false};
      reply = it->second.front();
      if (it->second.size() > 1) it->second.pop_front();
    }
    return reply(request);
  }

  kube::HttpResponse stream(const kube::HttpRequest&, const std::function<void(std::string_view)>&,
                            std::stop_token) override {
    throw std::logic_error("FakeTransport does not stream; watch tests use TestServer");
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Reply>> replies_;
  std::vector<kube::HttpRequest> sent_;
};

}  // namespace faultline::testing
