// Completing the BTF of an object: clang writes DATASEC sizes and variable offsets as 0 and
// leaves them for the loader, which knows the section sizes and symbol values (as libbpf does).
#pragma once

#include "loader/elf_reader.hpp"
#include "xbpf/btf.hpp"
#include "xbpf/error.hpp"

namespace xbpf::loader {

// Sets each DATASEC's size to its ELF section's, and each variable's offset to its symbol's
// value. `.kconfig` has no section: its externs are laid out one after another, each aligned
// to its size (up to 8 bytes).
Status fill_datasec_layouts(const ElfFile& elf, Btf& btf);

}  // namespace xbpf::loader
