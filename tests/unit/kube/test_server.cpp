#include "tests/unit/kube/test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace faultline::testing {

// The socket (and TLS session) of one client connection.
class Connection {
 public:
  Connection(TestServer& s, int fd, SSL* ssl) : server(s), fd(fd), ssl(ssl) {}

  bool fill() {
    char buf[16384];
    int n = ssl ? SSL_read(ssl, buf, sizeof buf) : static_cast<int>(::recv(fd, buf, sizeof buf, 0));
    if (n <= 0) return false;
    in.append(buf, static_cast<size_t>(n));
    return true;
  }

  bool write(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      int n =
          ssl ? SSL_write(ssl, data.data() + off, static_cast<int>(data.size() - off))
              : static_cast<int>(::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL));
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  static std::string decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i] == '+' ? ' ' : s[i];
      }
    }
    return out;
  }

  bool read_request(Request& r) {
    size_t end;
    while ((end = in.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return false;
    std::istringstream head(in.substr(0, end));
    in.erase(0, end + 4);
    std::string line;
    std::getline(head, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream first(line);
    std::string version;
    first >> r.method >> r.target >> version;
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) {
      std::stringstream qs(r.target.substr(q + 1));
      for (std::string kv; std::getline(qs, kv, '&');) {
        auto eq = kv.find('=');
        r.query[decode(kv.substr(0, eq))] =
            eq == std::string::npos ? "" : decode(kv.substr(eq + 1));
      }
    }
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.headers[name] = line.substr(v);
    }
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    while (in.size() < length)
      if (!fill()) return false;
    r.body = in.substr(0, length);
    in.erase(0, length);
    return true;
  }

  // True once the peer has closed its side (or the server is stopping).
  void wait_until_gone() {
    while (!server.stopping()) {
      pollfd p{fd, POLLRDHUP, 0};
      if (::poll(&p, 1, 20) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return;
    }
  }

  TestServer& server;
  int fd;
  SSL* ssl;
  std::string in;
  bool reset = false;
};

namespace {
const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}
}  // namespace

void Exchange::respond(int status, const std::string& body,
                       const std::map<std::string, std::string>& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  done_ = conn_.write(out);
  closed_ = !done_;
}

void Exchange::status(int code, const std::string& reason_text, const std::string& message,
                      const std::map<std::string, std::string>& headers) {
  std::string body = R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":")" +
                     message + R"(","reason":")" + reason_text + R"(","code":)" +
                     std::to_string(code) + "}";
  auto h = headers;
  h["Content-Type"] = "application/json";
  respond(code, body, h);
}

void Exchange::begin_stream(int status) {
  closed_ =
      !conn_.write("HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                   "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
}

void Exchange::chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  closed_ = closed_ || !conn_.write(size + data + "\r\n");
}

void Exchange::end_stream() {
  done_ = conn_.write("0\r\n\r\n");
  closed_ = !done_;
}

void Exchange::write_raw(const std::string& bytes) { closed_ = closed_ || !conn_.write(bytes); }

// A FIN rather than a reset: a reset may discard bytes the client has not
// read yet, which would make "what arrived before the cut" racy in tests.
void Exchange::cut() {
  ::shutdown(conn_.fd, SHUT_RDWR);
  conn_.reset = true;  // no TLS close_notify either
  closed_ = true;
}

void Exchange::hang() {
  conn_.wait_until_gone();
  closed_ = true;
}

TestServer::TestServer(Handler handler, std::optional<Tls> tls) : handler_(std::move(handler)) {
  ::signal(SIGPIPE, SIG_IGN);
  if (tls) {
    ssl_ = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ssl_, tls->cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl_, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      throw std::runtime_error("test server: cannot load " + tls->cert_file);
    if (!tls->client_ca_file.empty()) {
      SSL_CTX_load_verify_locations(ssl_, tls->client_ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ssl_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0)
    throw std::runtime_error(std::string("test server: bind/listen: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("test server: pipe");
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestServer::~TestServer() {
  stopping_ = true;
  (void)!::write(wake_[1], "x", 1);
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
  if (ssl_) SSL_CTX_free(ssl_);
}

std::string TestServer::url() const {
  return std::string(ssl_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::vector<Request> TestServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t TestServer::count(const std::string& method, const std::string& prefix) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& r : requests_)
    if (r.method == method && r.path.rfind(prefix, 0) == 0) ++n;
  return n;
}

void TestServer::record(const Request& r) {
  std::lock_guard lock(mu_);
  requests_.push_back(r);
}

void TestServer::accept_loop() {
  while (!stopping_) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) <= 0) continue;
    if (p[1].revents) break;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++accepted_;
    std::lock_guard lock(mu_);
    open_fds_.insert(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

size_t TestServer::open_connections() const {
  std::lock_guard lock(mu_);
  return open_fds_.size();
}

void TestServer::serve(int fd) {
  SSL* ssl = nullptr;
  if (ssl_) {
    ssl = SSL_new(ssl_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      ERR_clear_error();
      SSL_free(ssl);
      ssl = nullptr;
      std::lock_guard lock(mu_);
      open_fds_.erase(fd);
      ::close(fd);
      return;
    }
  }
  Connection conn(*this, fd, ssl);
  for (;;) {
    Request r;
    if (stopping_ || !conn.read_request(r)) break;
    record(r);
    Exchange ex(conn, r);
    handler_(ex);
    if (!ex.done_ || ex.closed_) break;
  }
  if (ssl) {
    if (!conn.reset) SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  {
    std::lock_guard lock(mu_);
    open_fds_.erase(fd);
  }
  ::close(fd);
}

std::string sh(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error("command failed: " + command + "\n" + out);
  return out;
}

Pki make_pki(const std::string& dir, const std::string& server_san) {
  Pki p{dir,
        dir + "/ca.crt",
        dir + "/server.crt",
        dir + "/server.key",
        dir + "/client.crt",
        dir + "/client.key"};
  std::string key = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ";
  sh(key + dir + "/ca.key");
  sh("openssl req -x509 -new -key " + dir + "/ca.key -subj /CN=faultline-test-ca -days 1 -out " +
     p.ca_crt);
  auto sign = [&](const std::string& name, const std::string& subject, const std::string& ext) {
    write_file(dir + "/" + name + ".ext", ext);
    sh(key + dir + "/" + name + ".key");
    sh("openssl req -new -key " + dir + "/" + name + ".key -subj " + subject + " -out " + dir +
       "/" + name + ".csr");
    sh("openssl x509 -req -in " + dir + "/" + name + ".csr -CA " + p.ca_crt + " -CAkey " + dir +
       "/ca.key -CAcreateserial -days 1 -out " + dir + "/" + name + ".crt -extfile " + dir + "/" +
       name + ".ext");
  };
  sign("server", "/CN=test-apiserver",
       "subjectAltName=" + server_san + "\nextendedKeyUsage=serverAuth\n");
  sign("client", "/O=system:masters/CN=test-admin", "extendedKeyUsage=clientAuth\n");
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << text;
}

std::string temp_dir(const std::string& name) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("faultline-kube-" + name + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace faultline::testing
