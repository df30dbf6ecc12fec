// A vector of trivially copyable values that keeps up to N of them in the
// object itself and goes to the heap only past N. The timeline's per-zone
// counts hold three zones in almost every cluster: a std::vector of them was
// 24 bytes plus a heap block of 40 (with malloc's header), three of them in
// each of the 13,800 pods samples of a 10k-pod drill (issue 14); inline they
// are 32 bytes and no block.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>

namespace faultline::observe {

template <class T, size_t N>
class InlineVector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  static_assert(N > 0);

 public:
  InlineVector() {}  // NOLINT(modernize-use-equals-default): the union's storage stays unset
  InlineVector(const InlineVector& other) { assign(other.data(), other.size_); }
  InlineVector(InlineVector&& other) noexcept { steal(other); }
  InlineVector& operator=(const InlineVector& other) {
    if (this != &other) {
      size_ = 0;
      assign(other.data(), other.size_);
    }
    return *this;
  }
  InlineVector& operator=(InlineVector&& other) noexcept {
    if (this != &other) {
      free_heap();
      steal(other);
    }
    return *this;
  }
  ~InlineVector() { free_heap(); }

  T* data() { return on_heap() ? heap_ : inline_; }
  const T* data() const { return on_heap() ? heap_ : inline_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }

  void reserve(size_t n) {
    if (n > capacity_) move_to_heap(n);
  }
  void push_back(const T& value) { insert(end(), value); }
  // Inserts before pos (a pointer into this vector); returns where it went.
  T* insert(const T* pos, const T& value) {
    auto at = static_cast<size_t>(pos - data());
    T copy = value;  // value may live in this vector
    if (size_ == capacity_) move_to_heap(size_t{capacity_} * 2);
    T* d = data();
    std::memmove(d + at + 1, d + at, (size_ - at) * sizeof(T));
    d[at] = copy;
    ++size_;
    return d + at;
  }

  bool operator==(const InlineVector& other) const {
    return std::equal(begin(), end(), other.begin(), other.end());
  }

 private:
  bool on_heap() const { return capacity_ > N; }
  void move_to_heap(size_t capacity) {
    auto* block = static_cast<T*>(::operator new(capacity * sizeof(T)));
    if (size_) std::memcpy(block, data(), size_ * sizeof(T));
    free_heap();
    heap_ = block;
    capacity_ = static_cast<uint32_t>(capacity);
  }
  void free_heap() {
    if (on_heap()) ::operator delete(heap_);
    capacity_ = N;
  }
  void assign(const T* from, size_t n) {
    reserve(n);
    if (n) std::memcpy(data(), from, n * sizeof(T));
    size_ = static_cast<uint32_t>(n);
  }
  void steal(InlineVector& other) {
    if (other.on_heap()) {
      heap_ = other.heap_;
      capacity_ = other.capacity_;
    } else if (other.size_) {
      std::memcpy(inline_, other.inline_, other.size_ * sizeof(T));
    }
    size_ = other.size_;
    other.capacity_ = N;
    other.size_ = 0;
  }

  union {
    T inline_[N];
    T* heap_;
  };
  uint32_t size_ = 0;
  uint32_t capacity_ = N;
};

}  // namespace faultline::observe
