// Typed errors shared by every component. Each carries the context a user
// needs to act on it; none is ever swallowed.
#pragma once

#include <stdexcept>
#include <string>

namespace faultline {

// Bad input (spec, script, flags, kubeconfig). Exit code 2, nothing touched.
// what() is one line: "file:line:col: message" when a location is known.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
  InputError(const std::string& file, int line, const std::string& message)
      : std::runtime_error(file + ":" + std::to_string(line) + ": " + message) {}
  InputError(const std::string& file, int line, int column, const std::string& message)
      : std::runtime_error(file + ":" + std::to_string(line) + ":" + std::to_string(column) +
                           ": " + message) {}
};

// A run stopped on purpose (stop condition breached, SIGINT/SIGTERM). Exit 3.
class AbortedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A guard refused an action (too many zones, namespace not allowed, ...).
class GuardError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace faultline
