// BPF_MAP_TYPE_LPM_TRIE: longest-prefix match over keys struct bpf_lpm_trie_key_u8 { u32
// prefixlen (host order); u8 data[] (network order) }, as a path-compressed binary trie like
// Linux's: each node holds a prefix; a node's children are chosen by the bit that follows its
// prefix; "intermediate" nodes only join two subtrees and hold no entry.
//
// Concurrency: writers serialise on a spin lock and bracket each change with a sequence
// counter (a seqlock). Lookups take no lock: they walk the trie reading every field atomically,
// then retry if the counter moved (or was odd). Nodes come from a pool in the map's region and
// are recycled, never unmapped, so a walk racing a writer reads stale but valid memory, and a
// step bound stops it from looping; the retry then discards the result. Writers hold the lock
// only for O(prefix length) work, so lookups rarely retry. Host-side operations and iteration
// take the writer lock.
#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/maps/map_factories.hpp"
#include "runtime/maps/seq_fence.hpp"
#include "runtime/maps/spin_lock.hpp"
#include "runtime/maps/word_copy.hpp"

namespace xbpf::maps {
namespace {

constexpr uint32_t kIntermediate = 1;  // joins two subtrees; no entry of its own
constexpr uint32_t kNull = 0;          // node links are index + 1

struct TrieHeader {
    std::atomic<uint32_t> lock{0};
    std::atomic<uint32_t> seq{0};
    std::atomic<uint32_t> root{kNull};
    std::atomic<uint32_t> entries{0};
    std::atomic<uint32_t> free_head{kNull};  // written under the lock
    std::atomic<uint32_t> fresh{0};
};

struct Node {
    std::atomic<uint32_t> child[2];
    std::atomic<uint32_t> prefixlen;
    std::atomic<uint32_t> flags;
    std::atomic<uint32_t> free_next;
    uint32_t reserved;
    // data (padded to 8), then the value (padded to 8)
};

uint32_t key_prefixlen(const void* key) {
    uint32_t p;
    std::memcpy(&p, key, sizeof p);
    return p;
}
const uint8_t* key_data(const void* key) {
    return static_cast<const uint8_t*>(key) + 4;
}

uint32_t bit_of(const uint8_t* data, uint32_t index) {
    return (data[index / 8] >> (7 - index % 8)) & 1;
}

class LpmTrie final : public Map {
  public:
    LpmTrie(const MapSpec& spec, std::unique_ptr<MapMemory> memory, uint32_t capacity)
        : Map(spec),
          memory_(std::move(memory)),
          data_size_(spec.key_size - 4),
          max_prefixlen_(data_size_ * 8),
          node_size_(sizeof(Node) + round_up8(data_size_) + round_up8(spec.value_size)),
          capacity_(capacity) {}

    const MapMemory* storage() const noexcept override { return memory_.get(); }

    // --- program side ---------------------------------------------------------------------

    void* lookup(const void* key) noexcept override {
        const uint32_t n = find_longest(key, true);
        return n == kNull ? nullptr : value_of(n);
    }

    long update(const void* key, const void* value, uint64_t flags) noexcept override {
        if (flags > update_flags::kExist) return -EINVAL;
        if (key_prefixlen(key) > max_prefixlen_) return -EINVAL;
        SpinGuard guard(header().lock);
        WriteSection section(header());
        return insert(key, value, flags);
    }

    long erase(const void* key) noexcept override {
        if (key_prefixlen(key) > max_prefixlen_) return -EINVAL;
        SpinGuard guard(header().lock);
        WriteSection section(header());
        return remove(key);
    }

    // --- host side ------------------------------------------------------------------------

    int sys_lookup(const void* key, void* value) override {
        SpinGuard guard(header().lock);
        const uint32_t n = find_longest(key, false);
        if (n == kNull) return -ENOENT;
        copy_out(value, value_of(n), value_size());
        return 0;
    }
    int sys_update(const void* key, const void* value, uint64_t flags) override {
        return static_cast<int>(update(key, value, flags));
    }
    int sys_delete(const void* key) override { return static_cast<int>(erase(key)); }
    int sys_get_next_key(const void* key, void* next_key) override {
        SpinGuard guard(header().lock);
        return next(key, next_key);
    }
    uint32_t batch_support() const override { return kBatchLookup | kBatchUpdate | kBatchDelete; }

  private:
    // Bumps the sequence counter around a change: odd while the trie is being modified.
    struct WriteSection {
        explicit WriteSection(TrieHeader& h) : h_(h) {
            h_.seq.store(h_.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            seq_release_fence();
        }
        ~WriteSection() {
            h_.seq.store(h_.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        }
        TrieHeader& h_;
    };

    TrieHeader& header() const { return *reinterpret_cast<TrieHeader*>(memory_->data()); }
    Node& node(uint32_t link) const {
        return *reinterpret_cast<Node*>(memory_->data() + 64 + size_t{link - 1} * node_size_);
    }
    std::byte* data_of(uint32_t link) const {
        return reinterpret_cast<std::byte*>(&node(link)) + sizeof(Node);
    }
    std::byte* value_of(uint32_t link) const { return data_of(link) + round_up8(data_size_); }
    uint32_t node_bit(uint32_t link, uint32_t index) const {
        const auto* byte = reinterpret_cast<const uint8_t*>(data_of(link)) + index / 8;
        return (__atomic_load_n(byte, __ATOMIC_RELAXED) >> (7 - index % 8)) & 1;
    }
    uint32_t prefixlen(uint32_t link) const {
        return node(link).prefixlen.load(std::memory_order_relaxed);
    }
    bool intermediate(uint32_t link) const {
        return node(link).flags.load(std::memory_order_relaxed) & kIntermediate;
    }
    std::atomic<uint32_t>& child(uint32_t link, uint32_t bit) const {
        return node(link).child[bit];
    }

    // Leading bits the node's prefix shares with the key, up to the shorter prefix.
    uint32_t match_length(uint32_t link, const void* key) const {
        const uint32_t limit = std::min(prefixlen(link), key_prefixlen(key));
        const std::byte* nd = data_of(link);
        const uint8_t* kd = key_data(key);
        uint32_t matched = 0;
        for (size_t off = 0; matched < limit; off += 8) {
            const uint64_t x = __builtin_bswap64(load_word(nd + off)) ^
                               __builtin_bswap64(buffer_word(kd, off, data_size_));
            if (x != 0) {
                matched += static_cast<uint32_t>(__builtin_clzll(x));
                break;
            }
            matched += 64;
        }
        return std::min(matched, limit);
    }

    // The node holding the longest prefix of `key`, or kNull. Lock-free when `validated`.
    uint32_t find_longest(const void* key, bool validated) const {
        TrieHeader& h = header();
        for (;;) {
            const uint32_t seq = h.seq.load(std::memory_order_acquire);
            if (validated && (seq & 1)) {
                cpu_relax();
                continue;
            }
            uint32_t found = kNull;
            uint32_t steps = 0;
            for (uint32_t n = h.root.load(std::memory_order_acquire);
                 n != kNull && n <= capacity_ && ++steps <= max_prefixlen_ + 2;) {
                const uint32_t matched = match_length(n, key);
                if (matched == max_prefixlen_) {
                    if (!intermediate(n)) found = n;
                    break;
                }
                if (matched < prefixlen(n)) break;
                if (!intermediate(n)) found = n;
                n = child(n, bit_of(key_data(key), prefixlen(n))).load(std::memory_order_acquire);
            }
            if (!validated) return found;
            seq_acquire_fence();
            if (h.seq.load(std::memory_order_relaxed) == seq) return found;
        }
    }

    uint32_t allocate() {
        TrieHeader& h = header();
        uint32_t n = h.free_head.load(std::memory_order_relaxed);
        if (n != kNull) {
            h.free_head.store(node(n).free_next.load(std::memory_order_relaxed),
                              std::memory_order_relaxed);
        } else {
            if (h.fresh.load(std::memory_order_relaxed) >= capacity_) return kNull;
            n = h.fresh.fetch_add(1, std::memory_order_relaxed) + 1;
        }
        Node& nd = node(n);
        nd.child[0].store(kNull, std::memory_order_relaxed);
        nd.child[1].store(kNull, std::memory_order_relaxed);
        nd.flags.store(0, std::memory_order_relaxed);
        return n;
    }

    void release(uint32_t n) {
        TrieHeader& h = header();
        node(n).free_next.store(h.free_head.load(std::memory_order_relaxed),
                                std::memory_order_relaxed);
        h.free_head.store(n, std::memory_order_relaxed);
    }

    uint32_t new_entry(const void* key, const void* value) {
        const uint32_t n = allocate();
        if (n == kNull) return kNull;
        node(n).prefixlen.store(key_prefixlen(key), std::memory_order_relaxed);
        copy_in(data_of(n), key_data(key), data_size_);
        copy_in(value_of(n), value, value_size());
        return n;
    }

    bool full() const { return header().entries.load(std::memory_order_relaxed) >= max_entries(); }

    long insert(const void* key, const void* value, uint64_t flags) {
        TrieHeader& h = header();
        const uint32_t plen = key_prefixlen(key);
        std::atomic<uint32_t>* slot = &h.root;
        uint32_t n = kNull;
        uint32_t matched = 0;
        while ((n = slot->load(std::memory_order_relaxed)) != kNull) {
            matched = match_length(n, key);
            if (prefixlen(n) != matched || prefixlen(n) == plen || prefixlen(n) == max_prefixlen_) {
                break;
            }
            slot = &child(n, bit_of(key_data(key), prefixlen(n)));
        }
        if (n == kNull) {
            if (flags == update_flags::kExist) return -ENOENT;
            if (full()) return -ENOSPC;
            const uint32_t fresh = new_entry(key, value);
            if (fresh == kNull) return -ENOMEM;
            h.entries.fetch_add(1, std::memory_order_relaxed);
            slot->store(fresh, std::memory_order_release);
            return 0;
        }
        if (prefixlen(n) == matched && prefixlen(n) == plen) {
            if (!intermediate(n)) {
                // The entry exists: its value changes in place (no capacity needed).
                if (flags == update_flags::kNoExist) return -EEXIST;
                copy_in(value_of(n), value, value_size());
                return 0;
            }
            // An intermediate node with exactly this prefix becomes an entry.
            if (flags == update_flags::kExist) return -ENOENT;
            if (full()) return -ENOSPC;
            copy_in(value_of(n), value, value_size());
            node(n).flags.store(0, std::memory_order_relaxed);
            h.entries.fetch_add(1, std::memory_order_relaxed);
            return 0;
        }
        if (flags == update_flags::kExist) return -ENOENT;
        if (full()) return -ENOSPC;
        const uint32_t fresh = new_entry(key, value);
        if (fresh == kNull) return -ENOMEM;
        if (matched == plen) {
            // The new prefix is a prefix of the node's: it becomes the node's parent.
            child(fresh, node_bit(n, matched)).store(n, std::memory_order_relaxed);
            h.entries.fetch_add(1, std::memory_order_relaxed);
            slot->store(fresh, std::memory_order_release);
            return 0;
        }
        // The two prefixes diverge at bit `matched`: join them under an intermediate node.
        const uint32_t join = allocate();
        if (join == kNull) {
            release(fresh);
            return -ENOMEM;
        }
        node(join).prefixlen.store(matched, std::memory_order_relaxed);
        node(join).flags.store(kIntermediate, std::memory_order_relaxed);
        copy_storage(data_of(join), data_of(n), data_size_);
        const uint32_t new_bit = bit_of(key_data(key), matched);
        child(join, new_bit).store(fresh, std::memory_order_relaxed);
        child(join, new_bit ^ 1).store(n, std::memory_order_relaxed);
        h.entries.fetch_add(1, std::memory_order_relaxed);
        slot->store(join, std::memory_order_release);
        return 0;
    }

    long remove(const void* key) {
        TrieHeader& h = header();
        const uint32_t plen = key_prefixlen(key);
        std::atomic<uint32_t>* slot = &h.root;
        std::atomic<uint32_t>* parent_slot = nullptr;
        uint32_t parent = kNull;
        uint32_t n = kNull;
        uint32_t matched = 0;
        while ((n = slot->load(std::memory_order_relaxed)) != kNull) {
            matched = match_length(n, key);
            if (prefixlen(n) != matched || prefixlen(n) == plen) break;
            parent = n;
            parent_slot = slot;
            slot = &child(n, bit_of(key_data(key), prefixlen(n)));
        }
        if (n == kNull || prefixlen(n) != plen || prefixlen(n) != matched || intermediate(n)) {
            return -ENOENT;
        }
        h.entries.fetch_sub(1, std::memory_order_relaxed);
        const uint32_t left = child(n, 0).load(std::memory_order_relaxed);
        const uint32_t right = child(n, 1).load(std::memory_order_relaxed);
        if (left != kNull && right != kNull) {
            // Still joins two subtrees: keep it as an intermediate node.
            node(n).flags.store(kIntermediate, std::memory_order_relaxed);
            return 0;
        }
        if (parent != kNull && intermediate(parent) && left == kNull && right == kNull) {
            // The parent only joined this leaf and a sibling: the sibling takes its place.
            const uint32_t sibling = child(parent, 0).load(std::memory_order_relaxed) == n
                                         ? child(parent, 1).load(std::memory_order_relaxed)
                                         : child(parent, 0).load(std::memory_order_relaxed);
            parent_slot->store(sibling, std::memory_order_release);
            release(parent);
            release(n);
            return 0;
        }
        slot->store(left != kNull ? left : right, std::memory_order_release);
        release(n);
        return 0;
    }

    // The first node of the post-order walk below `from` that holds an entry.
    uint32_t leftmost(uint32_t from) const {
        uint32_t result = kNull;
        for (uint32_t n = from; n != kNull;) {
            if (intermediate(n)) {
                n = child(n, 0).load(std::memory_order_relaxed);
            } else {
                result = n;
                n = child(n, 0).load(std::memory_order_relaxed);
                if (n == kNull) n = child(result, 1).load(std::memory_order_relaxed);
            }
        }
        return result;
    }

    void write_key(uint32_t n, void* out) const {
        const uint32_t p = prefixlen(n);
        std::memcpy(out, &p, sizeof p);
        copy_out(static_cast<uint8_t*>(out) + 4, data_of(n), data_size_);
    }

    // Linux's order: post-order (more specific prefixes first); a null, invalid or absent key
    // starts from the first entry.
    int next(const void* key, void* next_key) const {
        const uint32_t root = header().root.load(std::memory_order_relaxed);
        if (root == kNull) return -ENOENT;
        uint32_t start = root;
        if (key != nullptr && key_prefixlen(key) <= max_prefixlen_) {
            std::vector<uint32_t> path;
            uint32_t n = root;
            uint32_t matched = 0;
            while (n != kNull) {
                path.push_back(n);
                matched = match_length(n, key);
                if (prefixlen(n) != matched || prefixlen(n) == key_prefixlen(key)) break;
                n = child(n, bit_of(key_data(key), prefixlen(n))).load(std::memory_order_relaxed);
            }
            if (n != kNull && prefixlen(n) == matched && prefixlen(n) == key_prefixlen(key) &&
                !intermediate(n)) {
                // The successor of n in post-order.
                path.pop_back();
                start = kNull;
                while (!path.empty()) {
                    const uint32_t parent = path.back();
                    const uint32_t right = child(parent, 1).load(std::memory_order_relaxed);
                    if (child(parent, 0).load(std::memory_order_relaxed) == n && right != kNull) {
                        start = right;
                        break;
                    }
                    if (!intermediate(parent)) {
                        write_key(parent, next_key);
                        return 0;
                    }
                    n = parent;
                    path.pop_back();
                }
                if (start == kNull) return -ENOENT;
            }
        }
        write_key(leftmost(start), next_key);
        return 0;
    }

    std::unique_ptr<MapMemory> memory_;
    uint32_t data_size_;
    uint32_t max_prefixlen_;
    size_t node_size_;
    uint32_t capacity_;
};

}  // namespace

MapResult make_lpm_trie(const MapSpec& spec, const MapBuild& build) {
    // Each entry may need one intermediate node; one more for a replacement in flight.
    const uint64_t capacity = uint64_t{spec.max_entries} * 2 + 1;
    if (capacity > (1u << 30)) return Error("max_entries too large for an LPM trie");
    const size_t node_size =
        sizeof(Node) + round_up8(spec.key_size - 4) + round_up8(spec.value_size);
    // BPF_F_NO_PREALLOC is mandatory for tries: the pool's pages are committed on first use.
    // A zeroed region is an empty trie: nothing to initialise, nothing to redo on attach.
    auto memory = build.memory.allocate(64 + capacity * node_size, false);
    if (!memory.ok()) return std::move(memory).error();
    return std::shared_ptr<Map>(
        std::make_shared<LpmTrie>(spec, std::move(*memory), static_cast<uint32_t>(capacity)));
}

}  // namespace xbpf::maps
