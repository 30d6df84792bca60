// The map file: how a shared map's storage is laid out in its file, so that another process can
// find out what the file holds and attach to it (map_shared.hpp).
//
//   [0, region_size)                    the map's region, exactly as the map family lays it out
//                                       (so mmap of the file at offset 0 maps the values of a
//                                       BPF_F_MMAPABLE array, as mmap of a map fd does in Linux)
//   [region_size, region_size + page)   the header page: MapFileHeader, then zeroes
//
// The header comes after the region rather than before it so the region starts at offset 0.
// Every field is written once at creation, before the file can have a name, except `frozen`,
// a word shared by every process mapping the file.
#pragma once

#include <cstdint>
#include <string>

#include "xbpf/error.hpp"
#include "xbpf/map_spec.hpp"

namespace xbpf::maps {

inline constexpr char kMapFileMagic[8] = {'X', 'B', 'P', 'F', 'M', 'A', 'P', '\0'};
// Bumped whenever the header or any family's region layout changes: a file is only attached by
// a build that lays maps out the same way.
inline constexpr uint32_t kMapFileVersion = 1;
inline constexpr size_t kMapFileNameSize = 64;

struct MapFileHeader {
    char magic[8];
    uint32_t version;
    uint32_t header_size;  // sizeof(MapFileHeader) of the writer
    uint64_t region_size;  // page multiple; the header page starts there
    uint32_t page_size;
    uint32_t nr_cpus;  // CPU slots the layout was made for (per-CPU values, hash free lists)
    // The MapSpec fields the layout and the semantics depend on.
    uint32_t map_type;
    uint32_t key_size;
    uint32_t value_size;
    uint32_t max_entries;
    uint32_t map_flags;
    uint32_t numa_node;
    uint64_t map_extra;
    uint32_t btf_key_type_id;
    uint32_t btf_value_type_id;
    char name[kMapFileNameSize];  // NUL-terminated, truncated
    uint32_t frozen;              // BPF_MAP_FREEZE, shared: accessed atomically
    uint32_t reserved;
};

// What a valid header says.
struct MapFileInfo {
    MapSpec spec;
    uint32_t nr_cpus = 1;
    uint64_t region_size = 0;
};

// Fills a zeroed header for a map of `spec` laid out for `cpus` slots in `region_size` bytes;
// the magic is written last.
void write_map_file_header(MapFileHeader& header, const MapSpec& spec, uint32_t cpus,
                           uint64_t region_size);

// Checks a header read from the last page of a file of `file_size` bytes (the magic, version,
// page size, sizes, and that the spec is one this build can attach), and says what the file
// holds. The Error names what is wrong.
Result<MapFileInfo> read_map_file_header(const MapFileHeader& header, uint64_t file_size);

// Whether a header was completed by write_map_file_header.
bool map_file_header_valid(const MapFileHeader& header);

}  // namespace xbpf::maps
