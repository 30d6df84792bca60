#include "runtime/maps/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <vector>

namespace xbpf::maps {
namespace {

// futex_waitv(2) (Linux 5.16) waits on several words at once; its uapi flag for 32-bit words.
constexpr uint32_t kFutexWaitvSize32 = 2;

timespec after_ms(int ms) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += static_cast<long>(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

}  // namespace

void futex_wake_all(std::atomic<uint32_t>& word) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr, nullptr,
            0);
}

void futex_wait_any(std::span<std::atomic<uint32_t>* const> words,
                    std::span<const uint32_t> expected, int timeout_ms) {
    if (words.empty()) return;
    if (words.size() == 1) {
        timespec rel{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1000000L};
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(words[0]), FUTEX_WAIT, expected[0],
                timeout_ms < 0 ? nullptr : &rel, nullptr, 0);
        return;
    }
#ifdef SYS_futex_waitv
    static std::atomic<bool> waitv_missing{false};
    if (!waitv_missing.load(std::memory_order_relaxed) && words.size() <= FUTEX_WAITV_MAX) {
        std::vector<futex_waitv> waiters(words.size());
        for (size_t i = 0; i < words.size(); ++i) {
            waiters[i].val = expected[i];
            waiters[i].uaddr = reinterpret_cast<uintptr_t>(words[i]);
            waiters[i].flags = kFutexWaitvSize32;
            waiters[i].__reserved = 0;
        }
        timespec deadline = after_ms(timeout_ms);
        long rc = syscall(SYS_futex_waitv, waiters.data(), waiters.size(), 0,
                          timeout_ms < 0 ? nullptr : &deadline, CLOCK_MONOTONIC);
        if (rc >= 0 || errno != ENOSYS) return;
        waitv_missing.store(true, std::memory_order_relaxed);
    }
#endif
    // No futex_waitv: wait on each word in short slices.
    const int slice = timeout_ms < 0 ? 10 : std::max(1, std::min(10, timeout_ms));
    timespec rel{0, static_cast<long>(slice) * 1000000L};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(words[0]), FUTEX_WAIT, expected[0], &rel,
            nullptr, 0);
}

}  // namespace xbpf::maps
