// BPF_MAP_TYPE_PERF_EVENT_ARRAY and its per-CPU buffers. A buffer is a ring of perf records in
// a double-mapped region (page 0: control; then the data pages, twice), so records are always
// contiguous. Writers of one buffer serialise on a spin lock (normally there is one, the program
// on that CPU slot); the reader owns the tail.
#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/maps/cpu_slots.hpp"
#include "runtime/maps/futex.hpp"
#include "runtime/maps/map_factories.hpp"
#include "runtime/maps/object_array.hpp"
#include "runtime/maps/spin_lock.hpp"
#include "runtime/maps/word_copy.hpp"
#include "xbpf/map_perf.hpp"

namespace xbpf {
namespace {

constexpr uint32_t kPerfRecordLost = 2;                    // PERF_RECORD_LOST
constexpr uint32_t kPerfRecordSample = 9;                  // PERF_RECORD_SAMPLE
constexpr uint64_t kIndexMask = 0xffffffffULL;             // BPF_F_INDEX_MASK
constexpr uint64_t kCurrentCpu = kIndexMask;               // BPF_F_CURRENT_CPU
constexpr uint64_t kContextLengthMask = 0xfffffULL << 32;  // BPF_F_CTXLEN_MASK
constexpr size_t kLostRecordSize = 24;

struct PerfHeader {  // struct perf_event_header
    uint32_t type;
    uint16_t misc;
    uint16_t size;
};

}  // namespace

struct PerfEventBuffer::Control {
    std::atomic<uint32_t> lock{0};
    std::atomic<uint32_t> wake_seq{0};
    std::atomic<uint32_t> waiters{0};
    uint32_t reserved = 0;
    std::atomic<uint64_t> head{0};  // written by producers
    std::atomic<uint64_t> tail{0};  // written by the reader
    uint64_t lost = 0;              // samples dropped since the last LOST record (under lock)
};

Result<std::shared_ptr<PerfEventBuffer>> PerfEventBuffer::create(
    uint32_t cpu, size_t data_pages, std::shared_ptr<MapMemoryProvider> memory) {
    if (data_pages == 0 || (data_pages & (data_pages - 1)) != 0) {
        return Error("perf buffer page count must be a power of two");
    }
    if (!memory) memory = private_map_memory();
    const size_t data_size = data_pages * map_page_size();
    auto region = memory->allocate_double_mapped(map_page_size(), data_size);
    if (!region.ok()) return std::move(region).error();
    return std::shared_ptr<PerfEventBuffer>(
        new PerfEventBuffer(cpu, std::move(*region), data_size));
}

PerfEventBuffer::PerfEventBuffer(uint32_t cpu, std::unique_ptr<MapMemory> memory, size_t data_size)
    : cpu_(cpu), memory_(std::move(memory)), data_size_(data_size) {}

PerfEventBuffer::~PerfEventBuffer() = default;

PerfEventBuffer::Control& PerfEventBuffer::control() const {
    return *reinterpret_cast<Control*>(memory_->data());
}
std::byte* PerfEventBuffer::data() const {
    return memory_->data() + map_page_size();
}

uint64_t PerfEventBuffer::available() const {
    return control().head.load(std::memory_order_acquire) -
           control().tail.load(std::memory_order_acquire);
}

long PerfEventBuffer::write_sample(const void* sample, uint64_t size) noexcept {
    // Linux pads the raw data so that the u32 size plus data is a multiple of 8, and reports
    // the padded size.
    const uint64_t raw_size = maps::round_up8(size + 4) - 4;
    const uint64_t record = sizeof(PerfHeader) + 4 + raw_size;
    if (record > UINT16_MAX) return -E2BIG;
    Control& c = control();
    {
        maps::SpinGuard guard(c.lock);
        const uint64_t head = c.head.load(std::memory_order_relaxed);
        const uint64_t tail = c.tail.load(std::memory_order_acquire);
        const uint64_t need = record + (c.lost != 0 ? kLostRecordSize : 0);
        if (head + need - tail > data_size_) {
            ++c.lost;
            return -ENOSPC;
        }
        std::byte* p = data() + (head & (data_size_ - 1));
        if (c.lost != 0) {
            const PerfHeader lost{kPerfRecordLost, 0, static_cast<uint16_t>(kLostRecordSize)};
            const uint64_t id = 0;
            std::memcpy(p, &lost, sizeof lost);
            std::memcpy(p + 8, &id, 8);
            std::memcpy(p + 16, &c.lost, 8);
            p += kLostRecordSize;
            c.lost = 0;
        }
        const PerfHeader header{kPerfRecordSample, 0, static_cast<uint16_t>(record)};
        const auto raw32 = static_cast<uint32_t>(raw_size);
        std::memcpy(p, &header, sizeof header);
        std::memcpy(p + 8, &raw32, 4);
        std::memcpy(p + 12, sample, size);
        std::memset(p + 12 + size, 0, raw_size - size);
        c.head.store(head + need, std::memory_order_release);
    }
    c.wake_seq.fetch_add(1, std::memory_order_seq_cst);
    if (c.waiters.load(std::memory_order_seq_cst) != 0) maps::futex_wake_all(c.wake_seq);
    return 0;
}

int64_t PerfEventBuffer::consume(const SampleFn& sample, const LostFn& lost) {
    Control& c = control();
    uint64_t tail = c.tail.load(std::memory_order_relaxed);
    const uint64_t head = c.head.load(std::memory_order_acquire);
    int64_t records = 0;
    while (tail < head) {
        const std::byte* p = data() + (tail & (data_size_ - 1));
        PerfHeader header;
        std::memcpy(&header, p, sizeof header);
        if (header.type == kPerfRecordSample) {
            uint32_t raw_size;
            std::memcpy(&raw_size, p + 8, 4);
            if (sample) sample(cpu_, p + 12, raw_size);
        } else if (header.type == kPerfRecordLost) {
            uint64_t count;
            std::memcpy(&count, p + 16, 8);
            if (lost) lost(cpu_, count);
        }
        tail += header.size;
        ++records;
    }
    c.tail.store(tail, std::memory_order_release);
    return records;
}

namespace maps {
namespace {

class PerfEventArray final : public ObjectArray<PerfEventArrayMap> {
  public:
    using ObjectArray::ObjectArray;

    long output(uint64_t flags, const void* data, uint64_t size) noexcept override {
        if (flags & ~(kIndexMask | kContextLengthMask)) return -EINVAL;
        const uint32_t cpu = this_cpu();
        uint64_t index = flags & kIndexMask;
        if (index == kCurrentCpu) index = cpu;
        if (index >= max_entries()) return -E2BIG;
        // The buffer stays alive while we write even if the host replaces it meanwhile.
        MapReadGuard guard;
        const auto* buffer =
            static_cast<const PerfEventBuffer*>(slots_.load(static_cast<uint32_t>(index)));
        if (buffer == nullptr) return -ENOENT;
        if (buffer->cpu() != cpu) return -EOPNOTSUPP;
        return const_cast<PerfEventBuffer*>(buffer)->write_sample(data, size);
    }

  protected:
    const void* program_view(const MapValueObject& object) const override {
        return dynamic_cast<const PerfEventBuffer*>(&object);
    }
    bool reports_ids() const override { return false; }
};

}  // namespace

MapResult make_perf_event_array(const MapSpec& spec, const MapOptions& options) {
    return std::shared_ptr<Map>(std::make_shared<PerfEventArray>(spec, options));
}

}  // namespace maps

Result<std::unique_ptr<PerfBufferConsumer>> PerfBufferConsumer::create(
    std::shared_ptr<Map> map, size_t data_pages, PerfEventBuffer::SampleFn sample,
    PerfEventBuffer::LostFn lost) {
    auto* array = dynamic_cast<PerfEventArrayMap*>(map.get());
    if (array == nullptr) return Error("not a perf event array map");
    std::unique_ptr<PerfBufferConsumer> consumer(new PerfBufferConsumer);
    const uint32_t n = std::min(nr_cpus(), map->max_entries());
    for (uint32_t cpu = 0; cpu < n; ++cpu) {
        auto buffer = PerfEventBuffer::create(cpu, data_pages);
        if (!buffer.ok()) return std::move(buffer).error();
        if (int err = array->update_object(&cpu, *buffer, 0, 0); err != 0) {
            return Error("cannot install perf buffer: error " + std::to_string(-err));
        }
        consumer->buffers_.push_back(std::move(*buffer));
    }
    consumer->map_ = std::move(map);
    consumer->sample_ = std::move(sample);
    consumer->lost_ = std::move(lost);
    return consumer;
}

int64_t PerfBufferConsumer::consume() {
    int64_t total = 0;
    for (auto& buffer : buffers_)
        total += buffer->consume(sample_, lost_);
    return total;
}

int64_t PerfBufferConsumer::poll(int timeout_ms) {
    const int64_t ready = consume();
    if (ready != 0 || timeout_ms == 0 || buffers_.empty()) return ready;
    std::vector<std::atomic<uint32_t>*> words;
    std::vector<uint32_t> expected;
    for (auto& buffer : buffers_) {
        PerfEventBuffer::Control& c = buffer->control();
        expected.push_back(c.wake_seq.load(std::memory_order_seq_cst));
        words.push_back(&c.wake_seq);
        c.waiters.fetch_add(1, std::memory_order_seq_cst);
    }
    bool pending = false;
    for (auto& buffer : buffers_)
        pending = pending || buffer->available() != 0;
    if (!pending) maps::futex_wait_any(words, expected, timeout_ms);
    for (auto& buffer : buffers_) {
        buffer->control().waiters.fetch_sub(1, std::memory_order_seq_cst);
    }
    return consume();
}

}  // namespace xbpf
