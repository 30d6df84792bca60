// Map definitions of an object: legacy `maps` sections, BTF-defined `.maps`, global data
// sections and `.kconfig` externs, in that order (the order of Object::maps).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "loader/elf_reader.hpp"
#include "xbpf/btf.hpp"
#include "xbpf/error.hpp"
#include "xbpf/map_spec.hpp"
#include "xbpf/object.hpp"

namespace xbpf::loader {

struct ObjectMaps {
    std::vector<MapSpec> maps;
    // Map definitions by where their symbol points: (section index, offset) -> map index.
    // Legacy and BTF-defined maps; a relocation against such a symbol loads the map.
    std::map<std::pair<uint32_t, uint64_t>, uint32_t> by_location;
    // Global data sections: section index -> map index. A relocation into one loads the
    // address of a value inside the map.
    std::map<uint32_t, uint32_t> data_sections;
    // `.kconfig` externs by name, and the map holding them.
    std::vector<KconfigExtern> kconfig;
    std::optional<uint32_t> kconfig_map;

    const KconfigExtern* find_kconfig(std::string_view name) const;
};

// True for the names of legacy map sections: `maps` and `maps/<name>`.
bool is_legacy_map_section(std::string_view name);
// True for global data sections: `.data`, `.rodata`, `.bss` and their `.<name>` variants.
bool is_data_section(std::string_view name);

// Reads every map definition. `btf` may be null (objects without `.BTF` cannot have `.maps`
// or `.kconfig`); its DATASEC layouts must already be filled in.
Result<ObjectMaps> read_map_definitions(const ElfFile& elf, const Btf* btf);

}  // namespace xbpf::loader
