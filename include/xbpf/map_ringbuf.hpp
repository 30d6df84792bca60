// BPF_MAP_TYPE_RINGBUF: Linux's multi-producer, single-consumer ring buffer, with its record
// format and memory layout exactly: page 0 holds the ring's control state, page 1 the consumer
// position, page 2 the producer position, and the data area (a power-of-two multiple of the page
// size) follows from page 3, mapped twice back to back so a record that wraps is contiguous.
// Each record starts with an 8-byte header: u32 length (BPF_RINGBUF_BUSY_BIT while reserved,
// BPF_RINGBUF_DISCARD_BIT when discarded) and u32 offset in pages of the header from the start
// of the region; records are 8-byte aligned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "xbpf/map.hpp"

namespace xbpf {

namespace ringbuf {
inline constexpr uint32_t kBusyBit = 1u << 31;     // BPF_RINGBUF_BUSY_BIT
inline constexpr uint32_t kDiscardBit = 1u << 30;  // BPF_RINGBUF_DISCARD_BIT
inline constexpr uint32_t kHeaderSize = 8;         // BPF_RINGBUF_HDR_SZ
inline constexpr uint64_t kNoWakeup = 1;           // BPF_RB_NO_WAKEUP
inline constexpr uint64_t kForceWakeup = 2;        // BPF_RB_FORCE_WAKEUP
inline constexpr uint64_t kAvailData = 0;          // BPF_RB_AVAIL_DATA
inline constexpr uint64_t kRingSize = 1;           // BPF_RB_RING_SIZE
inline constexpr uint64_t kConsPos = 2;            // BPF_RB_CONS_POS
inline constexpr uint64_t kProdPos = 3;            // BPF_RB_PROD_POS
}  // namespace ringbuf

class RingBufMap : public Map {
  public:
    // bpf_ringbuf_reserve: room for a record of `size` bytes, or nullptr (flags not 0, record
    // larger than the ring, or not enough free space). Safe from many threads at once.
    virtual void* reserve(uint64_t size, uint64_t flags) noexcept = 0;
    // bpf_ringbuf_submit / bpf_ringbuf_discard: commit a reserved record. Like the Linux helpers
    // they take no map: the record's header locates its ring. Flags: BPF_RB_NO_WAKEUP,
    // BPF_RB_FORCE_WAKEUP, or 0 (wake the consumer if it has caught up with this record).
    static void submit(void* sample, uint64_t flags) noexcept;
    static void discard(void* sample, uint64_t flags) noexcept;
    // bpf_ringbuf_output: reserve, copy, submit. -EINVAL for unknown flags, -EAGAIN if no room.
    virtual long output(const void* data, uint64_t size, uint64_t flags) noexcept = 0;
    // bpf_ringbuf_query (BPF_RB_AVAIL_DATA, RING_SIZE, CONS_POS, PROD_POS; 0 otherwise).
    virtual uint64_t query(uint64_t flags) const noexcept = 0;

    // The whole region as Linux lays it out for mmap: control page, consumer page, producer
    // page, data; data_size() more bytes (the second view of the data) follow the span.
    virtual std::span<std::byte> region() const noexcept = 0;
    virtual size_t data_size() const noexcept = 0;
    // The memfd holding the region (so it can be mapped elsewhere), or -1.
    virtual int memory_fd() const noexcept = 0;

  protected:
    using Map::Map;
};

// Reads records from one or more ring buffers, like libbpf's ring_buffer: records are handed to
// the ring's callback in order; discarded records are skipped; consumption stops at the first
// record still being written.
class RingBufferConsumer {
  public:
    // Called with each record; a negative return stops consumption and is returned.
    using Callback = std::function<int(const void* data, size_t size)>;

    RingBufferConsumer();
    ~RingBufferConsumer();
    RingBufferConsumer(const RingBufferConsumer&) = delete;
    RingBufferConsumer& operator=(const RingBufferConsumer&) = delete;

    // Adds a ring (ring_buffer__add); an Error if `map` is not a ring buffer.
    Status add(std::shared_ptr<Map> map, Callback callback);
    // Consumes every committed record of every ring (ring_buffer__consume). Returns the number of
    // records handed to callbacks, or the first negative callback result.
    int64_t consume();
    // Waits until a producer wakes the consumer, data is available, or timeout_ms passes
    // (negative: no limit), then consumes (ring_buffer__poll).
    int64_t poll(int timeout_ms);

  private:
    struct Ring;
    std::vector<std::unique_ptr<Ring>> rings_;
};

}  // namespace xbpf
