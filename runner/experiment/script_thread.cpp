#include "runner/experiment/script_thread.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace faultline::experiment {

struct ScriptThread::Shared {
  std::mutex mutex;
  std::condition_variable_any done_cv;
  bool done = false;
  std::exception_ptr error;
  std::thread thread;
};

ScriptThread::ScriptThread(std::function<void()> body) : shared_(std::make_shared<Shared>()) {
  shared_->thread = std::thread([shared = shared_, body = std::move(body)] {
    std::exception_ptr error;
    try {
      body();
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(shared->mutex);
    shared->error = error;
    shared->done = true;
    shared->done_cv.notify_all();
  });
}

ScriptThread::~ScriptThread() {
  if (!shared_->thread.joinable()) return;
  if (finished()) {
    shared_->thread.join();
  } else {
    shared_->thread.detach();
  }
}

bool ScriptThread::finished() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->done;
}

bool ScriptThread::wait(std::stop_token stop, std::chrono::milliseconds grace) {
  std::unique_lock lock(shared_->mutex);
  // Until it finishes or a stop is requested...
  shared_->done_cv.wait(lock, stop, [&] { return shared_->done; });
  // ...then the grace period.
  if (!shared_->done) shared_->done_cv.wait_for(lock, grace, [&] { return shared_->done; });
  if (!shared_->done) return false;
  if (shared_->error) {
    auto error = shared_->error;
    shared_->error = nullptr;
    lock.unlock();
    std::rethrow_exception(error);
  }
  return true;
}

}  // namespace faultline::experiment
