// glibc's malloc, tuned for a process whose memory is a few long-lived
// caches plus large short-lived buffers (list pages, the prediction's
// snapshot of every pod, the report).
//
// Arenas: glibc gives each thread that allocates under contention an arena
// of its own, up to 8 per core, and an arena keeps what it once held. The
// runner's threads (a watch per probe, the drain's watches, the request
// engine) are I/O-bound, so the extra arenas buy no speed; at 10k pods they
// held ~19 MB of the peak RSS (issue 14: 171 MB with the default, 152 MB
// with 2).
//
// Freed pages: glibc keeps what a phase frees for reuse, and after the
// prediction's snapshot of 10,000 pods was freed that memory stayed in the
// RSS through the drain, beside what the drain allocated (issue 14: heap
// peak 42.9 MB, RSS 78 MiB). A fixed mmap threshold keeps large buffers out
// of the heap (glibc otherwise raises it to the largest block ever freed,
// up to 32 MiB), and release_free_memory hands freed pages back at the
// points where a phase has just freed a lot.
#pragma once

namespace faultline::common {

// Caps glibc's malloc arenas at `max_arenas` (the environment's
// MALLOC_ARENA_MAX, when set, wins) and fixes the mmap threshold. Call first
// thing in main, before any thread starts.
void tune_malloc(int max_arenas = 2);

// Returns the pages of freed memory to the kernel (malloc_trim). A walk of
// the free lists under the arenas' locks: call it where a phase ends, not
// per request.
void release_free_memory();

}  // namespace faultline::common
