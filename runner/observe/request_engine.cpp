#include "runner/observe/request_engine.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "runner/common/duration.h"
#include "runner/common/log.h"
#include "runner/observe/curl_util.h"

namespace faultline::observe {
namespace {

// A body_contains match needs only the start of the body; cap what we keep.
constexpr size_t kMaxBody = 64 * 1024;

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* resolve = nullptr;  // owned; freed with the handle (release())
  Clock::time_point scheduled;
  Clock::time_point sent;
  std::string body;
  size_t body_cap = 0;  // 0: discard
  char errbuf[CURL_ERROR_SIZE] = {};
};

void release(Transfer& t) {
  curl_easy_cleanup(t.easy);
  curl_slist_free_all(t.resolve);
  t.easy = nullptr;
  t.resolve = nullptr;
}

size_t write_body(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  size_t bytes = size * n;
  if (t->body.size() < t->body_cap)
    t->body.append(data, std::min(bytes, t->body_cap - t->body.size()));
  return bytes;
}

// Options that stay the same for every request of a probe.
void configure(CURL* easy, const RequestTarget& target, Transfer* t) {
  curl_easy_setopt(easy, CURLOPT_URL, target.url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(target.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_PROXY, "");  // probe the service itself, never via $http_proxy
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "faultline-probe");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  if (target.method == "HEAD") curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  if (target.connect_only) {
    curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
  } else if (!target.keepalive) {
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
  }
  if (target.insecure_skip_tls_verify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  for (const auto& r : target.resolve) t->resolve = curl_slist_append(t->resolve, r.c_str());
  if (t->resolve) curl_easy_setopt(easy, CURLOPT_RESOLVE, t->resolve);
  t->body_cap = target.body_contains ? kMaxBody + target.body_contains->size() : 0;
}

bool status_ok(const RequestTarget& target, int status) {
  if (target.expect_status.empty()) return status >= 200 && status < 400;
  return std::find(target.expect_status.begin(), target.expect_status.end(), status) !=
         target.expect_status.end();
}

// The text of a failed transfer, one stable class per cause: reports count
// requests per error text, and libcurl's own messages vary per request
// ("... after 3 ms"). A connect timeout (the peer is gone: a dead node's
// packets vanish), a refused connection (nothing listens: the pod's process
// died, or no endpoint) and a timeout waiting for the answer are told apart.
std::string transport_error(const RequestTarget& target, CURLcode result, CURL* easy) {
  long os_errno = 0;
  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
  curl_off_t connected_us = 0;
  curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected_us);
  std::string timeout = format_duration(target.timeout);
  switch (result) {
    case CURLE_OPERATION_TIMEDOUT:
      return connected_us == 0 ? "connect timeout after " + timeout : "timeout after " + timeout;
    case CURLE_COULDNT_CONNECT:
      if (os_errno == ECONNREFUSED) return "connection refused";
      if (os_errno == EHOSTUNREACH) return "no route to host";
      if (os_errno == ENETUNREACH) return "network unreachable";
      if (os_errno == ETIMEDOUT) return "connect timeout";
      return os_errno ? std::string("connect failed: ") + std::strerror(int(os_errno))
                      : "connect failed";
    case CURLE_GOT_NOTHING:
      return "connection closed without a response";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (os_errno == ECONNRESET) return "connection reset";
      return result == CURLE_RECV_ERROR ? "receive failed" : "send failed";
    default:
      return curl_easy_strerror(result);  // fixed text per code
  }
}

// Judges one finished transfer.
void judge(const RequestTarget& target, CURLcode result, Transfer& t, RequestSample& s) {
  long status = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  s.status = static_cast<int>(status);
  if (result != CURLE_OK) {
    s.error = transport_error(target, result, t.easy);
  } else if (target.connect_only) {
    s.ok = true;
  } else if (!status_ok(target, s.status)) {
    s.error = "status " + std::to_string(s.status);
  } else if (target.body_contains && t.body.find(*target.body_contains) == std::string::npos) {
    s.error = "body does not contain the expected text";
  } else {
    s.ok = true;
  }
}

std::chrono::nanoseconds slot_offset(long long k, double rate) {
  return std::chrono::nanoseconds(static_cast<long long>(std::llround(1e9 * double(k) / rate)));
}

// Enough descriptors for rate x timeout requests in flight (each needs its own
// connection while the service stalls).
size_t in_flight_limit(double rate, std::chrono::milliseconds timeout) {
  double want = std::ceil(rate * double(timeout.count()) / 1000.0 * 1.25) + 16;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t need = static_cast<rlim_t>(want) + 1024;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
      rlimit raised = rl;
      raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : std::min(need, rl.rlim_max);
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
    }
    if (rl.rlim_cur != RLIM_INFINITY && double(rl.rlim_cur) - 512 < want)
      want = std::max(16.0, double(rl.rlim_cur) - 512);
  }
  return static_cast<size_t>(want);
}

}  // namespace

struct RequestEngine::Impl {
  RequestTarget target;
  double rate;
  Clock::time_point t0;
  Sink sink;

  CURLM* multi = nullptr;
  int epfd = -1, timerfd = -1, stopfd = -1;
  std::optional<Clock::time_point> curl_deadline;
  std::vector<std::unique_ptr<Transfer>> pool;  // idle transfers (keep their connections warm)
  size_t in_flight = 0;
  size_t limit = 0;

  mutable std::mutex mu;  // guards stats and error
  EngineStats stats;
  std::optional<std::string> error;
  std::atomic<bool> started{false}, stopped{false};

  ~Impl() {
    if (multi) curl_multi_cleanup(multi);
    for (auto& t : pool) release(*t);
    for (int fd : {epfd, timerfd, stopfd})
      if (fd >= 0) close(fd);
  }

  double rel(Clock::time_point p) const { return seconds_between(t0, p); }

  static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void*) {
    auto* self = static_cast<Impl*>(userp);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(self->epfd, EPOLL_CTL_DEL, s, nullptr);  // may already be gone with the socket
      return 0;
    }
    epoll_event ev{};
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    ev.data.fd = s;
    if (epoll_ctl(self->epfd, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
      epoll_ctl(self->epfd, EPOLL_CTL_MOD, s, &ev);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<Impl*>(userp);
    if (timeout_ms < 0)
      self->curl_deadline.reset();
    else
      self->curl_deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  void setup() {
    multi = curl_multi_init();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!multi || epfd < 0 || timerfd < 0)
      throw std::runtime_error(std::string("probe engine setup failed: ") + std::strerror(errno));
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    limit = in_flight_limit(rate, target.timeout);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(std::min<size_t>(limit, 1024)));
    for (int fd : {timerfd, stopfd}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    }
  }

  void arm(std::optional<Clock::time_point> at) {
    itimerspec spec{};
    if (at) {
      // steady_clock is CLOCK_MONOTONIC; a zero it_value would disarm instead.
      auto ns = std::max<long long>(1, at->time_since_epoch().count());
      spec.it_value.tv_sec = ns / 1000000000;
      spec.it_value.tv_nsec = ns % 1000000000;
    }
    timerfd_settime(timerfd, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  void issue(Clock::time_point scheduled) {
    RequestSample s;
    s.t = rel(scheduled);
    if (in_flight >= limit) {
      // Recorded, never dropped: the timetable keeps its samples.
      s.sent = rel(Clock::now());
      s.error = "not sent: " + std::to_string(in_flight) + " requests already in flight";
      {
        std::lock_guard lock(mu);
        ++stats.not_sent;
      }
      sink(std::move(s));
      return;
    }
    std::unique_ptr<Transfer> t;
    if (!pool.empty() && !target.connect_only) {
      t = std::move(pool.back());
      pool.pop_back();
    } else {
      t = std::make_unique<Transfer>();
      t->easy = curl_easy_init();
      if (!t->easy) throw std::runtime_error("curl_easy_init failed");
      configure(t->easy, target, t.get());
    }
    t->body.clear();
    t->errbuf[0] = 0;
    t->scheduled = scheduled;
    t->sent = Clock::now();
    CURLMcode rc = curl_multi_add_handle(multi, t->easy);
    if (rc != CURLM_OK)
      throw std::runtime_error(std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc));
    t.release();  // owned by the multi handle until done (CURLOPT_PRIVATE)
    ++in_flight;
    std::lock_guard lock(mu);
    stats.max_in_flight = std::max(stats.max_in_flight, in_flight);
  }

  void collect() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto done = Clock::now();
      Transfer* raw = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
      std::unique_ptr<Transfer> t(raw);
      CURLcode result = msg->data.result;
      RequestSample s;
      s.t = rel(t->scheduled);
      s.sent = rel(t->sent);
      s.latency_ms = std::chrono::duration<double, std::milli>(done - t->scheduled).count();
      judge(target, result, *t, s);
      curl_multi_remove_handle(multi, t->easy);
      --in_flight;
      if (target.connect_only) {
        release(*t);  // closes the connection it holds
      } else {
        pool.push_back(std::move(t));
      }
      {
        std::lock_guard lock(mu);
        ++stats.completed;
      }
      sink(std::move(s));
    }
  }

  void run() {
    setup();
    auto start = Clock::now();
    long long k = 0;
    bool stopping = false;
    epoll_event events[128];
    int running = 0;
    while (true) {
      auto now = Clock::now();
      if (!stopping) {
        // Every slot that came due is issued, even after a stall of our own:
        // a late send still counts its latency from the slot.
        for (auto slot = start + slot_offset(k, rate); slot <= now;
             slot = start + slot_offset(++k, rate)) {
          {
            std::lock_guard lock(mu);
            ++stats.scheduled;
          }
          issue(slot);
        }
      }
      if (curl_deadline && *curl_deadline <= now) {
        curl_deadline.reset();
        curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        collect();
        continue;  // callbacks may have set a new deadline that is already due
      }
      collect();
      if (stopping && in_flight == 0) break;
      std::optional<Clock::time_point> wake = curl_deadline;
      if (!stopping) {
        auto slot = start + slot_offset(k, rate);
        if (!wake || slot < *wake) wake = slot;
      }
      arm(wake);
      int n = epoll_wait(epfd, events, 128, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == timerfd) {
          uint64_t ticks;
          while (read(timerfd, &ticks, sizeof ticks) > 0) {
          }
        } else if (fd == stopfd) {
          uint64_t v;
          while (read(stopfd, &v, sizeof v) > 0) {
          }
          stopping = true;
        } else {
          int flags = 0;
          if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
          if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
          if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
          curl_multi_socket_action(multi, fd, flags, &running);
        }
      }
      collect();
    }
  }
};

RequestEngine::RequestEngine(RequestTarget target, double rate, Clock::time_point t0, Sink sink)
    : impl_(std::make_unique<Impl>()) {
  ensure_curl_global();
  if (rate <= 0) throw std::invalid_argument("request rate must be positive");
  impl_->target = std::move(target);
  impl_->rate = rate;
  impl_->t0 = t0;
  impl_->sink = std::move(sink);
  impl_->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->stopfd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

RequestEngine::~RequestEngine() { stop(); }

void RequestEngine::start() {
  if (impl_->started.exchange(true)) return;
  thread_ = std::thread([impl = impl_.get()] {
    try {
      impl->run();
    } catch (const std::exception& e) {
      log::error(std::string("probe engine stopped: ") + e.what());
      std::lock_guard lock(impl->mu);
      impl->error = e.what();
    }
  });
}

void RequestEngine::stop() {
  if (impl_->stopped.exchange(true)) return;
  uint64_t one = 1;
  if (write(impl_->stopfd, &one, sizeof one) < 0) {
    // An eventfd write only fails on overflow, which one write cannot cause.
  }
  if (thread_.joinable()) thread_.join();
}

EngineStats RequestEngine::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

std::optional<std::string> RequestEngine::error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->error;
}

RequestSample request_once(const RequestTarget& target, Clock::time_point t0) {
  ensure_curl_global();
  Transfer t;
  t.easy = curl_easy_init();
  if (!t.easy) throw std::runtime_error("curl_easy_init failed");
  configure(t.easy, target, &t);
  t.scheduled = t.sent = Clock::now();
  CURLcode result = curl_easy_perform(t.easy);
  RequestSample s;
  s.t = s.sent = seconds_between(t0, t.scheduled);
  s.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - t.scheduled).count();
  judge(target, result, t, s);
  release(t);
  return s;
}

}  // namespace faultline::observe
