// Map helpers: lookup, update, delete, push, pop, peek and the per-CPU lookup, over the maps'
// program-side API (which returns exactly what Linux's helpers return). A map reaches a helper
// as its Map* — the value the loader gives an lddw of the map.
#include <linux/bpf.h>

#include <atomic>

#include "runtime/helpers/implementations.hpp"
#include "xbpf/map.hpp"

namespace xbpf::helpers {
namespace {

Map* map_of(uint64_t r) {
    return reinterpret_cast<Map*>(static_cast<uintptr_t>(r));
}
const void* ptr(uint64_t r) {
    return reinterpret_cast<const void*>(static_cast<uintptr_t>(r));
}

// A value handed to the program: in checked runs, the program may then access it. Only checked
// runs carry a list of granted regions; for the others this is one null test (recording them
// cost more than an array lookup itself, docs/benchmarks.md).
uint64_t hand_out_value(Map& map, void* value, RunContext& ctx) {
    if (value == nullptr) return 0;
    if (ctx.dynamic_regions == nullptr) return reinterpret_cast<uintptr_t>(value);
    const bool holds_maps = map.type() == MapType::ArrayOfMaps || map.type() == MapType::HashOfMaps;
    // A map of maps hands out the inner map itself, which the program only passes on.
    if (!holds_maps)
        ctx.allow_region(value, map.value_size(), !map.read_only_for_programs(), "map value");
    return reinterpret_cast<uintptr_t>(value);
}

uint64_t map_lookup_elem(uint64_t map, uint64_t key, uint64_t, uint64_t, uint64_t,
                         RunContext& ctx) {
    Map& m = *map_of(map);
    return hand_out_value(m, m.lookup(ptr(key)), ctx);
}

uint64_t map_lookup_percpu_elem(uint64_t map, uint64_t key, uint64_t cpu, uint64_t, uint64_t,
                                RunContext& ctx) {
    Map& m = *map_of(map);
    return hand_out_value(m, m.lookup_percpu(ptr(key), static_cast<uint32_t>(cpu)), ctx);
}

uint64_t map_update_elem(uint64_t map, uint64_t key, uint64_t value, uint64_t flags, uint64_t,
                         RunContext&) {
    return static_cast<uint64_t>(map_of(map)->update(ptr(key), ptr(value), flags));
}

uint64_t map_delete_elem(uint64_t map, uint64_t key, uint64_t, uint64_t, uint64_t, RunContext&) {
    return static_cast<uint64_t>(map_of(map)->erase(ptr(key)));
}

uint64_t map_push_elem(uint64_t map, uint64_t value, uint64_t flags, uint64_t, uint64_t,
                       RunContext&) {
    return static_cast<uint64_t>(map_of(map)->push(ptr(value), flags));
}

uint64_t map_pop_elem(uint64_t map, uint64_t value, uint64_t, uint64_t, uint64_t, RunContext&) {
    return static_cast<uint64_t>(
        map_of(map)->pop(reinterpret_cast<void*>(static_cast<uintptr_t>(value))));
}

uint64_t map_peek_elem(uint64_t map, uint64_t value, uint64_t, uint64_t, uint64_t, RunContext&) {
    return static_cast<uint64_t>(
        map_of(map)->peek(reinterpret_cast<void*>(static_cast<uintptr_t>(value))));
}

// struct bpf_spin_lock is one 32-bit word inside a map value; Linux's verifier allows one held
// lock at a time and no helper calls while it is held, so a plain spin is enough.
uint64_t spin_lock(uint64_t lock, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    std::atomic_ref<uint32_t> word(*reinterpret_cast<uint32_t*>(static_cast<uintptr_t>(lock)));
    uint32_t expected = 0;
    while (!word.compare_exchange_weak(expected, 1, std::memory_order_acquire)) {
        expected = 0;
        while (word.load(std::memory_order_relaxed) != 0) {
        }
    }
    return 0;
}

uint64_t spin_unlock(uint64_t lock, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    std::atomic_ref<uint32_t> word(*reinterpret_cast<uint32_t*>(static_cast<uintptr_t>(lock)));
    word.store(0, std::memory_order_release);
    return 0;
}

}  // namespace

void add_map_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_map_lookup_elem, map_lookup_elem});
    out.push_back({BPF_FUNC_map_update_elem, map_update_elem});
    out.push_back({BPF_FUNC_map_delete_elem, map_delete_elem});
    out.push_back({BPF_FUNC_map_push_elem, map_push_elem});
    out.push_back({BPF_FUNC_map_pop_elem, map_pop_elem});
    out.push_back({BPF_FUNC_map_peek_elem, map_peek_elem});
    out.push_back({BPF_FUNC_map_lookup_percpu_elem, map_lookup_percpu_elem});
    out.push_back({BPF_FUNC_spin_lock, spin_lock});
    out.push_back({BPF_FUNC_spin_unlock, spin_unlock});
}

}  // namespace xbpf::helpers
