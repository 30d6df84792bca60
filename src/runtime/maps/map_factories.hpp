// Constructors of the map families, dispatched to by create_map() once the spec is checked.
#pragma once

#include <memory>

#include "xbpf/map.hpp"

namespace xbpf::maps {

using MapResult = Result<std::shared_ptr<Map>>;

MapResult make_array_map(const MapSpec& spec, const MapOptions& options);  // array, percpu
MapResult make_hash_map(const MapSpec& spec, const MapOptions& options);   // 4 hash kinds
MapResult make_lpm_trie(const MapSpec& spec, const MapOptions& options);
MapResult make_queue_stack_map(const MapSpec& spec, const MapOptions& options);  // queue, stack
MapResult make_bloom_filter(const MapSpec& spec, const MapOptions& options);
MapResult make_ring_buffer(const MapSpec& spec, const MapOptions& options);
MapResult make_object_array(const MapSpec& spec, const MapOptions& options);  // prog/map arrays
MapResult make_hash_of_maps(const MapSpec& spec, const MapOptions& options);
MapResult make_perf_event_array(const MapSpec& spec, const MapOptions& options);

// The memory provider to use for `options`.
inline std::shared_ptr<MapMemoryProvider> memory_of(const MapOptions& options) {
    return options.memory ? options.memory : private_map_memory();
}

}  // namespace xbpf::maps
