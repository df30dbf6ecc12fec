#include "runner/common/malloc_arenas.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace faultline::common {

void limit_malloc_arenas(int max) {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, max);
#else
  (void)max;
#endif
}

}  // namespace faultline::common
