// Deferred release of objects that programs reach through raw pointers (MapReadGuard in
// xbpf/map.hpp): an epoch scheme. Each thread's guard publishes the epoch it entered in; an
// object removed from a map is stamped with the epoch of its removal and released once no
// guard from that epoch or earlier is still active.
#pragma once

#include <memory>

namespace xbpf::maps {

// Keeps `object` alive until every MapReadGuard active now has ended. The caller must already
// have made the object unreachable through the map (with a seq_cst store).
void retire_object(std::shared_ptr<const void> object);

// Releases retired objects that no active guard can still see. Cheap when nothing is retired;
// called from host-side operations of object maps.
void reclaim_retired_objects();

}  // namespace xbpf::maps
