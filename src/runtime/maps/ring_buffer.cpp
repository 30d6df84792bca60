// BPF_MAP_TYPE_RINGBUF producers: reservations are serialised by a spin lock in the control
// page and only move the producer position; submit and discard are lock-free (an atomic
// exchange of the record's length word), so records may be committed out of order and the
// consumer stops at the first one still busy.
#include <cstring>

#include "runtime/maps/futex.hpp"
#include "runtime/maps/map_factories.hpp"
#include "runtime/maps/ring_buffer.hpp"
#include "runtime/maps/spin_lock.hpp"
#include "runtime/maps/word_copy.hpp"
#include "xbpf/map_ringbuf.hpp"

namespace xbpf::maps {
namespace {

constexpr uint64_t kMaxRecordSize = UINT32_MAX / 4;  // Linux's RINGBUF_MAX_RECORD_SZ

class RingBufferMap final : public RingBufMap {
  public:
    RingBufferMap(const MapSpec& spec, std::unique_ptr<MapMemory> memory, bool attach)
        : RingBufMap(spec), memory_(std::move(memory)), ring_{memory_->data()} {
        if (!attach) ring_.control().mask = spec.max_entries - 1;
    }

    const MapMemory* storage() const noexcept override { return memory_.get(); }

    void* reserve(uint64_t size, uint64_t flags) noexcept override {
        if (flags != 0 || size > kMaxRecordSize) return nullptr;
        const uint64_t len = round_up8(size + ringbuf::kHeaderSize);
        RingControl& ctl = ring_.control();
        if (len > ctl.mask + 1) return nullptr;
        const uint64_t cons = ring_.consumer_pos().load(std::memory_order_acquire);
        SpinGuard guard(ctl.lock);
        const uint64_t prod = ring_.producer_pos().load(std::memory_order_relaxed);
        // Skip over records committed since the last reservation: the oldest busy record
        // bounds how far producers may go even if the consumer position says otherwise.
        uint64_t pending = ctl.pending_pos.load(std::memory_order_relaxed);
        while (pending < prod) {
            const uint32_t l = load_record_length(record_at(pending), std::memory_order_acquire);
            if (l & ringbuf::kBusyBit) break;
            pending +=
                round_up8((l & ~(ringbuf::kBusyBit | ringbuf::kDiscardBit)) + ringbuf::kHeaderSize);
        }
        ctl.pending_pos.store(pending, std::memory_order_relaxed);
        const uint64_t new_prod = prod + len;
        if (new_prod - cons > ctl.mask || new_prod - pending > ctl.mask) return nullptr;
        std::byte* header = record_at(prod);
        const uint32_t page_offset =
            static_cast<uint32_t>((header - memory_->data()) / map_page_size());
        __atomic_store_n(reinterpret_cast<uint32_t*>(header),
                         static_cast<uint32_t>(size) | ringbuf::kBusyBit, __ATOMIC_RELAXED);
        __atomic_store_n(reinterpret_cast<uint32_t*>(header) + 1, page_offset, __ATOMIC_RELAXED);
        ring_.producer_pos().store(new_prod, std::memory_order_release);
        return header + ringbuf::kHeaderSize;
    }

    long output(const void* data, uint64_t size, uint64_t flags) noexcept override {
        if (flags & ~(ringbuf::kNoWakeup | ringbuf::kForceWakeup)) return -EINVAL;
        void* record = reserve(size, 0);
        if (record == nullptr) return -EAGAIN;
        // bpf_ringbuf_output takes its size as ARG_CONST_SIZE_OR_ZERO: data may be NULL then.
        if (size != 0) std::memcpy(record, data, size);
        submit(record, flags);
        return 0;
    }

    uint64_t query(uint64_t flags) const noexcept override {
        const uint64_t cons = ring_.consumer_pos().load(std::memory_order_acquire);
        const uint64_t prod = ring_.producer_pos().load(std::memory_order_acquire);
        switch (flags) {
            case ringbuf::kAvailData: return prod - cons;
            case ringbuf::kRingSize: return ring_.control().mask + 1;
            case ringbuf::kConsPos: return cons;
            case ringbuf::kProdPos: return prod;
            default: return 0;
        }
    }

    std::span<std::byte> region() const noexcept override {
        return {memory_->data(), memory_->size()};
    }
    size_t data_size() const noexcept override { return ring_.control().mask + 1; }
    int memory_fd() const noexcept override { return memory_->fd(); }

  private:
    std::byte* record_at(uint64_t pos) const { return ring_.data() + (pos & ring_.control().mask); }

    std::unique_ptr<MapMemory> memory_;
    RingView ring_;
};

// Clears the busy bit (and sets the discard bit) of a record, then wakes the consumer if it
// was waiting for exactly this record or the producer insists.
void commit(void* sample, uint64_t flags, bool discard) noexcept {
    auto* header = static_cast<std::byte*>(sample) - ringbuf::kHeaderSize;
    const size_t page = map_page_size();
    const uint32_t page_offset =
        __atomic_load_n(reinterpret_cast<const uint32_t*>(header) + 1, __ATOMIC_RELAXED);
    auto header_page = reinterpret_cast<uintptr_t>(header) & ~(uintptr_t{page} - 1);
    RingView ring{reinterpret_cast<std::byte*>(header_page - size_t{page_offset} * page)};
    RingControl& ctl = ring.control();

    auto* len = reinterpret_cast<uint32_t*>(header);
    uint32_t new_len = __atomic_load_n(len, __ATOMIC_RELAXED) & ~ringbuf::kBusyBit;
    if (discard) new_len |= ringbuf::kDiscardBit;
    __atomic_exchange_n(len, new_len, __ATOMIC_SEQ_CST);

    const uint64_t record_pos = static_cast<uint64_t>(header - ring.data()) & ctl.mask;
    const uint64_t cons = ring.consumer_pos().load(std::memory_order_seq_cst) & ctl.mask;
    const bool wake =
        (flags & ringbuf::kForceWakeup) || (cons == record_pos && !(flags & ringbuf::kNoWakeup));
    if (wake) {
        ctl.wake_seq.fetch_add(1, std::memory_order_seq_cst);
        if (ctl.waiters.load(std::memory_order_seq_cst) != 0) futex_wake_all(ctl.wake_seq);
    }
}

}  // namespace

MapResult make_ring_buffer(const MapSpec& spec, const MapBuild& build) {
    auto memory =
        build.memory.allocate_double_mapped(kRingDataPage * map_page_size(), spec.max_entries);
    if (!memory.ok()) return std::move(memory).error();
    if (build.attach && RingView{(*memory)->data()}.control().mask != spec.max_entries - 1) {
        return Error("ring buffer region does not hold a ring of this size");
    }
    return std::shared_ptr<Map>(
        std::make_shared<RingBufferMap>(spec, std::move(*memory), build.attach));
}

}  // namespace xbpf::maps

namespace xbpf {

void RingBufMap::submit(void* sample, uint64_t flags) noexcept {
    maps::commit(sample, flags, false);
}
void RingBufMap::discard(void* sample, uint64_t flags) noexcept {
    maps::commit(sample, flags, true);
}

}  // namespace xbpf
