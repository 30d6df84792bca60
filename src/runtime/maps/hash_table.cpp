#include "runtime/maps/hash_table.hpp"

#include <cstring>
#include <thread>
#include <vector>

#include "runtime/maps/cpu_slots.hpp"
#include "runtime/maps/hashing.hpp"
#include "runtime/maps/seq_fence.hpp"
#include "runtime/maps/spin_lock.hpp"
#include "runtime/maps/word_copy.hpp"
#include "xbpf/map.hpp"
#include "xbpf/map_spec.hpp"

namespace xbpf::maps {

// Chain links: element e is (e << 1); the end of bucket b's chain is the nulls marker
// (b << 1) | 1, which tells a lock-free reader which chain it ended in.
namespace {
constexpr uint32_t link_to(uint32_t e) {
    return e << 1;
}
constexpr uint32_t nulls_marker(uint32_t b) {
    return (b << 1) | 1;
}
constexpr bool is_nulls(uint32_t link) {
    return (link & 1) != 0;
}
constexpr uint32_t link_target(uint32_t link) {
    return link >> 1;
}

constexpr uint32_t kLive = 1;        // linked in a bucket
constexpr uint32_t kReferenced = 2;  // LRU: looked up since the clock hand last passed

// Elements a non-LRU table keeps beyond max_entries: a replacement needs a fresh element before
// it gives the old one back, so a full table still needs room for the replacements in flight.
constexpr uint32_t kSpareElements = 64;
}  // namespace

struct HashTable::Header {
    std::atomic<uint32_t> fresh{0};  // elements below this have been handed out once
    std::atomic<uint32_t> clock_hand{0};
    std::atomic<uint64_t> seed{0};               // of the key hash, set at creation
    alignas(64) std::atomic<uint32_t> count{0};  // live elements, on its own line
};

// Free elements are kept on one list per CPU slot (each on its own cache line), so threads
// that replace and delete elements do not contend on one list head.
struct HashTable::FreeList {
    alignas(64) std::atomic<uint64_t> head{0};  // (ABA tag << 32) | (element + 1); 0: empty
};

struct HashTable::Bucket {
    std::atomic<uint32_t> lock{0};
    std::atomic<uint32_t> head{0};
};

struct HashTable::Element {
    std::atomic<uint32_t> next;       // chain link
    std::atomic<uint32_t> seq;        // even: stable; odd: being rewritten
    std::atomic<uint32_t> hash;       // of the key
    std::atomic<uint32_t> free_next;  // free-list link (element + 1), separate from `next`
    std::atomic<uint32_t> state;      // kLive | kReferenced
    uint32_t reserved;
    // key (padded to 8 bytes), then the value (padded to 8) unless per-CPU
};

Result<std::unique_ptr<HashTable>> HashTable::create(const HashTableShape& shape,
                                                     MapMemoryProvider& memory, bool attach) {
    static_assert(sizeof(Element) == 24);
    static_assert(sizeof(Header) <= 128);
    size_t n_buckets = 1;
    while (n_buckets < shape.max_entries)
        n_buckets <<= 1;
    const size_t capacity = shape.max_entries + (shape.lru ? 0 : kSpareElements + shape.cpus);
    if (n_buckets > (1u << 30) || capacity > (1u << 30)) {
        return Error("max_entries too large for a hash map");
    }
    const size_t key_size = round_up8(shape.key_size);
    const size_t value_stride = round_up8(shape.value_size);
    const size_t elem_size = sizeof(Element) + key_size + (shape.percpu ? 0 : value_stride);
    const uint32_t free_lists = shape.free_lists;
    const size_t buckets_off = 128 + free_lists * sizeof(FreeList);
    const size_t elements_off = (buckets_off + n_buckets * sizeof(Bucket) + 63) & ~size_t{63};
    const size_t percpu_off = (elements_off + capacity * elem_size + 63) & ~size_t{63};
    const size_t cpu_block = shape.percpu ? (capacity * value_stride + 63) & ~size_t{63} : 0;
    const size_t total = percpu_off + cpu_block * shape.cpus;
    auto region = memory.allocate(total, shape.prealloc);
    if (!region.ok()) return std::move(region).error();
    auto table = std::unique_ptr<HashTable>(
        new HashTable(shape, std::move(*region), n_buckets, capacity, free_lists, buckets_off,
                      elements_off, elem_size, percpu_off, cpu_block));
    if (attach) {
        table->shape_.seed = table->header().seed.load(std::memory_order_relaxed);
        return table;
    }
    // The region is zeroed: the header is valid as is but for the seed; buckets need their
    // nulls markers.
    table->header().seed.store(shape.seed, std::memory_order_relaxed);
    for (size_t b = 0; b < n_buckets; ++b) {
        table->bucket(static_cast<uint32_t>(b))
            .head.store(nulls_marker(static_cast<uint32_t>(b)), std::memory_order_relaxed);
    }
    return table;
}

HashTable::HashTable(const HashTableShape& shape, std::unique_ptr<MapMemory> memory,
                     size_t n_buckets, size_t capacity, uint32_t free_lists, size_t buckets_off,
                     size_t elements_off, size_t elem_size, size_t percpu_off, size_t cpu_block)
    : shape_(shape),
      memory_(std::move(memory)),
      base_(memory_->data()),
      n_buckets_(n_buckets),
      capacity_(capacity),
      free_lists_(free_lists),
      buckets_off_(buckets_off),
      elements_off_(elements_off),
      elem_size_(elem_size),
      key_off_(sizeof(Element)),
      value_off_(sizeof(Element) + round_up8(shape.key_size)),
      value_stride_(round_up8(shape.value_size)),
      percpu_off_(percpu_off),
      cpu_block_(cpu_block),
      host_value_size_(shape.percpu ? static_cast<uint32_t>(shape.cpus * value_stride_)
                                    : shape.value_size) {}

inline HashTable::Header& HashTable::header() const noexcept {
    return *reinterpret_cast<Header*>(base_);
}
inline HashTable::Bucket& HashTable::bucket(uint32_t b) const noexcept {
    return reinterpret_cast<Bucket*>(base_ + buckets_off_)[b];
}
inline HashTable::Element& HashTable::element(uint32_t e) const noexcept {
    return *reinterpret_cast<Element*>(base_ + elements_off_ + size_t{e} * elem_size_);
}
inline std::byte* HashTable::key_of(uint32_t e) const noexcept {
    return base_ + elements_off_ + size_t{e} * elem_size_ + key_off_;
}
inline uint32_t HashTable::hash_key(const void* key) const noexcept {
    return static_cast<uint32_t>(hash_bytes(key, shape_.key_size, shape_.seed));
}
uint32_t HashTable::size() const noexcept {
    return header().count.load(std::memory_order_relaxed);
}

// --- lock-free lookup ---------------------------------------------------------------------------

inline uint32_t HashTable::find_validated(const void* key, uint32_t hash,
                                          uint32_t* seq_out) const noexcept {
    const uint32_t b = bucket_of(hash);
    // A walk longer than the pool means the chains changed under us: start again.
    const size_t max_steps = capacity_ + 1;
restart:
    // Where the current element was linked from, and the element holding that link.
    const std::atomic<uint32_t>* from = &bucket(b).head;
    const Element* prev = nullptr;
    uint32_t prev_seq = 0;
    uint32_t link = from->load(std::memory_order_acquire);
    size_t steps = 0;
    while (!is_nulls(link)) {
        if (++steps > max_steps) goto restart;
        const uint32_t e = link_target(link);
        const Element& el = element(e);
        const uint32_t seq = el.seq.load(std::memory_order_acquire);
        const bool same_key = el.hash.load(std::memory_order_relaxed) == hash &&
                              equal_to_buffer(key_of(e), key, shape_.key_size);
        const bool live = (el.state.load(std::memory_order_relaxed) & kLive) != 0;
        const uint32_t next = el.next.load(std::memory_order_acquire);
        seq_acquire_fence();
        if ((seq & 1) != 0 || el.seq.load(std::memory_order_relaxed) != seq) goto restart;
        // A live element holding the key is the key's element, however we reached it.
        if (same_key && live) {
            if (seq_out != nullptr) *seq_out = seq;
            return e;
        }
        // Elements are recycled at once, possibly into another position of this very chain, and
        // a recycled element's link changes without its sequence counter. So its `next` may be
        // followed only if it is still linked where we came from, from an element still live and
        // not recycled: otherwise we may jump over part of the chain. (Not live: just replaced,
        // deleted or being recycled; a replacement sits where it was, behind us.)
        if (!live || from->load(std::memory_order_relaxed) != link ||
            (prev != nullptr && (prev->seq.load(std::memory_order_relaxed) != prev_seq ||
                                 !(prev->state.load(std::memory_order_relaxed) & kLive)))) {
            cpu_relax();
            goto restart;
        }
        from = &el.next;
        prev = &el;
        prev_seq = seq;
        link = next;
    }
    // Ended in another bucket's chain: an element we passed was moved. Try again.
    if (link_target(link) != b) goto restart;
    return kNoElement;
}

uint32_t HashTable::find(const void* key) const noexcept {
    const uint32_t e = find_validated(key, hash_key(key), nullptr);
    if (shape_.lru && e != kNoElement) {
        Element& el = element(e);
        if (!(el.state.load(std::memory_order_relaxed) & kReferenced)) {
            el.state.fetch_or(kReferenced, std::memory_order_relaxed);
        }
    }
    return e;
}

// --- locked helpers -----------------------------------------------------------------------------

inline uint32_t HashTable::find_locked(uint32_t b, const void* key, uint32_t hash,
                                       std::atomic<uint32_t>** link_out) const noexcept {
    std::atomic<uint32_t>* link = &bucket(b).head;
    uint32_t l = link->load(std::memory_order_relaxed);
    while (!is_nulls(l)) {
        const uint32_t e = link_target(l);
        Element& el = element(e);
        if (el.hash.load(std::memory_order_relaxed) == hash &&
            equal_to_buffer(key_of(e), key, shape_.key_size)) {
            if (link_out != nullptr) *link_out = link;
            return e;
        }
        link = &el.next;
        l = link->load(std::memory_order_relaxed);
    }
    return kNoElement;
}

inline bool HashTable::unlink_locked(uint32_t b, uint32_t e) noexcept {
    std::atomic<uint32_t>* link = &bucket(b).head;
    uint32_t l = link->load(std::memory_order_relaxed);
    while (!is_nulls(l)) {
        const uint32_t cur = link_target(l);
        Element& el = element(cur);
        if (cur == e) {
            // The element keeps its own `next`, so a reader standing on it walks on.
            link->store(el.next.load(std::memory_order_relaxed), std::memory_order_release);
            el.state.store(0, std::memory_order_relaxed);
            return true;
        }
        link = &el.next;
        l = link->load(std::memory_order_relaxed);
    }
    return false;
}

// --- element pool -------------------------------------------------------------------------------

inline HashTable::FreeList& HashTable::free_list(uint32_t i) const noexcept {
    return reinterpret_cast<FreeList*>(base_ + 128)[i];
}

// A lock-free stack; the tag in the head's upper half defeats ABA.
inline uint32_t HashTable::pop_from(FreeList& list) noexcept {
    uint64_t head = list.head.load(std::memory_order_acquire);
    while (static_cast<uint32_t>(head) != 0) {
        const uint32_t e = static_cast<uint32_t>(head) - 1;
        const uint32_t next = element(e).free_next.load(std::memory_order_relaxed);
        const uint64_t replacement = (((head >> 32) + 1) << 32) | next;
        if (list.head.compare_exchange_weak(head, replacement, std::memory_order_acquire,
                                            std::memory_order_acquire)) {
            return e;
        }
    }
    return kNoElement;
}

// The calling thread's free list: its CPU slot if it has one. Host threads (which need no slot)
// are spread by thread instead, so that freeing memory never takes a slot away from programs.
inline uint32_t HashTable::own_free_list() const noexcept {
    uint32_t slot = t_cpu_slot;
    if (slot == kNoSlot) {
        static thread_local const char marker = 0;  // its address differs per thread
        slot = static_cast<uint32_t>(mix64(reinterpret_cast<uintptr_t>(&marker)));
    }
    return slot % free_lists_;
}

inline uint32_t HashTable::pop_free() noexcept {
    const uint32_t own = own_free_list();
    uint32_t e = pop_from(free_list(own));
    if (e != kNoElement) return e;
    // Never-used elements next: their pages are touched only now (lazily committed pools).
    Header& h = header();
    uint32_t fresh = h.fresh.load(std::memory_order_relaxed);
    while (fresh < capacity_) {
        if (h.fresh.compare_exchange_weak(fresh, fresh + 1, std::memory_order_relaxed)) {
            return fresh;
        }
    }
    // Then what other CPU slots freed.
    for (uint32_t i = 1; i < free_lists_; ++i) {
        e = pop_from(free_list((own + i) % free_lists_));
        if (e != kNoElement) return e;
    }
    return kNoElement;
}

void HashTable::release(uint32_t e) noexcept {
    FreeList& list = free_list(own_free_list());
    Element& el = element(e);
    uint64_t head = list.head.load(std::memory_order_relaxed);
    uint64_t replacement;
    do {
        el.free_next.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
        replacement = (((head >> 32) + 1) << 32) | (e + 1);
    } while (!list.head.compare_exchange_weak(head, replacement, std::memory_order_release,
                                              std::memory_order_relaxed));
}

uint32_t HashTable::evict_one() noexcept {
    Header& h = header();
    const uint32_t used = h.fresh.load(std::memory_order_acquire);
    if (used == 0) return kNoElement;
    // Two sweeps: the first may only clear referenced bits.
    for (uint32_t attempt = 0; attempt < 2 * used + 2; ++attempt) {
        const uint32_t e = h.clock_hand.fetch_add(1, std::memory_order_relaxed) % used;
        Element& el = element(e);
        const uint32_t state = el.state.load(std::memory_order_relaxed);
        if (!(state & kLive)) continue;
        if (state & kReferenced) {
            el.state.fetch_and(~kReferenced, std::memory_order_relaxed);
            continue;
        }
        const uint32_t b = bucket_of(el.hash.load(std::memory_order_relaxed));
        SpinGuard guard(bucket(b).lock);
        // Still live in that bucket? (It may have been deleted or moved meanwhile.)
        if (unlink_locked(b, e)) {
            h.count.fetch_sub(1, std::memory_order_relaxed);
            return e;
        }
    }
    return kNoElement;
}

uint32_t HashTable::allocate() noexcept {
    for (int attempt = 0; attempt < 1000; ++attempt) {
        uint32_t e = pop_free();
        if (e == kNoElement && shape_.lru) e = evict_one();
        if (e != kNoElement) return e;
        // Every element is in flight in other threads' updates; they give some back soon.
        if (!shape_.lru && size() >= shape_.max_entries) return kNoElement;
        std::this_thread::yield();
    }
    return kNoElement;
}

// --- writing elements ---------------------------------------------------------------------------

inline void HashTable::begin_write(uint32_t e) noexcept {
    Element& el = element(e);
    el.seq.store(el.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    seq_release_fence();
}

inline void HashTable::end_write(uint32_t e) noexcept {
    Element& el = element(e);
    el.seq.store(el.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void HashTable::write_values(uint32_t e, const void* value, ValueSource source,
                             bool fresh) noexcept {
    switch (source) {
        case ValueSource::Single: copy_in(this->value(e, 0), value, shape_.value_size); break;
        case ValueSource::AllCpus: {
            const auto* in = static_cast<const uint8_t*>(value);
            for (uint32_t cpu = 0; cpu < shape_.cpus; ++cpu) {
                copy_in(this->value(e, cpu), in + cpu * value_stride_, shape_.value_size);
            }
            break;
        }
        case ValueSource::ThisCpu: {
            const uint32_t me = this_cpu();
            if (fresh) {
                for (uint32_t cpu = 0; cpu < shape_.cpus; ++cpu) {
                    if (cpu != me) zero_storage(this->value(e, cpu), value_stride_);
                }
            }
            copy_in(this->value(e, me), value, shape_.value_size);
            break;
        }
    }
}

void HashTable::copy_values_out(uint32_t e, void* out) const noexcept {
    if (!shape_.percpu) {
        copy_out(out, value(e, 0), shape_.value_size);
        return;
    }
    auto* o = static_cast<uint8_t*>(out);
    for (uint32_t cpu = 0; cpu < shape_.cpus; ++cpu) {
        copy_out(o + cpu * value_stride_, value(e, cpu), value_stride_);
    }
}

// --- operations ---------------------------------------------------------------------------------

long HashTable::update(const void* key, const void* value, uint64_t flags,
                       ValueSource source) noexcept {
    if ((flags & ~update_flags::kLock) > update_flags::kExist) return -EINVAL;
    if (flags & update_flags::kLock) return -EINVAL;  // no bpf_spin_lock without BTF
    const uint32_t hash = hash_key(key);
    const uint32_t b = bucket_of(hash);

    // Per-CPU values of an existing element are written in place: no allocation, no eviction.
    if (shape_.percpu) {
        SpinGuard guard(bucket(b).lock);
        const uint32_t old = find_locked(b, key, hash, nullptr);
        if (old != kNoElement) {
            if (flags == update_flags::kNoExist) return -EEXIST;
            write_values(old, value, source, false);
            return 0;
        }
        if (flags == update_flags::kExist) return -ENOENT;
    }

    // A fresh element, filled before the bucket is locked so the lock is held briefly.
    const uint32_t fresh = allocate();
    if (fresh == kNoElement) return shape_.lru ? -ENOMEM : -E2BIG;
    Element& el = element(fresh);
    begin_write(fresh);
    el.hash.store(hash, std::memory_order_relaxed);
    copy_in(key_of(fresh), key, shape_.key_size);
    write_values(fresh, value, source, true);
    el.state.store(0, std::memory_order_relaxed);
    end_write(fresh);

    uint32_t replaced = kNoElement;
    {
        SpinGuard guard(bucket(b).lock);
        std::atomic<uint32_t>* link = nullptr;
        const uint32_t old = find_locked(b, key, hash, &link);
        long err = 0;
        if (old != kNoElement && flags == update_flags::kNoExist) err = -EEXIST;
        if (old == kNoElement && flags == update_flags::kExist) err = -ENOENT;
        if (err == 0 && old != kNoElement && shape_.percpu) {
            // Inserted by another thread since the check above: update in place after all.
            write_values(old, value, source, false);
            err = 1;
        }
        if (err == 0 && old == kNoElement) {
            Header& h = header();
            if (!shape_.lru && h.count.load(std::memory_order_relaxed) >= shape_.max_entries) {
                err = -E2BIG;
            } else {
                h.count.fetch_add(1, std::memory_order_relaxed);
                el.next.store(bucket(b).head.load(std::memory_order_relaxed),
                              std::memory_order_relaxed);
                el.state.store(kLive, std::memory_order_relaxed);
                bucket(b).head.store(link_to(fresh), std::memory_order_release);
                return 0;
            }
        }
        if (err != 0) {
            release(fresh);
            return err > 0 ? 0 : err;
        }
        // Replace at the same chain position: readers see the old or the new element whole.
        Element& old_el = element(old);
        el.next.store(old_el.next.load(std::memory_order_relaxed), std::memory_order_relaxed);
        el.state.store(kLive, std::memory_order_relaxed);
        link->store(link_to(fresh), std::memory_order_release);
        old_el.state.store(0, std::memory_order_relaxed);
        replaced = old;
    }
    release(replaced);
    return 0;
}

long HashTable::erase(const void* key) noexcept {
    const uint32_t hash = hash_key(key);
    const uint32_t b = bucket_of(hash);
    uint32_t e;
    {
        SpinGuard guard(bucket(b).lock);
        e = find_locked(b, key, hash, nullptr);
        if (e == kNoElement) return -ENOENT;
        unlink_locked(b, e);
        header().count.fetch_sub(1, std::memory_order_relaxed);
    }
    release(e);
    return 0;
}

int HashTable::copy_value(const void* key, void* out) const {
    const uint32_t hash = hash_key(key);
    for (;;) {
        uint32_t seq = 0;
        const uint32_t e = find_validated(key, hash, &seq);
        if (e == kNoElement) return -ENOENT;
        copy_values_out(e, out);
        seq_acquire_fence();
        // Unchanged sequence: the element was not recycled while we copied.
        if (element(e).seq.load(std::memory_order_relaxed) == seq) return 0;
    }
}

int HashTable::take(const void* key, void* out) {
    const uint32_t hash = hash_key(key);
    const uint32_t b = bucket_of(hash);
    uint32_t e;
    {
        SpinGuard guard(bucket(b).lock);
        e = find_locked(b, key, hash, nullptr);
        if (e == kNoElement) return -ENOENT;
        copy_values_out(e, out);
        unlink_locked(b, e);
        header().count.fetch_sub(1, std::memory_order_relaxed);
    }
    release(e);
    return 0;
}

long HashTable::for_each(uint32_t cpu, Map::ElementVisitor& visitor) const noexcept {
    // As Linux's walk under RCU: no lock is held while the visitor runs (it may update or delete
    // elements, in this bucket too). Each link is read before the visit, and a deleted element
    // keeps its link, so the walk goes on; a walk that strays into another chain (an element was
    // recycled meanwhile) ends the bucket rather than visit that chain again.
    long visited = 0;
    for (uint32_t b = 0; b < n_buckets_; ++b) {
        uint32_t link = bucket(b).head.load(std::memory_order_acquire);
        for (size_t steps = 0; !is_nulls(link) && steps <= capacity_; ++steps) {
            const uint32_t e = link_target(link);
            const Element& el = element(e);
            link = el.next.load(std::memory_order_acquire);
            if ((el.state.load(std::memory_order_acquire) & kLive) == 0) continue;
            if (bucket_of(el.hash.load(std::memory_order_relaxed)) != b) break;
            ++visited;
            if (visitor.visit(key_of(e), value(e, cpu))) return visited;
        }
    }
    return visited;
}

int HashTable::next_key(const void* key, void* next) const {
    uint32_t first_bucket = 0;
    if (key != nullptr) {
        const uint32_t hash = hash_key(key);
        const uint32_t b = bucket_of(hash);
        SpinGuard guard(bucket(b).lock);
        const uint32_t e = find_locked(b, key, hash, nullptr);
        if (e != kNoElement) {
            const uint32_t l = element(e).next.load(std::memory_order_relaxed);
            if (!is_nulls(l)) {
                copy_out(next, key_of(link_target(l)), shape_.key_size);
                return 0;
            }
            first_bucket = b + 1;
        }
        // A key that is not in the map restarts the walk at the first key, as in Linux.
    }
    for (size_t b = first_bucket; b < n_buckets_; ++b) {
        Bucket& bk = bucket(static_cast<uint32_t>(b));
        if (is_nulls(bk.head.load(std::memory_order_acquire))) continue;
        SpinGuard guard(bk.lock);
        const uint32_t l = bk.head.load(std::memory_order_relaxed);
        if (!is_nulls(l)) {
            copy_out(next, key_of(link_target(l)), shape_.key_size);
            return 0;
        }
    }
    return -ENOENT;
}

int HashTable::lookup_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                            uint32_t& count, bool and_delete) {
    uint32_t b = 0;
    if (in_batch != nullptr) std::memcpy(&b, in_batch, sizeof b);
    if (b >= n_buckets_) return -ENOENT;
    auto* k = static_cast<uint8_t*>(keys);
    auto* v = static_cast<uint8_t*>(values);
    const uint32_t capacity = count;
    uint32_t total = 0;
    int ret = 0;
    std::vector<uint32_t> removed;
    for (; b < n_buckets_; ++b) {
        Bucket& bk = bucket(b);
        if (is_nulls(bk.head.load(std::memory_order_acquire))) continue;
        SpinGuard guard(bk.lock);
        const size_t first_removed = removed.size();
        uint32_t in_bucket = 0;
        for (uint32_t l = bk.head.load(std::memory_order_relaxed); !is_nulls(l);
             l = element(link_target(l)).next.load(std::memory_order_relaxed)) {
            ++in_bucket;
        }
        // A bucket is returned whole or not at all, so the token stays a bucket index.
        if (in_bucket > capacity - total) {
            if (total == 0) ret = -ENOSPC;
            break;
        }
        for (uint32_t l = bk.head.load(std::memory_order_relaxed); !is_nulls(l);
             l = element(link_target(l)).next.load(std::memory_order_relaxed)) {
            const uint32_t e = link_target(l);
            copy_out(k + size_t{total} * shape_.key_size, key_of(e), shape_.key_size);
            copy_values_out(e, v + size_t{total} * host_value_size_);
            ++total;
            if (and_delete) removed.push_back(e);
        }
        if (and_delete) {
            bk.head.store(nulls_marker(b), std::memory_order_release);
            for (size_t i = first_removed; i < removed.size(); ++i) {
                element(removed[i]).state.store(0, std::memory_order_relaxed);
            }
            header().count.fetch_sub(in_bucket, std::memory_order_relaxed);
        }
    }
    for (uint32_t e : removed)
        release(e);
    if (b >= n_buckets_) ret = -ENOENT;
    count = total;
    if (out_batch != nullptr) std::memcpy(out_batch, &b, sizeof b);
    return ret;
}

}  // namespace xbpf::maps
