// What a map is, before it exists: the definition the loader reads from an object (BTF-defined
// `.maps`, legacy `maps`, global data sections) and the runtime creates a map from. Type ids
// and flags are Linux's (`enum bpf_map_type`, `BPF_F_*`), so an object means the same here as
// in the kernel.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace xbpf {

// Linux's enum bpf_map_type, value for value.
enum class MapType : uint32_t {
    Unspec = 0,
    Hash = 1,
    Array = 2,
    ProgArray = 3,
    PerfEventArray = 4,
    PercpuHash = 5,
    PercpuArray = 6,
    StackTrace = 7,
    CgroupArray = 8,
    LruHash = 9,
    LruPercpuHash = 10,
    LpmTrie = 11,
    ArrayOfMaps = 12,
    HashOfMaps = 13,
    Devmap = 14,
    Sockmap = 15,
    Cpumap = 16,
    Xskmap = 17,
    Sockhash = 18,
    CgroupStorage = 19,
    ReuseportSockarray = 20,
    PercpuCgroupStorage = 21,
    Queue = 22,
    Stack = 23,
    SkStorage = 24,
    DevmapHash = 25,
    StructOps = 26,
    Ringbuf = 27,
    InodeStorage = 28,
    TaskStorage = 29,
    BloomFilter = 30,
    UserRingbuf = 31,
    CgrpStorage = 32,
    Arena = 33,
};

// Map flags (BPF_F_* for map_flags), value for value.
namespace map_flags {
inline constexpr uint32_t kNoPrealloc = 1u << 0;
inline constexpr uint32_t kNoCommonLru = 1u << 1;
inline constexpr uint32_t kNumaNode = 1u << 2;
inline constexpr uint32_t kRdonly = 1u << 3;  // read-only from the host (syscall) side
inline constexpr uint32_t kWronly = 1u << 4;
inline constexpr uint32_t kStackBuildId = 1u << 5;
inline constexpr uint32_t kZeroSeed = 1u << 6;
inline constexpr uint32_t kRdonlyProg = 1u << 7;  // read-only from programs
inline constexpr uint32_t kWronlyProg = 1u << 8;
inline constexpr uint32_t kClone = 1u << 9;
inline constexpr uint32_t kMmapable = 1u << 10;
inline constexpr uint32_t kPreserveElems = 1u << 11;
inline constexpr uint32_t kInnerMap = 1u << 12;
}  // namespace map_flags

// Update flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK).
namespace update_flags {
inline constexpr uint64_t kAny = 0;
inline constexpr uint64_t kNoExist = 1;
inline constexpr uint64_t kExist = 2;
inline constexpr uint64_t kLock = 4;
}  // namespace update_flags

// Where a map definition came from in the object.
enum class MapOrigin : uint8_t {
    BtfDefined,  // a variable in `.maps`
    Legacy,      // a struct bpf_map_def (or a longer variant) in `maps`
    Data,        // `.data` / `.data.*`: one-element array holding the section
    Rodata,      // `.rodata` / `.rodata.*`: as Data, read-only for programs and frozen
    Bss,         // `.bss`: as Data, zero-initialised
    Kconfig,     // `.kconfig` externs
    Created,     // created by the host, not from an object
};

struct MapSpec {
    std::string name;
    MapType type = MapType::Unspec;
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    uint32_t max_entries = 0;
    uint32_t flags = 0;
    uint64_t map_extra = 0;  // bloom filter: number of hash functions; arena: address
    uint32_t numa_node = 0;
    // LIBBPF_PIN_BY_NAME (1) pins the map under its name; 0: not pinned.
    uint32_t pinning = 0;
    // iproute2's `struct bpf_elf_map` pinning of a legacy map, kept apart because its values
    // mean something else: PIN_OBJECT_NS (1), PIN_GLOBAL_NS (2); 0: none or not that layout.
    uint32_t legacy_pinning = 0;
    MapOrigin origin = MapOrigin::Created;

    // BTF type ids of key and value in the object's BTF (0 when unknown), for printing.
    uint32_t btf_key_type_id = 0;
    uint32_t btf_value_type_id = 0;

    // Map-in-map: the definition every inner map must match.
    std::shared_ptr<const MapSpec> inner;

    // Initial contents. Global data sections: the bytes of element 0 (empty for .bss: zeroes).
    std::vector<uint8_t> initial_value;
    // BTF `values = { [i] = &prog_or_map }` initialisers of prog arrays and map-in-map arrays:
    // slot index -> name of the program (function) or map it holds.
    std::vector<std::pair<uint32_t, std::string>> initial_slots;
};

}  // namespace xbpf
