// What the runner's malloc tuning buys, read off the process's own RssAnon:
// large buffers are not kept in the heap once freed, and
// release_free_memory gives freed small blocks back (issue 14: freed pages
// kept by glibc were a third of the 10k-pod drill's RSS). Not built with
// the sanitizers, whose allocator replaces glibc's (CMakeLists.txt).
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "runner/common/malloc_arenas.h"

namespace faultline::common {
namespace {

long rss_anon_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long kib = -1;
  while (status >> key) {
    if (key == "RssAnon:") {
      status >> kib;
      break;
    }
    status.ignore(1 << 12, '\n');
  }
  return kib;
}

// Touches every page, so the memory is resident, not just reserved.
std::unique_ptr<char[]> filled(size_t bytes) {
  std::unique_ptr<char[]> p(new char[bytes]);
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
  return p;
}

TEST(MallocTuning, LargeBuffersGoBackToTheKernelWhenFreed) {
  tune_malloc();
  // Needs a heap with no large free chunk (glibc serves a block from one
  // before it maps a new one): this binary's only other test runs in a
  // process of its own under ctest, and after this one when run by hand.
  // glibc's default would now raise its mmap threshold to 8 MiB and serve
  // the 1 MiB buffers below from the heap, keeping them once freed.
  filled(8 << 20).reset();
  std::vector<std::unique_ptr<char[]>> buffers;
  for (int i = 0; i < 48; ++i) buffers.push_back(filled(1 << 20));
  auto pin = filled(64);  // above them in the heap, were they there
  const long held = rss_anon_kib();
  buffers.clear();
  const long after = rss_anon_kib();
  EXPECT_LT(after, held - 40 * 1024) << "held " << held << " KiB, after free " << after << " KiB";
}

TEST(MallocTuning, ReleaseFreeMemoryReturnsFreedSmallBlocks) {
  tune_malloc();
  // 64 MiB of 2 KiB blocks (heap, not mmap), the last one kept: glibc trims
  // only the top of the heap by itself, and the kept block pins it.
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 32 * 1024; ++i) blocks.push_back(filled(2048));
  auto pin = filled(2048);
  blocks.clear();
  blocks.shrink_to_fit();
  const long kept = rss_anon_kib();
  release_free_memory();
  const long released = rss_anon_kib();
  EXPECT_LT(released, kept - 48 * 1024)
      << "before " << kept << " KiB, after " << released << " KiB";
}

}  // namespace
}  // namespace faultline::common
