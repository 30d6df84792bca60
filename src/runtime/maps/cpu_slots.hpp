// Per-CPU slots for threads (internal side of nr_cpus()/current_cpu() in xbpf/map.hpp).
#pragma once

#include <cstdint>

namespace xbpf::maps {

inline constexpr uint32_t kNoSlot = UINT32_MAX;

// The calling thread's slot, kNoSlot until the first this_cpu() call assigns one. A plain
// thread_local so the hot path is one TLS load.
extern thread_local uint32_t t_cpu_slot;

uint32_t assign_cpu_slot();

inline uint32_t this_cpu() {
    uint32_t slot = t_cpu_slot;
    return slot != kNoSlot ? slot : assign_cpu_slot();
}

// Called when a map is created: from then on nr_cpus() can no longer change.
void fix_cpu_count();

}  // namespace xbpf::maps
