// An object as xbpf's loader sees it (final instructions, maps by index), made loadable by the
// running kernel: its maps created with BPF_MAP_CREATE (inner maps for map-in-map, global data
// as filled arrays, read-only data frozen), its BTF loaded (DATASEC layouts filled in, as libbpf
// does), and each program's lddw map references rewritten to the kernel's file descriptors.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kernel_bpf.hpp"
#include "xbpf/object.hpp"

namespace xbpf::oracle {

struct KernelObject {
    std::vector<UniqueFd> maps;           // by the loader's map index; invalid when not created
    std::vector<std::string> map_errors;  // why a map could not be created ("" when it was)
    UniqueFd btf;                         // the object's BTF, when the kernel took it
    std::string btf_error;
};

// Creates the object's maps and loads its BTF (`elf` is the object file's bytes).
KernelObject make_kernel_object(const Object& object, std::span<const uint8_t> elf);

// The program's instructions with map references by index (lddw src 5/6) turned into
// BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE with the kernel's descriptors; nullopt (and `why`)
// when a map it uses could not be created.
std::optional<std::vector<Insn>> with_kernel_maps(const ProgramSpec& program,
                                                  const KernelObject& object, std::string* why);

// The BTF type id of a function (or typedef, for raw tracepoints) in the running kernel's
// vmlinux BTF (/sys/kernel/btf/vmlinux); 0 when it is not there.
uint32_t vmlinux_btf_id(const std::string& name, bool typedef_kind = false);

}  // namespace xbpf::oracle
