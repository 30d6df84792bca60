// BPF_MAP_TYPE_HASH_OF_MAPS: a HashTable whose 8-byte values are the inner Map pointers
// programs see, plus a process-local table of owning references keyed by the key bytes. Only
// the host writes it (Linux programs may only look maps of maps up), under one mutex, so the
// hash table and the owners stay in step; replaced inner maps are retired (read_guard.hpp).
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/maps/hash_table.hpp"
#include "runtime/maps/hashing.hpp"
#include "runtime/maps/map_factories.hpp"
#include "runtime/maps/object_slots.hpp"
#include "runtime/maps/word_copy.hpp"
#include "xbpf/map_objects.hpp"

namespace xbpf::maps {
namespace {

class HashOfMaps final : public ObjectMap {
  public:
    HashOfMaps(const MapSpec& spec, const MapOptions& options, std::unique_ptr<HashTable> table)
        : ObjectMap(spec), table_(std::move(table)), resolve_fd_(options.resolve_fd) {}

    void* lookup(const void* key) noexcept override {
        const uint32_t e = table_->find(key);
        if (e == kNoElement) return nullptr;
        return reinterpret_cast<void*>(load_word(table_->value(e, 0)));
    }
    long update(const void*, const void*, uint64_t) noexcept override { return -EINVAL; }
    long erase(const void*) noexcept override { return -EINVAL; }

    int update_object(const void* key, std::shared_ptr<const MapValueObject> object,
                      uint32_t host_fd, uint64_t flags) override {
        if ((this->flags() & map_flags::kRdonly) || frozen()) return -EPERM;
        if (object == nullptr) return -EBADF;
        const auto* inner = dynamic_cast<const Map*>(object.get());
        if (inner == nullptr || !inner_map_matches(*spec().inner, *inner)) return -EINVAL;
        const uint64_t pointer = reinterpret_cast<uintptr_t>(inner);
        std::shared_ptr<const MapValueObject> old;
        {
            std::lock_guard lock(mutex_);
            const long err = table_->update(key, &pointer, flags, HashTable::ValueSource::Single);
            if (err != 0) return static_cast<int>(err);
            Owner& owner = owners_[key_bytes(key)];
            old = std::exchange(owner.object, std::move(object));
            owner.fd = host_fd;
        }
        retire_object(std::move(old));
        reclaim_retired_objects();
        return 0;
    }

    std::pair<std::shared_ptr<const MapValueObject>, uint32_t> object_at(
        const void* key) const override {
        std::lock_guard lock(mutex_);
        auto it = owners_.find(key_bytes(key));
        if (it == owners_.end()) return {nullptr, 0};
        return {it->second.object, it->second.fd};
    }

  protected:
    int sys_lookup(const void* key, void* value) override {
        std::lock_guard lock(mutex_);
        auto it = owners_.find(key_bytes(key));
        if (it == owners_.end()) return -ENOENT;
        const uint32_t id = it->second.object->object_id();
        std::memcpy(value, &id, sizeof id);
        return 0;
    }
    int sys_update(const void* key, const void* value, uint64_t flags) override {
        uint32_t fd;
        std::memcpy(&fd, value, sizeof fd);
        auto object = resolve_fd_ ? resolve_fd_(fd) : nullptr;
        if (object == nullptr) return -EBADF;
        return update_object(key, std::move(object), fd, flags);
    }
    int sys_delete(const void* key) override {
        std::shared_ptr<const MapValueObject> old;
        {
            std::lock_guard lock(mutex_);
            const long err = table_->erase(key);
            if (err != 0) return static_cast<int>(err);
            auto it = owners_.find(key_bytes(key));
            old = std::move(it->second.object);
            owners_.erase(it);
        }
        retire_object(std::move(old));
        return 0;
    }
    int sys_get_next_key(const void* key, void* next_key) override {
        return table_->next_key(key, next_key);
    }

  private:
    struct Owner {
        std::shared_ptr<const MapValueObject> object;
        uint32_t fd = 0;
    };
    std::string key_bytes(const void* key) const {
        return std::string(static_cast<const char*>(key), key_size());
    }

    std::unique_ptr<HashTable> table_;
    std::function<std::shared_ptr<const MapValueObject>(uint32_t)> resolve_fd_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Owner> owners_;
};

}  // namespace

MapResult make_hash_of_maps(const MapSpec& spec, const MapOptions& options) {
    HashTableShape shape;
    shape.key_size = spec.key_size;
    shape.value_size = sizeof(uint64_t);  // the inner Map pointer
    shape.max_entries = spec.max_entries;
    shape.prealloc = !(spec.flags & map_flags::kNoPrealloc);
    shape.free_lists = nr_cpus();
    shape.seed = new_hash_seed((spec.flags & map_flags::kZeroSeed) != 0);
    auto table = HashTable::create(shape, *memory_of(options));
    if (!table.ok()) return std::move(table).error();
    return std::shared_ptr<Map>(std::make_shared<HashOfMaps>(spec, options, std::move(*table)));
}

}  // namespace xbpf::maps
