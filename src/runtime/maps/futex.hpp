// Waiting on a 32-bit word inside a map region (ring buffer and perf buffer wakeups). Futexes
// work on shared memory too, so the wakeup mechanism keeps working when rings are shared
// between processes (map_shared.hpp) as long as no private flag is used: FUTEX_PRIVATE_FLAG
// (and FUTEX2_PRIVATE) key the word by this process's address space, and a waiter in another
// process would never be woken.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

namespace xbpf::maps {

// Wakes every thread waiting on `word`.
void futex_wake_all(std::atomic<uint32_t>& word);

// Waits while any words[i] still equals expected[i], at most timeout_ms (negative: no limit).
// Returns early on a wakeup, a signal or a change; callers re-check their condition.
void futex_wait_any(std::span<std::atomic<uint32_t>* const> words,
                    std::span<const uint32_t> expected, int timeout_ms);

}  // namespace xbpf::maps
