#include "tests/e2e/experiments/fault_proxy.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace faultline::testing {
namespace {

bool send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string header_name(const std::string& line) {
  return lower(trim(line.substr(0, line.find(':'))));
}

// Hop-by-hop headers and the ones the relay sets itself.
bool relayed(const std::string& name) {
  for (const char* h : {"host", "content-length", "connection", "keep-alive", "expect",
                        "transfer-encoding", "accept-encoding", "proxy-connection", "upgrade"})
    if (name == h) return false;
  return true;
}

// One upstream exchange relayed to the client socket as it arrives.
struct Relay {
  int fd;
  const std::atomic<bool>* stop;
  std::string status_line;
  long status = 0;
  std::vector<std::string> headers;
  bool head_sent = false;
  bool chunked = true;

  bool send_head() {
    head_sent = true;
    chunked = status != 204 && status != 304;
    std::string head = status_line + "\r\n";
    for (const auto& h : headers)
      if (relayed(header_name(h))) head += h + "\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: 0\r\n";
    head += "Connection: close\r\n\r\n";
    return send_all(fd, head);
  }
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Relay*>(user);
  std::string line = trim(std::string(data, size * n));
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a 100 Continue too)
    r->status_line = line;
    r->headers.clear();
    auto sp = line.find(' ');
    r->status = sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
  } else if (!line.empty()) {
    r->headers.push_back(line);
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Relay*>(user);
  size_t len = size * n;
  if (!r->head_sent && !r->send_head()) return 0;
  if (len == 0 || !r->chunked) return len;
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "%zx\r\n", len);
  if (!send_all(r->fd, prefix + std::string(data, len) + "\r\n")) return 0;  // client gone: abort
  return len;
}

// Called about once a second even while a watch is idle: ends the transfer
// when the proxy stops or the client hung up.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* r = static_cast<Relay*>(user);
  if (r->stop->load()) return 1;
  pollfd p{r->fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) > 0) {
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return 1;
    char c;
    if ((p.revents & POLLIN) && ::recv(r->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) return 1;
  }
  return 0;
}

void set_blob(CURL* h, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(h, option, &blob);
}

}  // namespace

FaultProxy::FaultProxy(kube::ClientConfig upstream, std::function<bool(const ProxiedRequest&)> fail,
                       int status)
    : upstream_(std::move(upstream)), fail_(std::move(fail)), status_(status) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("proxy: socket failed");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error(std::string("proxy: bind/listen failed: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(threads_mutex_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  ::close(listen_fd_);
}

std::string FaultProxy::write_kubeconfig(const std::string& path) const {
  std::ofstream out(path);
  out << "apiVersion: v1\nkind: Config\n"
      << "clusters:\n- name: fault-proxy\n  cluster:\n    server: http://127.0.0.1:" << port_
      << "\n"
      << "users:\n- name: through-proxy\n  user: {}\n"
      << "contexts:\n- name: fault-proxy\n  context:\n    cluster: fault-proxy\n    user: "
         "through-proxy\n"
      << "current-context: fault-proxy\n";
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

void FaultProxy::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(threads_mutex_);
    threads_.emplace_back([this, fd] {
      serve(fd);
      ::close(fd);
    });
  }
}

void FaultProxy::serve(int fd) {
  // Read the head, then Content-Length bytes of body.
  std::string buf;
  size_t head_end = std::string::npos;
  auto read_more = [&]() -> bool {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 100);
      if (r == 0) continue;
      if (r < 0) return false;
      char chunk[16384];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<size_t>(n));
      return true;
    }
    return false;
  };
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos)
    if (!read_more()) return;
  std::string head = buf.substr(0, head_end);
  std::vector<std::string> lines;
  for (size_t pos = 0; pos <= head.size();) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    lines.push_back(head.substr(pos, eol - pos));
    pos = eol + 2;
  }
  ProxiedRequest req;
  {
    const std::string& rl = lines.front();
    auto a = rl.find(' '), b = rl.rfind(' ');
    if (a == std::string::npos || b == a) return;
    req.method = rl.substr(0, a);
    req.target = rl.substr(a + 1, b - a - 1);
  }
  std::vector<std::string> headers(lines.begin() + 1, lines.end());
  size_t content_length = 0;
  for (const auto& h : headers) {
    if (header_name(h) == "content-length")
      content_length = std::stoul(trim(h.substr(h.find(':') + 1)));
    if (header_name(h) == "expect" && lower(h).find("100-continue") != std::string::npos)
      send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  }
  req.body = buf.substr(head_end + 4);
  while (req.body.size() < content_length) {
    buf.clear();
    if (!read_more()) return;
    req.body += buf;
  }

  bool fail;
  {
    std::lock_guard lock(fail_mutex_);
    fail = fail_(req);
  }
  if (fail) {
    ++injected_;
    const bool forbidden = status_ == 403;
    std::string code = std::to_string(status_);
    std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                       R"("message":"injected by the e2e fault proxy","reason":")" +
                       std::string(forbidden ? "Forbidden" : "InternalError") + R"(","code":)" +
                       code + "}";
    send_all(fd, "HTTP/1.1 " + code + (forbidden ? " Forbidden" : " Internal Server Error") +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    return;
  }
  ++forwarded_;
  forward(fd, req, headers);
}

void FaultProxy::forward(int fd, const ProxiedRequest& req,
                         const std::vector<std::string>& headers) {
  CURL* h = curl_easy_init();
  if (!h) return;
  Relay relay{fd, &stop_, "", 0, {}, false, true};
  std::string url = upstream_.server + req.target;
  curl_slist* list = nullptr;
  for (const auto& hd : headers)
    if (relayed(header_name(hd))) list = curl_slist_append(list, hd.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  if (!upstream_.ca_pem.empty()) set_blob(h, CURLOPT_CAINFO_BLOB, upstream_.ca_pem);
  if (upstream_.insecure_skip_tls_verify) curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
  if (!upstream_.client_cert_pem.empty()) {
    set_blob(h, CURLOPT_SSLCERT_BLOB, upstream_.client_cert_pem);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!upstream_.client_key_pem.empty()) {
    set_blob(h, CURLOPT_SSLKEY_BLOB, upstream_.client_key_pem);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &relay);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &relay);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &relay);
  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK) {
    if (relay.head_sent || relay.send_head()) {
      if (relay.chunked) send_all(fd, "0\r\n\r\n");
    }
  } else if (!relay.head_sent) {
    std::string body = std::string("upstream: ") + curl_easy_strerror(rc);
    send_all(fd, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
}

}  // namespace faultline::testing
