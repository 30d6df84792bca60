// BPF_MAP_TYPE_PERF_EVENT_ARRAY: per-CPU buffers that programs write records to with
// bpf_perf_event_output, read by the host (libbpf's perf_buffer). Each slot of the map holds a
// PerfEventBuffer; a buffer is bound to one CPU slot, and a program may only write to the buffer
// of the slot it runs on, as in Linux where the perf event must be on the current CPU.
//
// Records follow Linux's perf ring format: struct perf_event_header {u32 type; u16 misc; u16
// size}, then for PERF_RECORD_SAMPLE a u32 raw size and the raw data padded so the record is
// 8-byte aligned (the raw size includes that padding, as Linux reports it); when the buffer was
// full, a PERF_RECORD_LOST {header; u64 id; u64 lost} precedes the next sample.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "xbpf/map_objects.hpp"

namespace xbpf {

// One CPU slot's ring of perf records. Writers serialise on a lock in the ring; one reader.
class PerfEventBuffer : public MapValueObject {
  public:
    // A buffer for CPU slot `cpu` with `data_pages` pages of data (a power of two).
    static Result<std::shared_ptr<PerfEventBuffer>> create(
        uint32_t cpu, size_t data_pages, std::shared_ptr<MapMemoryProvider> memory = nullptr);
    ~PerfEventBuffer() override;

    uint32_t cpu() const { return cpu_; }
    uint32_t object_id() const override { return 0; }

    // Appends a sample: 0, or -ENOSPC if the buffer is full (the loss is counted and reported
    // to the reader before the next sample that fits).
    long write_sample(const void* data, uint64_t size) noexcept;

    // Reads every complete record: `sample(cpu, data, size)` for samples (size as Linux reports
    // it, including padding), `lost(cpu, count)` for lost-record notices. Returns the number of
    // records read.
    using SampleFn = std::function<void(uint32_t cpu, const void* data, uint32_t size)>;
    using LostFn = std::function<void(uint32_t cpu, uint64_t lost)>;
    int64_t consume(const SampleFn& sample, const LostFn& lost);
    // Bytes written and not yet read.
    uint64_t available() const;

  private:
    friend class PerfBufferConsumer;  // waits on the buffers' wakeup words
    struct Control;
    Control& control() const;
    std::byte* data() const;

    PerfEventBuffer(uint32_t cpu, std::unique_ptr<MapMemory> memory, size_t data_size);
    uint32_t cpu_;
    std::unique_ptr<MapMemory> memory_;
    size_t data_size_;
};

class PerfEventArrayMap : public ObjectMap {
  public:
    // bpf_perf_event_output: `flags` holds the slot index (BPF_F_INDEX_MASK) or
    // BPF_F_CURRENT_CPU. 0, -EINVAL (bad flags), -E2BIG (index >= max_entries), -ENOENT (no
    // buffer there), -EOPNOTSUPP (the buffer belongs to another CPU slot), -ENOSPC (full).
    virtual long output(uint64_t flags, const void* data, uint64_t size) noexcept = 0;

  protected:
    using ObjectMap::ObjectMap;
};

// Reads a perf event array the way libbpf's perf_buffer does: creation opens one buffer per CPU
// slot and installs it in the map.
class PerfBufferConsumer {
  public:
    // One buffer of `data_pages` pages (a power of two) per CPU slot below min(nr_cpus(),
    // max_entries), installed at the slot's index.
    static Result<std::unique_ptr<PerfBufferConsumer>> create(std::shared_ptr<Map> map,
                                                              size_t data_pages,
                                                              PerfEventBuffer::SampleFn sample,
                                                              PerfEventBuffer::LostFn lost = {});
    // Reads every buffer; returns the number of records.
    int64_t consume();
    // Waits up to timeout_ms (negative: no limit) for data, then consumes.
    int64_t poll(int timeout_ms);

  private:
    PerfBufferConsumer() = default;
    std::shared_ptr<Map> map_;
    std::vector<std::shared_ptr<PerfEventBuffer>> buffers_;
    PerfEventBuffer::SampleFn sample_;
    PerfEventBuffer::LostFn lost_;
};

}  // namespace xbpf
