// A spin lock that is one 32-bit word inside a map region: no pointers, no process-local state,
// so it works unchanged when the region is shared between processes. Held only for short,
// bounded sections (a bucket update, a ring reservation).
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace xbpf::maps {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

class RegionSpinLock {
  public:
    explicit RegionSpinLock(std::atomic<uint32_t>& word) : word_(word) {}

    void lock() {
        for (int spins = 0;; ++spins) {
            if (word_.load(std::memory_order_relaxed) == 0 &&
                word_.exchange(1, std::memory_order_acquire) == 0) {
                return;
            }
            // The holder may have been preempted (more threads than cores): stop burning its
            // time slice after a while.
            if (spins < 128) {
                cpu_relax();
            } else {
                std::this_thread::yield();
            }
        }
    }
    bool try_lock() {
        return word_.load(std::memory_order_relaxed) == 0 &&
               word_.exchange(1, std::memory_order_acquire) == 0;
    }
    void unlock() { word_.store(0, std::memory_order_release); }

  private:
    std::atomic<uint32_t>& word_;
};

// Scoped holder: `SpinGuard g(bucket.lock);`
class SpinGuard {
  public:
    explicit SpinGuard(std::atomic<uint32_t>& word) : lock_(word) { lock_.lock(); }
    ~SpinGuard() { lock_.unlock(); }
    SpinGuard(const SpinGuard&) = delete;
    SpinGuard& operator=(const SpinGuard&) = delete;

  private:
    RegionSpinLock lock_;
};

}  // namespace xbpf::maps
