// Fences for the sequence counters (seqlocks) of hash elements and the LPM trie.
//
// ThreadSanitizer does not model std::atomic_thread_fence (GCC warns with -Wtsan, an error in
// -Werror builds). Every access to data guarded by a sequence counter is atomic, so TSan has no
// race to report with or without the fence; in sanitizer builds a compiler barrier stands in,
// which is what acquire and release fences compile to on x86-64 anyway.
#pragma once

#include <atomic>

namespace xbpf::maps {

// Reader: orders the data loads before the re-check of the counter.
inline void seq_acquire_fence() {
#if defined(__SANITIZE_THREAD__)
    std::atomic_signal_fence(std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_acquire);
#endif
}

// Writer: orders the counter's odd value before the data stores.
inline void seq_release_fence() {
#if defined(__SANITIZE_THREAD__)
    std::atomic_signal_fence(std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_release);
#endif
}

}  // namespace xbpf::maps
