// An HttpTransport keyed by method and path (without the query), for the
// client's pure logic: pagination, retries, idempotency, error mapping.
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
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

  using StreamReply = std::function<kube::HttpResponse(
      const kube::HttpRequest&, const std::function<void(std::string_view)>&, std::stop_token)>;
  // Streams (watches) on "GET path", in order; the last one repeats.
  void on_stream(const std::string& path, StreamReply reply) {
    std::lock_guard lock(mu_);
    streams_["GET " + path].push_back(std::move(reply));
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

  kube::HttpResponse stream(const kube::HttpRequest& request,
                            const std::function<void(std::string_view)>& on_data,
                            std::stop_token stop) override {
    StreamReply reply;
    {
      std::lock_guard lock(mu_);
      sent_.push_back(request);
      auto it =
          streams_.find(request.method + " " + request.path.substr(0, request.path.find('?')));
      if (it == streams_.end() || it->second.empty())
        throw std::logic_error("no fake stream for " + request.path +
                               "; socket-level watch tests use TestServer");
      reply = it->second.front();
      if (it->second.size() > 1) it->second.pop_front();
    }
    return reply(request, on_data, stop);
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Reply>> replies_;
  std::map<std::string, std::deque<StreamReply>> streams_;
  std::vector<kube::HttpRequest> sent_;
};

// A live watch for FakeTransport::on_stream: what is pushed is sent, in
// order, until the test ends the stream (cleanly, or cut mid-stream) or the
// client stops; the next watch request then gets what is pushed after.
class WatchFeed : public std::enable_shared_from_this<WatchFeed> {
 public:
  void push(const std::string& type, const nlohmann::json& object) {
    std::lock_guard lock(mu_);
    lines_.push_back(nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n");
    cv_.notify_all();
  }
  // Ends the stream after what was pushed so far.
  void end(bool cut = false) {
    std::lock_guard lock(mu_);
    lines_.push_back(cut ? kCut : kEnd);
    cv_.notify_all();
  }
  FakeTransport::StreamReply reply() {
    return [self = shared_from_this()](const kube::HttpRequest&,
                                       const std::function<void(std::string_view)>& on_data,
                                       std::stop_token stop) {
      std::unique_lock lock(self->mu_);
      while (self->cv_.wait(lock, stop, [&] { return !self->lines_.empty(); })) {
        std::string line = std::move(self->lines_.front());
        self->lines_.pop_front();
        if (line == kEnd || line == kCut) return kube::HttpResponse{200, {}, "", line == kCut};
        lock.unlock();
        on_data(line);
        lock.lock();
      }
      return kube::HttpResponse{200, {}, "", false};
    };
  }

 private:
  static constexpr const char* kEnd = "\x01end";
  static constexpr const char* kCut = "\x01cut";
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::string> lines_;
};

}  // namespace faultline::testing
