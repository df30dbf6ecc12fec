// A small threaded HTTP/1.1 server on 127.0.0.1 for probe tests: the test
// decides per request whether it answers, fails with a status, is slow,
// stalls until a moment, or hangs. One thread per connection, keep-alive.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace faultline::testing {

struct TestRequest {
  std::string method;
  std::string path;                            // with the query string
  std::map<std::string, std::string> headers;  // lower-case names
  std::chrono::steady_clock::time_point arrived;
};

struct TestResponse {
  int status = 200;
  std::string body = "ok";
  std::string content_type = "text/plain";
};

class TestHttpServer {
 public:
  using Handler = std::function<TestResponse(const TestRequest&)>;

  TestHttpServer();
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const;

  // Behaviour for requests that arrive from now on (thread-safe).
  void set_response(TestResponse r);
  void set_handler(Handler h);  // overrides set_response
  void set_delay(std::chrono::milliseconds d);
  // Requests arriving before `until` are answered at `until`.
  void stall_until(std::chrono::steady_clock::time_point until);
  // While hanging, requests are read and never answered (until release).
  void hang();
  void release();

  long requests() const { return requests_; }
  std::vector<TestRequest> recorded() const;  // every request so far

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<long> requests_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  TestResponse response_;
  Handler handler_;
  std::chrono::milliseconds delay_{0};
  std::chrono::steady_clock::time_point stall_until_{};
  bool hanging_ = false;
  std::vector<TestRequest> recorded_;
  std::vector<std::thread> connections_;
  std::vector<int> connection_fds_;
  std::thread acceptor_;
};

// A port on 127.0.0.1 that was free a moment ago.
int free_port();

}  // namespace faultline::testing
