// create_map(): checks the spec like BPF_MAP_CREATE, then builds the map family's object.
#include "runtime/maps/map_factories.hpp"
#include "xbpf/map.hpp"

namespace xbpf {
namespace maps {

bool region_only_type(MapType type) {
    switch (type) {
        case MapType::Array:
        case MapType::PercpuArray:
        case MapType::Hash:
        case MapType::PercpuHash:
        case MapType::LruHash:
        case MapType::LruPercpuHash:
        case MapType::LpmTrie:
        case MapType::Queue:
        case MapType::Stack:
        case MapType::BloomFilter:
        case MapType::Ringbuf: return true;
        default: return false;
    }
}

MapResult build_region_map(const MapSpec& spec, const MapBuild& build) {
    switch (spec.type) {
        case MapType::Array:
        case MapType::PercpuArray: return make_array_map(spec, build);
        case MapType::Hash:
        case MapType::PercpuHash:
        case MapType::LruHash:
        case MapType::LruPercpuHash: return make_hash_map(spec, build);
        case MapType::LpmTrie: return make_lpm_trie(spec, build);
        case MapType::Queue:
        case MapType::Stack: return make_queue_stack_map(spec, build);
        case MapType::BloomFilter: return make_bloom_filter(spec, build);
        case MapType::Ringbuf: return make_ring_buffer(spec, build);
        default: return Error("map type does not keep its whole state in its region");
    }
}

}  // namespace maps

Result<std::shared_ptr<Map>> create_map(const MapSpec& spec, const MapOptions& options) {
    if (auto problem = check_map_spec(spec)) {
        Error e(problem->message);
        if (!spec.name.empty()) e.in("map " + spec.name);
        return e;
    }
    maps::MapResult result = [&]() -> maps::MapResult {
        if (maps::region_only_type(spec.type)) {
            return maps::build_region_map(spec, {*maps::memory_of(options), nr_cpus(), false});
        }
        switch (spec.type) {
            case MapType::ProgArray:
            case MapType::ArrayOfMaps: return maps::make_object_array(spec, options);
            case MapType::HashOfMaps: return maps::make_hash_of_maps(spec, options);
            case MapType::PerfEventArray: return maps::make_perf_event_array(spec, options);
            default: return Error("map type not supported");
        }
    }();
    if (!result.ok() && !spec.name.empty()) {
        return std::move(result).error().in("map " + spec.name);
    }
    return result;
}

}  // namespace xbpf
