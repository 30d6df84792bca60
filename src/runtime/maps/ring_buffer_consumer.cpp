// RingBufferConsumer: the single consumer side of ring buffers, reading records in order the
// way libbpf's ring_buffer__consume does, and sleeping on the rings' futex words in poll().
#include <vector>

#include "runtime/maps/futex.hpp"
#include "runtime/maps/ring_buffer.hpp"
#include "runtime/maps/word_copy.hpp"
#include "xbpf/map_ringbuf.hpp"

namespace xbpf {

struct RingBufferConsumer::Ring {
    std::shared_ptr<Map> map;
    Callback callback;
    maps::RingView view;
    uint64_t mask = 0;

    std::byte* record_at(uint64_t pos) const { return view.data() + (pos & mask); }

    // Is the record at the consumer position committed (data or discard) already?
    bool has_committed() const {
        const uint64_t cons = view.consumer_pos().load(std::memory_order_seq_cst);
        const uint64_t prod = view.producer_pos().load(std::memory_order_seq_cst);
        if (cons >= prod) return false;
        return !(maps::load_record_length(record_at(cons), std::memory_order_seq_cst) &
                 ringbuf::kBusyBit);
    }

    int64_t consume() {
        int64_t handed = 0;
        uint64_t cons = view.consumer_pos().load(std::memory_order_acquire);
        for (bool progressed = true; progressed;) {
            progressed = false;
            const uint64_t prod = view.producer_pos().load(std::memory_order_acquire);
            while (cons < prod) {
                const std::byte* header = record_at(cons);
                const uint32_t len = maps::load_record_length(header, std::memory_order_acquire);
                if (len & ringbuf::kBusyBit) return handed;
                const uint32_t size = len & ~(ringbuf::kBusyBit | ringbuf::kDiscardBit);
                cons += maps::round_up8(size + ringbuf::kHeaderSize);
                if (!(len & ringbuf::kDiscardBit)) {
                    const int rc = callback(header + ringbuf::kHeaderSize, size);
                    if (rc < 0) {
                        view.consumer_pos().store(cons, std::memory_order_release);
                        return rc;
                    }
                    ++handed;
                }
                // Publish as we go: producers may reuse the space at once.
                view.consumer_pos().store(cons, std::memory_order_release);
                progressed = true;
            }
        }
        return handed;
    }
};

RingBufferConsumer::RingBufferConsumer() = default;
RingBufferConsumer::~RingBufferConsumer() = default;

Status RingBufferConsumer::add(std::shared_ptr<Map> map, Callback callback) {
    auto* ring = dynamic_cast<RingBufMap*>(map.get());
    if (ring == nullptr) return Error("not a ring buffer map");
    if (!callback) return Error("a ring buffer consumer needs a callback");
    auto r = std::make_unique<Ring>();
    r->view.base = ring->region().data();
    r->mask = ring->data_size() - 1;
    r->map = std::move(map);
    r->callback = std::move(callback);
    rings_.push_back(std::move(r));
    return {};
}

int64_t RingBufferConsumer::consume() {
    int64_t total = 0;
    for (auto& ring : rings_) {
        const int64_t n = ring->consume();
        if (n < 0) return n;
        total += n;
    }
    return total;
}

int64_t RingBufferConsumer::poll(int timeout_ms) {
    const int64_t ready = consume();
    if (ready != 0 || timeout_ms == 0 || rings_.empty()) return ready;
    std::vector<std::atomic<uint32_t>*> words;
    std::vector<uint32_t> expected;
    for (auto& ring : rings_) {
        maps::RingControl& ctl = ring->view.control();
        expected.push_back(ctl.wake_seq.load(std::memory_order_seq_cst));
        words.push_back(&ctl.wake_seq);
        ctl.waiters.fetch_add(1, std::memory_order_seq_cst);
    }
    // Registered as a waiter first, then checked: a producer committing now either sees the
    // waiter or its record is seen here.
    bool pending = false;
    for (auto& ring : rings_)
        pending = pending || ring->has_committed();
    if (!pending) maps::futex_wait_any(words, expected, timeout_ms);
    for (auto& ring : rings_) {
        ring->view.control().waiters.fetch_sub(1, std::memory_order_seq_cst);
    }
    return consume();
}

}  // namespace xbpf
