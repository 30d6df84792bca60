// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY: fixed slots indexed by a u32 key, all
// preallocated and zeroed, values at round_up(value_size, 8) stride in one region. Lookups are
// a bounds check and an address computation. Per-CPU arrays keep one block of all values per
// CPU slot (cache-line aligned), so threads updating the same index never share a line.
// Updates copy in place, as Linux does: a reader racing an update of the same element may see
// a mix of old and new words (Linux offers BPF_F_LOCK for that, which needs BTF spin locks).
#include <algorithm>
#include <cstring>

#include "runtime/maps/cpu_slots.hpp"
#include "runtime/maps/map_factories.hpp"
#include "runtime/maps/word_copy.hpp"

namespace xbpf::maps {
namespace {

class ArrayMap final : public Map {
  public:
    ArrayMap(const MapSpec& spec, std::unique_ptr<MapMemory> memory, uint32_t cpus,
             size_t cpu_block, bool attach)
        : Map(spec),
          memory_(std::move(memory)),
          base_(memory_->data()),
          elem_size_(round_up8(spec.value_size)),
          cpus_(cpus),
          cpu_block_(cpu_block) {
        // Global data sections (.data/.rodata) start with the section's bytes in element 0.
        const size_t n = std::min<size_t>(spec.initial_value.size(), spec.value_size);
        if (n > 0 && !attach) std::memcpy(base_, spec.initial_value.data(), n);
    }

    const MapMemory* storage() const noexcept override { return memory_.get(); }

    std::span<std::byte> mmapable_memory() override {
        if (!(flags() & map_flags::kMmapable)) return {};
        return {base_, memory_->size()};
    }

    void* lookup(const void* key) noexcept override {
        uint32_t index = read_index(key);
        if (index >= max_entries()) return nullptr;
        return slot(index, is_percpu() ? this_cpu() : 0);
    }

    void* lookup_percpu(const void* key, uint32_t cpu) noexcept override {
        uint32_t index = read_index(key);
        if (!is_percpu() || index >= max_entries() || cpu >= cpus_) return nullptr;
        return slot(index, cpu);
    }

    long update(const void* key, const void* value, uint64_t flags) noexcept override {
        uint32_t index = read_index(key);
        if (long err = check_update(index, flags)) return err;
        copy_in(slot(index, is_percpu() ? this_cpu() : 0), value, value_size());
        return 0;
    }

    long for_each(ElementVisitor& visitor) noexcept override {
        const uint32_t cpu = is_percpu() ? this_cpu() : 0;
        long visited = 0;
        for (uint32_t index = 0; index < max_entries(); ++index) {
            ++visited;
            const uint32_t key = index;
            if (visitor.visit(&key, slot(index, cpu))) break;
        }
        return visited;
    }

    int sys_lookup(const void* key, void* value) override {
        uint32_t index = read_index(key);
        if (index >= max_entries()) return -ENOENT;
        if (!is_percpu()) {
            copy_out(value, slot(index, 0), value_size());
            return 0;
        }
        auto* out = static_cast<uint8_t*>(value);
        for (uint32_t cpu = 0; cpu < cpus_; ++cpu) {
            copy_out(out + size_t{cpu} * elem_size_, slot(index, cpu), elem_size_);
        }
        return 0;
    }

    int sys_update(const void* key, const void* value, uint64_t flags) override {
        uint32_t index = read_index(key);
        if (long err = check_update(index, flags)) return static_cast<int>(err);
        if (!is_percpu()) {
            copy_in(slot(index, 0), value, value_size());
            return 0;
        }
        const auto* in = static_cast<const uint8_t*>(value);
        for (uint32_t cpu = 0; cpu < cpus_; ++cpu) {
            copy_in(slot(index, cpu), in + size_t{cpu} * elem_size_, value_size());
        }
        return 0;
    }

    int sys_delete(const void*) override { return -EINVAL; }

    int sys_get_next_key(const void* key, void* next_key) override {
        uint32_t next = 0;
        if (key != nullptr) {
            uint32_t index = read_index(key);
            if (index < max_entries()) {
                if (index == max_entries() - 1) return -ENOENT;
                next = index + 1;
            }
        }
        std::memcpy(next_key, &next, sizeof next);
        return 0;
    }

    uint32_t batch_support() const override { return kBatchLookup | kBatchUpdate; }

  private:
    static uint32_t read_index(const void* key) {
        uint32_t index;
        std::memcpy(&index, key, sizeof index);
        return index;
    }

    long check_update(uint32_t index, uint64_t flags) const {
        if ((flags & ~update_flags::kLock) > update_flags::kExist) return -EINVAL;
        if (flags & update_flags::kLock) return -EINVAL;  // no bpf_spin_lock without BTF
        if (index >= max_entries()) return -E2BIG;
        if (flags == update_flags::kNoExist) return -EEXIST;  // every element always exists
        return 0;
    }

    std::byte* slot(uint32_t index, uint32_t cpu) const {
        return base_ + cpu * cpu_block_ + size_t{index} * elem_size_;
    }

    std::unique_ptr<MapMemory> memory_;
    std::byte* base_;
    size_t elem_size_;
    uint32_t cpus_;
    size_t cpu_block_;
};

}  // namespace

MapResult make_array_map(const MapSpec& spec, const MapBuild& build) {
    const bool percpu = spec.type == MapType::PercpuArray;
    const uint32_t cpus = percpu ? build.cpus : 1;
    const size_t values = size_t{spec.max_entries} * round_up8(spec.value_size);
    const size_t cpu_block = (values + 63) & ~size_t{63};
    if (spec.initial_value.size() > spec.value_size) {
        return Error("initial value larger than value_size");
    }
    auto memory = build.memory.allocate(cpu_block * cpus, true);
    if (!memory.ok()) return std::move(memory).error();
    return std::shared_ptr<Map>(
        std::make_shared<ArrayMap>(spec, std::move(*memory), cpus, cpu_block, build.attach));
}

}  // namespace xbpf::maps
