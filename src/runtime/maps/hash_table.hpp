// The hash table behind the hash map family (hash, percpu_hash, lru_hash, lru_percpu_hash, and
// hash_of_maps).
//
// Layout: one region holding a header (with the hash seed), one free list per CPU slot, the
// buckets, an element pool and, for per-CPU tables, one block of values per CPU slot.
// Everything inside is addressed by index and locks are words in the region, so the region can
// be shared between processes (map_shared.hpp). Every free-list and pool operation is a
// compare-and-swap on region words, so threads of several processes that share a CPU slot
// number (and so a free list) stay correct; slots only spread contention.
//
// Concurrency:
//  - Lookups take no lock. Each bucket is a singly linked chain ending in a "nulls marker" that
//    names the bucket. Elements are recycled through a pool (never returned to the system while
//    the map lives), so a lookup may meet an element that was deleted and reused, even in
//    another bucket. Every element has a sequence counter, odd while it is being rewritten; a
//    lookup validates the counter around its reads, checks that the element is live and still
//    linked from where it came (from an element itself still live and unchanged), and restarts
//    otherwise or when the chain it walked ends in another bucket's marker. So an element
//    recycled into another chain, or into another position of the same chain, is never taken
//    for a step of the walk.
//  - Writers lock the bucket (a spin lock per bucket). Replacing a value links a fresh element
//    in place of the old one, at the same chain position, so a concurrent lookup sees the old or
//    the new value, never a mix, and iteration order does not change (a lookup that reaches the
//    old element once it is no longer live starts again, and finds the new one). Per-CPU values are
//    updated in place (each CPU slot has one writer, the program running on it), as in Linux.
//  - LRU tables evict with a clock over the pool: lookups set a referenced bit (only if not yet
//    set, to keep the line clean), eviction clears it once and evicts elements found unset.
//
// BPF_F_NO_PREALLOC: the pool is the same, its pages are committed on first use (the region is
// mapped without reservation and elements are handed out from a high-water mark before the free
// list is used), so a large, sparsely filled map costs little memory. Elements are still
// recycled rather than freed, which is what keeps lock-free lookups memory-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "xbpf/map.hpp"
#include "xbpf/map_storage.hpp"

namespace xbpf::maps {

inline constexpr uint32_t kNoElement = UINT32_MAX;

struct HashTableShape {
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    uint32_t max_entries = 0;
    uint32_t cpus = 1;  // per-CPU slots (1 unless percpu)
    bool percpu = false;
    bool lru = false;
    bool prealloc = true;
    uint32_t free_lists = 1;  // one per CPU slot of the layout (nr_cpus at creation)
    uint64_t seed = 0;        // of a new table; an attached one keeps the seed in its region
};

class HashTable {
  public:
    // A table in a region from `memory`. `attach`: the region already holds a table of this
    // shape (made by this or another process); adopt it as it is.
    static Result<std::unique_ptr<HashTable>> create(const HashTableShape& shape,
                                                     MapMemoryProvider& memory,
                                                     bool attach = false);

    const MapMemory& memory() const noexcept { return *memory_; }

    // How an update's value is laid out.
    enum class ValueSource {
        Single,   // one value (non-per-CPU tables)
        AllCpus,  // host format: cpus values, each round_up(value_size, 8) bytes
        ThisCpu,  // one value for the calling thread's slot; a new element's others are zeroed
    };

    // Lock-free: the element holding `key`, or kNoElement. LRU tables mark it referenced.
    uint32_t find(const void* key) const noexcept;
    // The value storage of element `elem` (per-CPU tables: slot `cpu`).
    std::byte* value(uint32_t elem, uint32_t cpu) const noexcept {
        if (shape_.percpu) {
            return base_ + percpu_off_ + cpu * cpu_block_ + size_t{elem} * value_stride_;
        }
        return base_ + elements_off_ + size_t{elem} * elem_size_ + value_off_;
    }

    // bpf_map_update_elem / BPF_MAP_UPDATE_ELEM semantics and errors.
    long update(const void* key, const void* value, uint64_t flags, ValueSource source) noexcept;
    // -ENOENT if absent.
    long erase(const void* key) noexcept;
    // Copies the value out in host format (per-CPU: every slot); consistent for non-per-CPU
    // tables even while writers replace the element. -ENOENT if absent.
    int copy_value(const void* key, void* out) const;
    // Lookup and delete, atomically.
    int take(const void* key, void* out);
    // bpf_for_each_map_elem (Map::for_each): a lock-free walk of the chains in bucket order,
    // values of slot `cpu`, so the visitor may change the table; returns the elements visited.
    long for_each(uint32_t cpu, Map::ElementVisitor& visitor) const noexcept;
    // BPF_MAP_GET_NEXT_KEY: bucket order, chain order within a bucket.
    int next_key(const void* key, void* next) const;
    // Linux's hash batch lookup: the token is a u32 bucket index.
    int lookup_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                     uint32_t& count, bool and_delete);

    uint32_t size() const noexcept;
    uint32_t host_value_size() const noexcept { return host_value_size_; }

  private:
    struct Header;
    struct FreeList;
    struct Bucket;
    struct Element;

    HashTable(const HashTableShape& shape, std::unique_ptr<MapMemory> memory, size_t n_buckets,
              size_t capacity, uint32_t free_lists, size_t buckets_off, size_t elements_off,
              size_t elem_size, size_t percpu_off, size_t cpu_block);

    Header& header() const noexcept;
    Bucket& bucket(uint32_t b) const noexcept;
    Element& element(uint32_t e) const noexcept;
    std::byte* key_of(uint32_t e) const noexcept;
    uint32_t hash_key(const void* key) const noexcept;
    uint32_t bucket_of(uint32_t hash) const noexcept {
        return hash & static_cast<uint32_t>(n_buckets_ - 1);
    }

    // Lock-free search; also returns the element's sequence value the match was validated at.
    uint32_t find_validated(const void* key, uint32_t hash, uint32_t* seq) const noexcept;
    // Under the bucket lock: the element holding `key` and the link that points to it.
    uint32_t find_locked(uint32_t b, const void* key, uint32_t hash,
                         std::atomic<uint32_t>** link) const noexcept;
    bool unlink_locked(uint32_t b, uint32_t e) noexcept;

    uint32_t allocate() noexcept;  // pool (and LRU eviction); kNoElement if none
    void release(uint32_t e) noexcept;
    uint32_t pop_free() noexcept;
    FreeList& free_list(uint32_t i) const noexcept;
    uint32_t own_free_list() const noexcept;
    uint32_t pop_from(FreeList& list) noexcept;
    uint32_t evict_one() noexcept;

    void begin_write(uint32_t e) noexcept;
    void end_write(uint32_t e) noexcept;
    void write_values(uint32_t e, const void* value, ValueSource source, bool fresh) noexcept;
    void copy_values_out(uint32_t e, void* out) const noexcept;

    HashTableShape shape_;
    std::unique_ptr<MapMemory> memory_;
    std::byte* base_;
    size_t n_buckets_;
    size_t capacity_;
    uint32_t free_lists_;
    size_t buckets_off_;
    size_t elements_off_;
    size_t elem_size_;
    size_t key_off_;
    size_t value_off_;
    size_t value_stride_;
    size_t percpu_off_;
    size_t cpu_block_;
    uint32_t host_value_size_;
};

}  // namespace xbpf::maps
