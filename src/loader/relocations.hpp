// Applying the relocations of executable sections: map and global data references become lddw
// by map index (src 5 and 6), `.kconfig` externs become values of the `.kconfig` map, calls to
// extern functions named like a Linux helper become helper calls, and calls and function
// addresses are resolved to code locations for the linker.
#pragma once

#include "loader/code_sections.hpp"
#include "loader/elf_reader.hpp"
#include "loader/map_definitions.hpp"
#include "xbpf/error.hpp"

namespace xbpf::loader {

Status apply_relocations(const ElfFile& elf, const ObjectMaps& maps, CodeSections& code);

}  // namespace xbpf::loader
