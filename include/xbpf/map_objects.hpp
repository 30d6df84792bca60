// Maps whose values are objects of other layers: prog_array (programs, for tail calls),
// array_of_maps and hash_of_maps (inner maps), perf_event_array (perf buffers, map_perf.hpp).
// They hold their objects by reference count; programs reach them through raw pointers that stay
// valid while a MapReadGuard is held (see map.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

#include "xbpf/map.hpp"

namespace xbpf {

// A map holding objects: prog_array, array_of_maps, hash_of_maps, perf_event_array.
class ObjectMap : public Map {
  public:
    // Stores `object` at `key` (what BPF_MAP_UPDATE_ELEM does with a file descriptor), keeping
    // `host_fd`, the descriptor the host named it by, for display. Flags as update_elem (array
    // kinds accept only BPF_ANY). Maps of maps: `object` must be a Map matching spec().inner in
    // type, key and value size and flags (and max_entries for array inner maps without
    // BPF_F_INNER_MAP, as Linux compares them), else -EINVAL. Not allowed once frozen (-EPERM).
    virtual int update_object(const void* key, std::shared_ptr<const MapValueObject> object,
                              uint32_t host_fd, uint64_t flags = 0) = 0;
    // The object at `key` and the descriptor it was stored with; {nullptr, 0} if none.
    virtual std::pair<std::shared_ptr<const MapValueObject>, uint32_t> object_at(
        const void* key) const = 0;

  protected:
    using Map::Map;
};

// BPF_MAP_TYPE_PROG_ARRAY.
class ProgArrayMap : public ObjectMap {
  public:
    // The program a tail call through slot `index` continues in, or nullptr (empty slot or
    // index out of range). The pointer stays valid while a MapReadGuard is held.
    virtual const MapValueObject* tail_call_target(uint32_t index) const noexcept = 0;

  protected:
    using ObjectMap::ObjectMap;
};

}  // namespace xbpf
