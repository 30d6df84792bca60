// Readiness of ring buffer descriptors for epoll. A ring buffer's file is plain memory, which
// epoll cannot watch; instead each watched ring gets an eventfd that a notifier thread signals
// whenever producers wake the ring's consumer (the ring's futex word), and epoll watches that,
// edge-triggered so that every wakeup is reported once, as Linux reports ring buffer wakeups.
#pragma once

#include <atomic>
#include <thread>

#include "xbpf/map_ringbuf.hpp"

namespace xbpf::abi {

class RingEvents {
  public:
    explicit RingEvents(RingBufMap& ring);
    ~RingEvents();
    RingEvents(const RingEvents&) = delete;
    RingEvents& operator=(const RingEvents&) = delete;
    // The eventfd, or -1 if none could be made.
    int fd() const { return fd_; }

  private:
    void run();
    RingBufMap& ring_;
    int fd_ = -1;
    uint32_t seen_at_start_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace xbpf::abi
