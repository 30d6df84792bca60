// BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH: thin adapters from the Map
// interface to HashTable (hash_table.hpp), which holds the storage and the concurrency design.
#include "runtime/maps/cpu_slots.hpp"
#include "runtime/maps/hash_table.hpp"
#include "runtime/maps/hashing.hpp"
#include "runtime/maps/map_factories.hpp"

namespace xbpf::maps {
namespace {

class HashMap final : public Map {
  public:
    HashMap(const MapSpec& spec, std::unique_ptr<HashTable> table, uint32_t cpus)
        : Map(spec), table_(std::move(table)), cpus_(cpus) {}

    const MapMemory* storage() const noexcept override { return &table_->memory(); }

    void* lookup(const void* key) noexcept override {
        const uint32_t e = table_->find(key);
        if (e == kNoElement) return nullptr;
        return table_->value(e, is_percpu() ? this_cpu() : 0);
    }

    void* lookup_percpu(const void* key, uint32_t cpu) noexcept override {
        if (!is_percpu() || cpu >= cpus_) return nullptr;
        const uint32_t e = table_->find(key);
        return e == kNoElement ? nullptr : table_->value(e, cpu);
    }

    long update(const void* key, const void* value, uint64_t flags) noexcept override {
        // The calling thread runs programs: it gets its CPU slot (and so its own free list).
        (void)this_cpu();
        return table_->update(
            key, value, flags,
            is_percpu() ? HashTable::ValueSource::ThisCpu : HashTable::ValueSource::Single);
    }

    long erase(const void* key) noexcept override {
        (void)this_cpu();
        return table_->erase(key);
    }

    long for_each(ElementVisitor& visitor) noexcept override {
        return table_->for_each(is_percpu() ? this_cpu() : 0, visitor);
    }

    int sys_lookup(const void* key, void* value) override { return table_->copy_value(key, value); }
    int sys_update(const void* key, const void* value, uint64_t flags) override {
        return static_cast<int>(table_->update(
            key, value, flags,
            is_percpu() ? HashTable::ValueSource::AllCpus : HashTable::ValueSource::Single));
    }
    int sys_delete(const void* key) override { return static_cast<int>(table_->erase(key)); }
    int sys_lookup_and_delete(const void* key, void* value) override {
        return table_->take(key, value);
    }
    int sys_get_next_key(const void* key, void* next_key) override {
        return table_->next_key(key, next_key);
    }

    uint32_t batch_support() const override {
        return kBatchLookup | kBatchLookupAndDelete | kBatchUpdate | kBatchDelete;
    }
    int sys_lookup_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                         uint32_t& count, bool and_delete) override {
        return table_->lookup_batch(in_batch, out_batch, keys, values, count, and_delete);
    }

  private:
    std::unique_ptr<HashTable> table_;
    uint32_t cpus_;
};

}  // namespace

MapResult make_hash_map(const MapSpec& spec, const MapBuild& build) {
    HashTableShape shape;
    shape.key_size = spec.key_size;
    shape.value_size = spec.value_size;
    shape.max_entries = spec.max_entries;
    shape.percpu = spec.type == MapType::PercpuHash || spec.type == MapType::LruPercpuHash;
    shape.lru = spec.type == MapType::LruHash || spec.type == MapType::LruPercpuHash;
    shape.cpus = shape.percpu ? build.cpus : 1;
    shape.prealloc = !(spec.flags & map_flags::kNoPrealloc);
    shape.free_lists = build.cpus;
    shape.seed = new_hash_seed((spec.flags & map_flags::kZeroSeed) != 0);
    auto table = HashTable::create(shape, build.memory, build.attach);
    if (!table.ok()) return std::move(table).error();
    return std::shared_ptr<Map>(std::make_shared<HashMap>(spec, std::move(*table), shape.cpus));
}

}  // namespace xbpf::maps
