// Constructors of the map families, dispatched to by create_map() once the spec is checked.
#pragma once

#include <memory>

#include "runtime/maps/memory_limit.hpp"
#include "xbpf/map.hpp"

namespace xbpf::maps {

using MapResult = Result<std::shared_ptr<Map>>;

// How a family whose whole state is its region builds a map: where the region comes from, the
// CPU slots its layout is for, and whether the region is new or already holds the map.
struct MapBuild {
    MapMemoryProvider& memory;
    // nr_cpus() for a new map; for an attached one, the slots it was created with.
    uint32_t cpus = 1;
    // The region (handed out by `memory`, with exactly the size the family asks for) already
    // holds an initialised map of this spec, made by this or another process (a pinned map
    // opened again): the family adopts its state and must not reset or rewrite it.
    bool attach = false;
};

// The families whose whole state is in their region (so a region can be shared and attached).
MapResult make_array_map(const MapSpec& spec, const MapBuild& build);  // array, percpu
MapResult make_hash_map(const MapSpec& spec, const MapBuild& build);   // 4 hash kinds
MapResult make_lpm_trie(const MapSpec& spec, const MapBuild& build);
MapResult make_queue_stack_map(const MapSpec& spec, const MapBuild& build);  // queue, stack
MapResult make_bloom_filter(const MapSpec& spec, const MapBuild& build);
MapResult make_ring_buffer(const MapSpec& spec, const MapBuild& build);
// Whether `type` is one of them.
bool region_only_type(MapType type);
// Builds a map of one of those families (the spec is already checked).
MapResult build_region_map(const MapSpec& spec, const MapBuild& build);

// Families holding process-local objects (programs, maps, perf buffers) beside their region.
MapResult make_object_array(const MapSpec& spec, const MapOptions& options);  // prog/map arrays
MapResult make_hash_of_maps(const MapSpec& spec, const MapOptions& options);
MapResult make_perf_event_array(const MapSpec& spec, const MapOptions& options);

// The memory provider to use for `options`, held to the map memory limit.
inline std::shared_ptr<MapMemoryProvider> memory_of(const MapOptions& options) {
    return limited_map_memory(options.memory ? options.memory : private_map_memory());
}

}  // namespace xbpf::maps
