#include "tests/unit/observe/test_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace faultline::testing {
namespace {

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 302:
      return "Found";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

std::optional<TestRequest> parse(const std::string& head) {
  TestRequest r;
  auto line_end = head.find("\r\n");
  auto first = head.substr(0, line_end);
  auto sp1 = first.find(' ');
  auto sp2 = first.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return std::nullopt;
  r.method = first.substr(0, sp1);
  r.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    auto line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    pos = end + 2;
  }
  return r;
}

}  // namespace

TestHttpServer::TestHttpServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 1024) != 0)
    throw std::runtime_error(std::string("test server: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestHttpServer::~TestHttpServer() {
  stopping_ = true;
  {
    std::lock_guard lock(mu_);
    hanging_ = false;
    for (int fd : connection_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(connections_);
  }
  for (auto& t : threads) t.join();
  ::close(listen_fd_);
}

std::string TestHttpServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void TestHttpServer::set_response(TestResponse r) {
  std::lock_guard lock(mu_);
  response_ = std::move(r);
}

void TestHttpServer::set_handler(Handler h) {
  std::lock_guard lock(mu_);
  handler_ = std::move(h);
}

void TestHttpServer::set_delay(std::chrono::milliseconds d) {
  std::lock_guard lock(mu_);
  delay_ = d;
}

void TestHttpServer::stall_until(std::chrono::steady_clock::time_point until) {
  std::lock_guard lock(mu_);
  stall_until_ = until;
}

void TestHttpServer::hang() {
  std::lock_guard lock(mu_);
  hanging_ = true;
}

void TestHttpServer::release() {
  {
    std::lock_guard lock(mu_);
    hanging_ = false;
  }
  cv_.notify_all();
}

std::vector<TestRequest> TestHttpServer::recorded() const {
  std::lock_guard lock(mu_);
  return recorded_;
}

void TestHttpServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      break;
    }
    connection_fds_.push_back(fd);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void TestHttpServer::serve(int fd) {
  std::string buffer;
  char chunk[4096];
  while (!stopping_) {
    auto end = buffer.find("\r\n\r\n");
    if (end == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buffer.append(chunk, size_t(n));
      continue;
    }
    auto request = parse(buffer.substr(0, end));
    buffer.erase(0, end + 4);
    if (!request) break;
    request->arrived = std::chrono::steady_clock::now();
    ++requests_;
    TestResponse response;
    Handler handler;
    std::chrono::milliseconds delay;
    std::chrono::steady_clock::time_point stall;
    {
      std::unique_lock lock(mu_);
      recorded_.push_back(*request);
      cv_.wait(lock, [&] { return !hanging_ || stopping_; });
      response = response_;
      handler = handler_;
      delay = delay_;
      stall = stall_until_;
    }
    if (handler) response = handler(*request);
    auto answer_at = std::max(request->arrived + delay, stall);
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, answer_at, [&] { return stopping_.load(); });
    }
    if (stopping_) break;
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                      reason(response.status) + "\r\nContent-Type: " + response.content_type +
                      "\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
    if (request->method != "HEAD") out += response.body;
    if (!send_all(fd, out)) break;
  }
  std::lock_guard lock(mu_);
  connection_fds_.erase(std::remove(connection_fds_.begin(), connection_fds_.end(), fd),
                        connection_fds_.end());
  ::close(fd);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace faultline::testing
