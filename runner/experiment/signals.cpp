#include "runner/experiment/signals.h"

#include <csignal>
#include <mutex>
#include <thread>

#include "runner/common/log.h"

namespace faultline::experiment {
namespace {
std::mutex g_mutex;
std::function<void(const std::string&)> g_callback;
int g_count = 0;
}  // namespace

void install_signal_handling() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
      std::function<void(const std::string&)> cb;
      {
        std::lock_guard lock(g_mutex);
        cb = g_callback;
        ++g_count;
      }
      if (cb) {
        log::warn(name + " received: stopping the drill and rolling back (signals are ignored until rollback ends)");
        cb(name);
      } else {
        // Not inside a run: nothing to roll back.
        std::_Exit(128 + sig);
      }
    }
  }).detach();
}

void on_signal(std::function<void(const std::string&)> fn) {
  std::lock_guard lock(g_mutex);
  g_callback = std::move(fn);
}

}  // namespace faultline::experiment
