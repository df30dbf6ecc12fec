// glibc gives each thread that allocates under contention an arena of its
// own, up to 8 per core, and an arena keeps what it once held. The runner's
// threads (a watch per probe, the drain's watches, the request engine) are
// I/O-bound, so the extra arenas buy no speed; at 10k pods they held ~19 MB
// of the peak RSS (issue 14: 171 MB with the default, 152 MB with 2).
#pragma once

namespace faultline::common {

// Caps glibc's malloc arenas at `max` (the environment's MALLOC_ARENA_MAX,
// when set, wins). Call first thing in main, before any thread starts.
void limit_malloc_arenas(int max = 2);

}  // namespace faultline::common
