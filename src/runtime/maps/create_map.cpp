// create_map(): checks the spec like BPF_MAP_CREATE, then builds the map family's object.
#include "runtime/maps/map_factories.hpp"
#include "xbpf/map.hpp"

namespace xbpf {

Result<std::shared_ptr<Map>> create_map(const MapSpec& spec, const MapOptions& options) {
    if (auto problem = check_map_spec(spec)) {
        Error e(problem->message);
        if (!spec.name.empty()) e.in("map " + spec.name);
        return e;
    }
    maps::MapResult result = [&]() -> maps::MapResult {
        switch (spec.type) {
            case MapType::Array:
            case MapType::PercpuArray: return maps::make_array_map(spec, options);
            case MapType::Hash:
            case MapType::PercpuHash:
            case MapType::LruHash:
            case MapType::LruPercpuHash: return maps::make_hash_map(spec, options);
            case MapType::LpmTrie: return maps::make_lpm_trie(spec, options);
            case MapType::Queue:
            case MapType::Stack: return maps::make_queue_stack_map(spec, options);
            case MapType::BloomFilter: return maps::make_bloom_filter(spec, options);
            case MapType::Ringbuf: return maps::make_ring_buffer(spec, options);
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
