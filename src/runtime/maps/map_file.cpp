// Writing and checking map file headers (map_file.hpp).
#include "runtime/maps/map_file.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "runtime/maps/map_factories.hpp"
#include "xbpf/linux_names.hpp"
#include "xbpf/map.hpp"

namespace xbpf::maps {

void write_map_file_header(MapFileHeader& header, const MapSpec& spec, uint32_t cpus,
                           uint64_t region_size) {
    header.version = kMapFileVersion;
    header.header_size = sizeof(MapFileHeader);
    header.region_size = region_size;
    header.page_size = static_cast<uint32_t>(map_page_size());
    header.nr_cpus = cpus;
    header.map_type = static_cast<uint32_t>(spec.type);
    header.key_size = spec.key_size;
    header.value_size = spec.value_size;
    header.max_entries = spec.max_entries;
    header.map_flags = spec.flags;
    header.numa_node = spec.numa_node;
    header.map_extra = spec.map_extra;
    header.btf_key_type_id = spec.btf_key_type_id;
    header.btf_value_type_id = spec.btf_value_type_id;
    const size_t n = std::min(spec.name.size(), kMapFileNameSize - 1);
    std::memcpy(header.name, spec.name.data(), n);
    header.name[n] = '\0';
    // Last, so a header left incomplete is refused. No other process can read it yet: the file
    // gets a name (and so readers) only once the map is handed out and pinned.
    std::memcpy(header.magic, kMapFileMagic, sizeof kMapFileMagic);
}

bool map_file_header_valid(const MapFileHeader& header) {
    return std::memcmp(header.magic, kMapFileMagic, sizeof kMapFileMagic) == 0;
}

Result<MapFileInfo> read_map_file_header(const MapFileHeader& header, uint64_t file_size) {
    const uint64_t page = map_page_size();
    if (!map_file_header_valid(header)) {
        return Error(
            "not an xbpf map file: no map header in its last page (another kind of file, or a "
            "map file cut short)");
    }
    if (header.version != kMapFileVersion) {
        return Error(fmt::format("map file format version {}; this build reads version {}",
                                 header.version, kMapFileVersion));
    }
    if (header.header_size != sizeof(MapFileHeader)) {
        return Error(fmt::format("map file header is {} bytes; version {} has {}",
                                 header.header_size, kMapFileVersion, sizeof(MapFileHeader)));
    }
    if (header.page_size != page) {
        return Error(fmt::format("map file laid out for {}-byte pages; this system has {}",
                                 header.page_size, page));
    }
    if (header.region_size == 0 || header.region_size % page != 0 ||
        header.region_size + page != file_size) {
        return Error(fmt::format(
            "map file is {} bytes but its header describes a {}-byte region and a {}-byte "
            "header page (truncated or extended)",
            file_size, header.region_size, page));
    }
    if (header.nr_cpus == 0) return Error("map file laid out for 0 CPU slots");

    MapFileInfo info;
    info.nr_cpus = header.nr_cpus;
    info.region_size = header.region_size;
    MapSpec& spec = info.spec;
    spec.type = static_cast<MapType>(header.map_type);
    spec.key_size = header.key_size;
    spec.value_size = header.value_size;
    spec.max_entries = header.max_entries;
    spec.flags = header.map_flags;
    spec.numa_node = header.numa_node;
    spec.map_extra = header.map_extra;
    spec.btf_key_type_id = header.btf_key_type_id;
    spec.btf_value_type_id = header.btf_value_type_id;
    spec.name.assign(header.name, strnlen(header.name, kMapFileNameSize));
    if (!region_only_type(spec.type)) {
        return Error(fmt::format("map file holds a map of type {} ({}), which cannot be shared",
                                 header.map_type, map_type_name(spec.type)));
    }
    if (auto problem = check_map_spec(spec)) {
        return Error("map file describes an invalid map: " + problem->message);
    }
    return info;
}

}  // namespace xbpf::maps
