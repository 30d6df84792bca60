// BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK: a ring of max_entries + 1 value slots (one stays
// empty to tell full from empty) and head/tail indices, guarded by a spin lock in the region.
// Push with BPF_EXIST on a full map drops the oldest element, for both kinds, as in Linux.
#include <cstring>

#include "runtime/maps/map_factories.hpp"
#include "runtime/maps/spin_lock.hpp"
#include "runtime/maps/word_copy.hpp"

namespace xbpf::maps {
namespace {

struct QueueHeader {
    std::atomic<uint32_t> lock{0};
    uint32_t head = 0;  // next slot to push into (written under the lock)
    uint32_t tail = 0;  // oldest element
};

class QueueStackMap final : public Map {
  public:
    QueueStackMap(const MapSpec& spec, std::unique_ptr<MapMemory> memory)
        : Map(spec),
          memory_(std::move(memory)),
          slots_(spec.max_entries + 1),
          stride_(round_up8(spec.value_size)),
          stack_(spec.type == MapType::Stack) {}

    const MapMemory* storage() const noexcept override { return memory_.get(); }

    long push(const void* value, uint64_t flags) noexcept override {
        if ((flags & update_flags::kNoExist) || flags > update_flags::kExist) return -EINVAL;
        QueueHeader& h = header();
        SpinGuard guard(h.lock);
        if (next(h.head) == h.tail) {
            if (!(flags & update_flags::kExist)) return -E2BIG;
            h.tail = next(h.tail);  // drop the oldest
        }
        copy_in(slot(h.head), value, value_size());
        h.head = next(h.head);
        return 0;
    }

    long pop(void* value) noexcept override { return take(value, true); }
    long peek(void* value) noexcept override { return take(value, false); }

    int sys_lookup(const void*, void* value) override {
        return static_cast<int>(take(value, false));
    }
    int sys_update(const void*, const void* value, uint64_t flags) override {
        return static_cast<int>(push(value, flags));
    }
    int sys_lookup_and_delete(const void*, void* value) override {
        return static_cast<int>(take(value, true));
    }
    int sys_delete(const void*) override { return -EINVAL; }
    int sys_get_next_key(const void*, void*) override { return -EINVAL; }

  private:
    QueueHeader& header() const { return *reinterpret_cast<QueueHeader*>(memory_->data()); }
    std::byte* slot(uint32_t i) const { return memory_->data() + 64 + size_t{i} * stride_; }
    uint32_t next(uint32_t i) const { return i + 1 == slots_ ? 0 : i + 1; }
    uint32_t prev(uint32_t i) const { return i == 0 ? slots_ - 1 : i - 1; }

    long take(void* value, bool remove) noexcept {
        QueueHeader& h = header();
        SpinGuard guard(h.lock);
        if (h.head == h.tail) return -ENOENT;
        if (stack_) {
            const uint32_t top = prev(h.head);
            copy_out(value, slot(top), value_size());
            if (remove) h.head = top;
        } else {
            copy_out(value, slot(h.tail), value_size());
            if (remove) h.tail = next(h.tail);
        }
        return 0;
    }

    std::unique_ptr<MapMemory> memory_;
    uint32_t slots_;
    size_t stride_;
    bool stack_;
};

}  // namespace

MapResult make_queue_stack_map(const MapSpec& spec, const MapBuild& build) {
    // A zeroed region is an empty queue: nothing to initialise, nothing to redo on attach.
    const size_t size = 64 + (size_t{spec.max_entries} + 1) * round_up8(spec.value_size);
    auto memory = build.memory.allocate(size, true);
    if (!memory.ok()) return std::move(memory).error();
    return std::shared_ptr<Map>(std::make_shared<QueueStackMap>(spec, std::move(*memory)));
}

}  // namespace xbpf::maps
