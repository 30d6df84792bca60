// The ring buffer region layout shared by the map (producers) and the consumer. Linux's layout:
// page 0 control (private to producers here), page 1 consumer position, page 2 producer
// position, data from page 3, mapped twice.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "xbpf/map_storage.hpp"

namespace xbpf::maps {

inline constexpr size_t kRingControlPage = 0;
inline constexpr size_t kRingConsumerPage = 1;
inline constexpr size_t kRingProducerPage = 2;
inline constexpr size_t kRingDataPage = 3;

struct RingControl {
    std::atomic<uint32_t> lock{0};      // serialises reservations
    std::atomic<uint32_t> wake_seq{0};  // futex word: bumped on every wakeup
    std::atomic<uint32_t> waiters{0};   // consumers sleeping on wake_seq
    uint32_t reserved = 0;
    std::atomic<uint64_t> pending_pos{0};  // oldest record possibly still busy
    uint64_t mask = 0;                     // data size - 1
};

// Views of one ring's region.
struct RingView {
    std::byte* base = nullptr;

    RingControl& control() const {
        return *reinterpret_cast<RingControl*>(base + kRingControlPage * map_page_size());
    }
    std::atomic<uint64_t>& consumer_pos() const {
        return *reinterpret_cast<std::atomic<uint64_t>*>(base +
                                                         kRingConsumerPage * map_page_size());
    }
    std::atomic<uint64_t>& producer_pos() const {
        return *reinterpret_cast<std::atomic<uint64_t>*>(base +
                                                         kRingProducerPage * map_page_size());
    }
    std::byte* data() const { return base + kRingDataPage * map_page_size(); }
};

// The length word of the record header at `header`, accessed atomically.
inline uint32_t load_record_length(const std::byte* header, std::memory_order order) {
    return __atomic_load_n(
        reinterpret_cast<const uint32_t*>(header),
        order == std::memory_order_seq_cst ? __ATOMIC_SEQ_CST : __ATOMIC_ACQUIRE);
}

}  // namespace xbpf::maps
