// Bounded fan-out: run fn over items with at most `concurrency` in flight.
// Exceptions are collected per item, never swallowed.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace faultline {

// Returns one exception_ptr per item (null where fn succeeded).
template <typename T>
std::vector<std::exception_ptr> parallel_for_each(const std::vector<T>& items, size_t concurrency,
                                                  const std::function<void(const T&)>& fn) {
  std::vector<std::exception_ptr> errors(items.size());
  if (items.empty()) return errors;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < items.size(); i = next++) {
      try {
        fn(items[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  size_t n = std::max<size_t>(1, std::min(concurrency, items.size()));
  std::vector<std::jthread> threads;
  threads.reserve(n - 1);
  for (size_t i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  return errors;
}

}  // namespace faultline
