// SIGTERM/SIGINT reach the run that is in progress, and only while it is: a
// SignalScope clears the callback on every way out of a run (return or
// exception), so a signal after it never calls into a destroyed object; with
// no run in progress the process exits 128+signal at once. Each case runs in
// a child process (a death test): the handling thread and the blocked signal
// mask are process-wide.
#include "runner/experiment/signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace faultline::experiment {
namespace {

[[noreturn]] void deliver_and_wait(int sig) {
  ::kill(::getpid(), sig);
  std::this_thread::sleep_for(std::chrono::seconds(10));
  std::_Exit(0);  // the signal did nothing: fails the ExitedWithCode below
}

class Signals : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(Signals, DuringARunTheCallbackGetsTheSignalName) {
  EXPECT_EXIT(
      {
        install_signal_handling();
        SignalScope scope;
        on_signal([](const std::string& name) { std::_Exit(name == "SIGTERM" ? 7 : 8); });
        deliver_and_wait(SIGTERM);
      },
      ::testing::ExitedWithCode(7), "SIGTERM received");
}

TEST_F(Signals, AfterARunThatThrewTheCallbackIsGone) {
  EXPECT_EXIT(
      {
        install_signal_handling();
        try {
          SignalScope scope;
          on_signal([](const std::string&) { std::_Exit(7); });
          throw std::runtime_error("the run failed");
        } catch (const std::runtime_error&) {
        }
        deliver_and_wait(SIGINT);
      },
      ::testing::ExitedWithCode(128 + SIGINT), "");
}

TEST_F(Signals, AfterARunThatReturnedTheCallbackIsGone) {
  EXPECT_EXIT(
      {
        install_signal_handling();
        {
          SignalScope scope;
          on_signal([](const std::string&) { std::_Exit(7); });
        }
        deliver_and_wait(SIGTERM);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "");
}

}  // namespace
}  // namespace faultline::experiment
