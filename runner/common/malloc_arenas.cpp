#include "runner/common/malloc_arenas.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace faultline::common {

namespace {
// glibc's own initial threshold: blocks from 128 KiB up (a list page's body,
// the report) are mapped and unmapped on their own, never left in the heap.
constexpr int kMmapThreshold = 128 * 1024;
}  // namespace

void tune_malloc(int max_arenas) {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, max_arenas);
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
#else
  (void)max_arenas;
#endif
}

void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace faultline::common
