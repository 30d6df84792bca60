// check_map_spec(): the sanity checks Linux's BPF_MAP_CREATE applies before allocating a map,
// per type, with the errno it fails with.
#include <climits>

#include <fmt/format.h>

#include "runtime/maps/word_copy.hpp"
#include "xbpf/map.hpp"
#include "xbpf/map_storage.hpp"

namespace xbpf {
namespace {

namespace mf = map_flags;

constexpr uint32_t kAccessMask = mf::kRdonly | mf::kWronly | mf::kRdonlyProg | mf::kWronlyProg;
constexpr uint64_t kKmallocMaxSize = 4ull << 20;  // Linux's KMALLOC_MAX_SIZE on x86-64
constexpr uint64_t kPercpuMaxValue = 32u << 10;   // PCPU_MIN_UNIT_SIZE
constexpr uint32_t kMaxBpfStack = 512;
constexpr uint32_t kLpmDataSizeMax = 256;
constexpr uint32_t kLpmHeaderSize = 4;  // struct bpf_lpm_trie_key_hdr

using Problem = std::optional<MapSpecProblem>;

Problem fail(int error, std::string message) {
    return MapSpecProblem{error, std::move(message)};
}

Problem check_flags(const MapSpec& s, uint32_t allowed) {
    if (s.flags & ~allowed) {
        return fail(EINVAL, fmt::format("map flags {:#x} not allowed for this map type (allowed: "
                                        "{:#x})",
                                        s.flags & ~allowed, allowed));
    }
    if ((s.flags & mf::kRdonlyProg) && (s.flags & mf::kWronlyProg)) {
        return fail(EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
    }
    return std::nullopt;
}

bool is_map_in_map(MapType t) {
    return t == MapType::ArrayOfMaps || t == MapType::HashOfMaps;
}

Problem check_array(const MapSpec& s) {
    const bool fd_array = s.type == MapType::ProgArray || s.type == MapType::PerfEventArray ||
                          s.type == MapType::ArrayOfMaps;
    if (fd_array) {
        if (s.value_size != 4) return fail(EINVAL, "value_size must be 4 (a file descriptor)");
        if (s.flags & (mf::kRdonlyProg | mf::kWronlyProg)) {
            return fail(EINVAL, "BPF_F_RDONLY_PROG/WRONLY_PROG not allowed for this map type");
        }
    }
    if (s.max_entries == 0) return fail(EINVAL, "max_entries must be > 0");
    if (s.key_size != 4) return fail(EINVAL, "key_size must be 4 (a u32 index)");
    if (s.value_size == 0) return fail(EINVAL, "value_size must be > 0");
    if (auto p = check_flags(
            s, mf::kNumaNode | mf::kMmapable | kAccessMask | mf::kPreserveElems | mf::kInnerMap)) {
        return p;
    }
    if (s.type != MapType::Array && (s.flags & (mf::kMmapable | mf::kInnerMap))) {
        return fail(EINVAL, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are for array maps only");
    }
    if (s.type != MapType::PerfEventArray && (s.flags & mf::kPreserveElems)) {
        return fail(EINVAL, "BPF_F_PRESERVE_ELEMS is for perf event arrays only");
    }
    if (s.value_size > INT_MAX) return fail(E2BIG, "value_size too large");
    if (s.type == MapType::PercpuArray && maps::round_up8(s.value_size) > kPercpuMaxValue) {
        return fail(E2BIG, "per-CPU value_size larger than 32 KiB");
    }
    return std::nullopt;
}

Problem check_hash(const MapSpec& s) {
    const bool lru = s.type == MapType::LruHash || s.type == MapType::LruPercpuHash;
    const bool percpu = s.type == MapType::PercpuHash || s.type == MapType::LruPercpuHash;
    if (s.type == MapType::HashOfMaps && s.value_size != 4) {
        return fail(EINVAL, "value_size must be 4 (a map file descriptor)");
    }
    if (auto p = check_flags(
            s, mf::kNoPrealloc | mf::kNoCommonLru | mf::kNumaNode | kAccessMask | mf::kZeroSeed)) {
        return p;
    }
    if (!lru && (s.flags & mf::kNoCommonLru)) {
        return fail(EINVAL, "BPF_F_NO_COMMON_LRU is for LRU maps only");
    }
    if (lru && (s.flags & mf::kNoPrealloc)) {
        return fail(kENOTSUPP, "LRU maps are always preallocated (BPF_F_NO_PREALLOC)");
    }
    if (s.max_entries == 0 || s.key_size == 0 || s.value_size == 0) {
        return fail(EINVAL, "max_entries, key_size and value_size must be > 0");
    }
    if (s.key_size > kMaxBpfStack) return fail(E2BIG, "key_size larger than 512");
    if (s.value_size >= kKmallocMaxSize - kMaxBpfStack - 64) {
        return fail(E2BIG, "value_size too large");
    }
    if (percpu && maps::round_up8(s.value_size) > kPercpuMaxValue) {
        return fail(E2BIG, "per-CPU value_size larger than 32 KiB");
    }
    return std::nullopt;
}

Problem check_lpm(const MapSpec& s) {
    if (s.max_entries == 0) return fail(EINVAL, "max_entries must be > 0");
    if (!(s.flags & mf::kNoPrealloc)) {
        return fail(EINVAL, "LPM tries must be created with BPF_F_NO_PREALLOC");
    }
    if (auto p = check_flags(s, mf::kNoPrealloc | mf::kNumaNode | kAccessMask)) return p;
    if (s.key_size < kLpmHeaderSize + 1 || s.key_size > kLpmHeaderSize + kLpmDataSizeMax) {
        return fail(EINVAL, "key_size must be 4 (prefixlen) + 1..256 data bytes");
    }
    if (s.value_size < 1 || s.value_size > kKmallocMaxSize - kLpmDataSizeMax - 64) {
        return fail(EINVAL, "value_size out of range");
    }
    return std::nullopt;
}

Problem check_queue_stack(const MapSpec& s) {
    if (s.max_entries == 0) return fail(EINVAL, "max_entries must be > 0");
    if (s.key_size != 0) return fail(EINVAL, "key_size must be 0 for queues and stacks");
    if (s.value_size == 0) return fail(EINVAL, "value_size must be > 0");
    if (auto p = check_flags(s, mf::kNumaNode | kAccessMask)) return p;
    if (s.value_size > kKmallocMaxSize) return fail(E2BIG, "value_size too large");
    return std::nullopt;
}

Problem check_ringbuf(const MapSpec& s) {
    if (auto p = check_flags(s, mf::kNumaNode)) return p;
    if (s.key_size != 0 || s.value_size != 0) {
        return fail(EINVAL, "key_size and value_size must be 0 for ring buffers");
    }
    const uint32_t n = s.max_entries;
    if (n == 0 || (n & (n - 1)) != 0 || n % map_page_size() != 0) {
        return fail(EINVAL, fmt::format("ring buffer size {} is not a power-of-two multiple of "
                                        "the page size ({})",
                                        n, map_page_size()));
    }
    return std::nullopt;
}

Problem check_bloom(const MapSpec& s) {
    if (s.key_size != 0) return fail(EINVAL, "key_size must be 0 for bloom filters");
    if (s.value_size == 0 || s.max_entries == 0) {
        return fail(EINVAL, "value_size and max_entries must be > 0");
    }
    if (auto p = check_flags(s, mf::kNumaNode | mf::kZeroSeed | kAccessMask)) return p;
    if (s.map_extra & ~uint64_t{0xf}) {
        return fail(EINVAL, "map_extra may only hold the number of hash functions (bits 0-3)");
    }
    if (s.value_size > kKmallocMaxSize) return fail(E2BIG, "value_size too large");
    return std::nullopt;
}

Problem check_inner(const MapSpec& s) {
    if (!s.inner) return fail(EINVAL, "a map of maps needs an inner map definition");
    if (is_map_in_map(s.inner->type)) return fail(EINVAL, "maps of maps cannot nest");
    if (s.inner->type == MapType::ProgArray) {
        return fail(EINVAL, "a prog array cannot be an inner map");
    }
    if (auto p = check_map_spec(*s.inner)) {
        p->message = "inner map: " + p->message;
        return p;
    }
    return std::nullopt;
}

}  // namespace

std::optional<MapSpecProblem> check_map_spec(const MapSpec& s) {
    if ((s.flags & mf::kRdonly) && (s.flags & mf::kWronly)) {
        return fail(EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY exclude each other");
    }
    if (s.map_extra != 0 && s.type != MapType::BloomFilter) {
        return fail(EINVAL, "map_extra is only meaningful for bloom filters");
    }
    if ((s.flags & mf::kNumaNode) && s.numa_node != 0) {
        return fail(EINVAL, "numa_node must be 0 (one memory node)");
    }
    switch (s.type) {
        case MapType::Array:
        case MapType::PercpuArray:
        case MapType::ProgArray:
        case MapType::PerfEventArray: return check_array(s);
        case MapType::ArrayOfMaps:
            if (auto p = check_array(s)) return p;
            return check_inner(s);
        case MapType::Hash:
        case MapType::PercpuHash:
        case MapType::LruHash:
        case MapType::LruPercpuHash: return check_hash(s);
        case MapType::HashOfMaps:
            if (auto p = check_hash(s)) return p;
            return check_inner(s);
        case MapType::LpmTrie: return check_lpm(s);
        case MapType::Queue:
        case MapType::Stack: return check_queue_stack(s);
        case MapType::Ringbuf: return check_ringbuf(s);
        case MapType::BloomFilter: return check_bloom(s);
        default:
            return fail(EINVAL,
                        fmt::format("map type {} is not supported", static_cast<uint32_t>(s.type)));
    }
}

}  // namespace xbpf
