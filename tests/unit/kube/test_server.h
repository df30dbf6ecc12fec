// A small HTTP/1.1 server (plain or TLS via OpenSSL) on 127.0.0.1 for the
// client's fault tests: each request goes to a handler that may answer,
// stream, cut the connection mid-body, or hang.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace faultline::testing {

struct Request {
  std::string method;
  std::string target;                          // path and query, as sent: "/api/v1/pods?limit=500"
  std::string path;                            // without the query
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class Connection;

// One request and the means to answer it.
class Exchange {
 public:
  Exchange(Connection& c, Request r) : conn_(c), request(std::move(r)) {}
  void respond(int status, const std::string& body,
               const std::map<std::string, std::string>& headers = {
                   {"Content-Type", "application/json"}});
  // A Kubernetes Status error body.
  void status(int code, const std::string& reason, const std::string& message,
              const std::map<std::string, std::string>& headers = {});
  void begin_stream(int status = 200);
  void chunk(const std::string& data);
  void end_stream();
  void write_raw(const std::string& bytes);
  void cut();   // close the connection with the body unfinished
  void hang();  // block until the client goes away or the server stops

 private:
  friend class TestServer;
  Connection& conn_;
  bool done_ = false;    // a complete response was sent: keep the connection
  bool closed_ = false;  // the connection is gone

 public:
  const Request request;
};

class TestServer {
 public:
  using Handler = std::function<void(Exchange&)>;
  struct Tls {
    std::string cert_file, key_file;
    std::string client_ca_file;  // non-empty: require a client certificate
  };

  explicit TestServer(Handler handler, std::optional<Tls> tls = std::nullopt);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::string url() const;
  int port() const { return port_; }
  std::vector<Request> requests() const;
  // Requests whose method matches and whose path starts with path_prefix.
  size_t count(const std::string& method, const std::string& path_prefix = "") const;
  bool stopping() const { return stopping_; }
  size_t connections() const { return accepted_; }  // accepted so far
  size_t open_connections() const;                  // accepted and not yet closed

 private:
  friend class Connection;
  friend class Exchange;
  void accept_loop();
  void serve(int fd);
  void record(const Request& r);

  Handler handler_;
  SSL_CTX* ssl_ = nullptr;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> accepted_{0};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::set<int> open_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// Runs a shell command; throws with its output when it fails.
std::string sh(const std::string& command);

// A throw-away PKI made with the openssl CLI in dir: ca.crt/key, a server
// certificate for `server_san` (e.g. "IP:127.0.0.1" or "DNS:kube.test"),
// and a client certificate. Nothing is committed.
struct Pki {
  std::string dir, ca_crt, server_crt, server_key, client_crt, client_key;
};
Pki make_pki(const std::string& dir, const std::string& server_san);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);
// A fresh directory under the test temp dir.
std::string temp_dir(const std::string& name);

}  // namespace faultline::testing
