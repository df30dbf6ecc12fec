// The libcurl transport.
//
// Connection reuse: easy handles are pooled and each keeps its own live
// connections, so N concurrent workers hold N warm connections. Only
// kMaxIdleHandles stay pooled once a fan-out is over: a connection holds
// libcurl's, nghttp2's and OpenSSL's buffers, and the 32 a 1,000-node cordon
// opened, kept idle through the rest of the drill, were most of the 6 MB
// heaptrack put under the cordon in a 10k-pod drill (issue 14). A handle made
// again later resumes its TLS session from the share. The share
// handle carries the TLS session cache (cheap resumed handshakes for new
// connections) and the DNS cache. Connections are deliberately NOT put in the
// share (CURL_LOCK_DATA_CONNECT): libcurl 7.88's documentation states that
// sharing connections between concurrent threads is not supported, and
// HTTP/2 streams are only multiplexed within one multi/easy handle anyway.
//
// tls-server-name: libcurl has no option to verify a certificate against a
// name other than the URL's host. So the URL names the tls-server-name (which
// is then used for SNI and verification) and CURLOPT_CONNECT_TO sends the
// connection to the real host:port of `server`.
#include <curl/curl.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "runner/common/log.h"
#include "runner/kube/errors.h"
#include "runner/kube/transport.h"

namespace faultline::kube {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Where requests go: the URL prefix to use and, for tls-server-name, the
// CONNECT_TO rule.
struct Target {
  std::string base;        // scheme://host:port[/prefix], host possibly the TLS name
  std::string connect_to;  // "" or "tlsname:port:realhost:port"
};

Target make_target(const ClientConfig& c) {
  Target t;
  const std::string& server = c.server;
  auto scheme_end = server.find("://");
  if (scheme_end == std::string::npos) {
    t.base = server;
    return t;
  }
  std::string scheme = server.substr(0, scheme_end);
  std::string rest = server.substr(scheme_end + 3);
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string host = authority, port = scheme == "https" ? "443" : "80";
  if (!authority.empty() && authority[0] == '[') {  // [v6]:port
    auto close = authority.find(']');
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (c.tls_server_name.empty() || scheme != "https") {
    t.base = scheme + "://" + authority + prefix;
    return t;
  }
  t.base = scheme + "://" + c.tls_server_name + ":" + port + prefix;
  t.connect_to = c.tls_server_name + ":" + port + ":" + host + ":" + port;
  return t;
}

// One transfer's state, seen by the callbacks.
struct Transfer {
  HttpResponse response;
  const std::function<void(std::string_view)>* on_data = nullptr;
  std::stop_token stop;
  std::exception_ptr error;
  bool stopped = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after 100 Continue or a proxy's CONNECT): start over.
    t->response.headers.clear();
    auto sp = line.find(' ');
    t->response.status = sp == std::string::npos ? 0 : std::atoi(line.c_str() + sp + 1);
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  size_t v = colon + 1;
  while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
  t->response.headers[name] = line.substr(v);
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  bool ok = t->response.status >= 200 && t->response.status < 300;
  if (!t->on_data || !ok) {
    t->response.body.append(data, len);
    return len;
  }
  try {
    (*t->on_data)(std::string_view(data, len));
  } catch (...) {
    t->error = std::current_exception();
    return 0;  // aborts the transfer; the exception is rethrown after it
  }
  if (t->stop.stop_requested()) {
    t->stopped = true;
    return 0;
  }
  return len;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->stop.stop_requested()) {
    t->stopped = true;
    return 1;
  }
  return 0;
}

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(const ClientConfig& c) : config_(c), target_(make_target(c)) {
    global_init();
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlTransport::lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlTransport::unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    if (!target_.connect_to.empty())
      connect_to_.reset(curl_slist_append(nullptr, target_.connect_to.c_str()));
    if (c.insecure_skip_tls_verify)
      log::warn("TLS VERIFICATION IS DISABLED for " + c.server +
                " (insecure-skip-tls-verify): anyone on the network path can impersonate the "
                "API server and read every credential sent to it");
  }

  ~CurlTransport() override {
    for (CURL* h : pool_) curl_easy_cleanup(h);
    curl_share_cleanup(share_);
  }

  HttpResponse send(const HttpRequest& request) override {
    Handle h(this);
    Transfer t;
    std::vector<char> errbuf(CURL_ERROR_SIZE, '\0');
    curl_slist* headers = configure(h.easy, request, t, errbuf.data());
    CURLcode rc = curl_easy_perform(h.easy);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      curl_off_t connected = 0;
      curl_easy_getinfo(h.easy, CURLINFO_CONNECT_TIME_T, &connected);
      throw failure(rc, errbuf.data(), request, false, connected > 0);
    }
    return std::move(t.response);
  }

  HttpResponse stream(const HttpRequest& request,
                      const std::function<void(std::string_view)>& on_data,
                      std::stop_token stop) override {
    Handle h(this);
    Transfer t;
    t.on_data = &on_data;
    t.stop = stop;
    std::vector<char> errbuf(CURL_ERROR_SIZE, '\0');
    curl_slist* headers = configure(h.easy, request, t, errbuf.data());
    curl_easy_setopt(h.easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h.easy, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(h.easy, CURLOPT_XFERINFODATA, &t);
    // A watch may idle for long; bookmarks arrive about once a minute. A
    // stream silent for 3 minutes is dead (a half-open TCP connection).
    curl_easy_setopt(h.easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h.easy, CURLOPT_LOW_SPEED_TIME, 180L);

    // A private multi handle so a stop request can wake the transfer at once
    // (curl_multi_wakeup) instead of waiting for the next progress callback.
    CURLM* multi = curl_multi_init();
    curl_multi_add_handle(multi, h.easy);
    CURLcode rc = CURLE_OK;
    bool done = false;
    {
      std::stop_callback wake(stop, [multi] { curl_multi_wakeup(multi); });
      for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc != CURLM_OK) {
          rc = CURLE_RECV_ERROR;
          std::snprintf(errbuf.data(), errbuf.size(), "%s", curl_multi_strerror(mc));
          break;
        }
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
          if (msg->msg == CURLMSG_DONE) {
            rc = msg->data.result;
            done = true;
          }
        }
        if (done || running == 0) break;
        if (stop.stop_requested()) {
          t.stopped = true;
          break;
        }
        curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
      }
    }
    curl_multi_remove_handle(multi, h.easy);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);

    if (t.error) std::rethrow_exception(t.error);
    if (t.stopped || stop.stop_requested()) return std::move(t.response);
    if (rc == CURLE_OK) return std::move(t.response);
    if (t.response.status == 0) throw failure(rc, errbuf.data(), request, true, false);
    // The response had begun: a cut (reset, partial chunk, stall) is the end
    // of this stream, which the caller recovers from.
    t.response.truncated = true;
    return std::move(t.response);
  }

 private:
  // An easy handle from the pool, returned on scope exit.
  struct Handle {
    CurlTransport* owner;
    CURL* easy;
    explicit Handle(CurlTransport* o) : owner(o), easy(o->acquire()) {}
    ~Handle() { owner->release(easy); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
  };

  CURL* acquire() {
    {
      std::lock_guard lock(pool_mu_);
      if (!pool_.empty()) {
        CURL* h = pool_.back();
        pool_.pop_back();
        return h;
      }
    }
    CURL* h = curl_easy_init();
    if (!h) throw ApiError(ApiError::Kind::Transport, 0, "", "", "", "curl_easy_init failed");
    return h;
  }

  void release(CURL* h) {
    {
      std::lock_guard lock(pool_mu_);
      if (pool_.size() < kMaxIdleHandles) {
        pool_.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h);  // closes its connection, outside the lock
  }

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<CurlTransport*>(user)->locks_[static_cast<size_t>(data) % kLocks].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<CurlTransport*>(user)->locks_[static_cast<size_t>(data) % kLocks].unlock();
  }

  static void set_blob(CURL* h, CURLoption option, const std::string& pem) {
    curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(h, option, &blob);
  }

  // Every option, every time: curl_easy_reset keeps the handle's live
  // connections, TLS sessions and the share, and nothing leaks from the
  // previous request (a method, a body, a certificate).
  curl_slist* configure(CURL* h, const HttpRequest& r, Transfer& t, char* errbuf) {
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_SHARE, share_);
    std::string url = target_.base + r.path;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(h, CURLOPT_USERAGENT, config_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    if (connect_to_) curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to_.get());
    if (!config_.proxy_url.empty()) curl_easy_setopt(h, CURLOPT_PROXY, config_.proxy_url.c_str());

    // TLS: verification on unless the kubeconfig turned it off.
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, config_.insecure_skip_tls_verify ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, config_.insecure_skip_tls_verify ? 0L : 2L);
    if (!config_.ca_pem.empty()) set_blob(h, CURLOPT_CAINFO_BLOB, config_.ca_pem);
    const std::string& cert =
        r.client_cert_pem.empty() ? config_.client_cert_pem : r.client_cert_pem;
    const std::string& key = r.client_cert_pem.empty() ? config_.client_key_pem : r.client_key_pem;
    if (!cert.empty()) {
      set_blob(h, CURLOPT_SSLCERT_BLOB, cert);
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      set_blob(h, CURLOPT_SSLKEY_BLOB, key);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }

    // Method and body. The body pointer stays valid: r outlives perform.
    if (r.method == "GET" ||
        (r.body.empty() && r.method != "POST" && r.method != "PUT" && r.method != "PATCH")) {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
      if (r.method != "GET") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    } else {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
      if (r.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }

    curl_slist* headers = nullptr;
    for (const auto& [name, value] : r.headers)
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    if (r.timeout.count() > 0) {
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
      curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                       static_cast<long>(std::min(r.timeout, kConnectTimeout).count()));
    } else {
      curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(kConnectTimeout.count()));
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    return headers;
  }

  // Our deadline passing is a Timeout (not retried: the caller's budget is
  // spent). Failing to connect within kConnectTimeout, when the deadline is
  // longer, is a Transport error like a refused connection (retried).
  ApiError failure(CURLcode rc, const char* errbuf, const HttpRequest& r, bool stream,
                   bool connected) const {
    std::string detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
    std::string where = r.method + " " + target_.base + r.path.substr(0, r.path.find('?'));
    bool connect_timeout = !connected && r.timeout > kConnectTimeout;
    if (rc == CURLE_OPERATION_TIMEDOUT && !stream && !connect_timeout)
      return ApiError(
          ApiError::Kind::Timeout, 0, "", "", "",
          "no response within " + std::to_string(r.timeout.count()) + "ms (" + where + ")");
    return ApiError(ApiError::Kind::Transport, 0, "", "", "", detail + " (" + where + ")");
  }

  // Owns the CONNECT_TO list, built once; handles only read it.
  struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };

  static constexpr size_t kLocks = 8;
  static constexpr size_t kMaxIdleHandles = 8;
  static constexpr std::chrono::milliseconds kConnectTimeout{10000};
  const ClientConfig config_;
  const Target target_;
  CURLSH* share_ = nullptr;
  std::array<std::mutex, kLocks> locks_;
  std::mutex pool_mu_;
  std::vector<CURL*> pool_;
  std::unique_ptr<curl_slist, SlistDeleter> connect_to_;
};

}  // namespace

std::shared_ptr<HttpTransport> make_curl_transport(const ClientConfig& config) {
  return std::make_shared<CurlTransport>(config);
}

}  // namespace faultline::kube
