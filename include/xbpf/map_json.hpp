// Map contents as JSON, in the format `bpftool map dump -j` prints: an array of entries
//   {"key": ["0x01", ...], "value": ["0x2a", ...]}
// per-CPU maps with "values": [{"cpu": 0, "value": [...]}, ...] instead of "value", and,
// when the map's BTF types are known, a "formatted" member with the decoded key and value.
// Used by `xbpf run`/`test-run` (--map-dump, --map-init, the maps in -j output) and by
// embedders that snapshot or seed maps.
#pragma once

#include <nlohmann/json.hpp>

#include "xbpf/btf.hpp"
#include "xbpf/error.hpp"
#include "xbpf/map.hpp"

namespace xbpf {

// Every entry of the map, in get_next_key order. `btf` (may be null) decodes keys and values
// of maps whose spec has BTF type ids. Maps without keys (queue, stack, ringbuf...) give an
// empty array; their contents are not enumerable without consuming them.
nlohmann::json dump_map_json(Map& map, const Btf* btf = nullptr);

// Writes the entries (the format above; "formatted" members are ignored, raw bytes rule) into
// the map with BPF_ANY. Byte arrays may hold "0x2a" strings or numbers 0..255. Errors name the
// entry and what is wrong with it (wrong key size, bad byte, the map's own errno).
Status load_map_json(Map& map, const nlohmann::json& entries);

}  // namespace xbpf
