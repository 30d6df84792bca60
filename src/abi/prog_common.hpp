// What several program commands share.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "abi/objects.hpp"
#include "xbpf/insn.hpp"

namespace xbpf::abi {

// Linux's program tag: the first 8 bytes of the SHA-1 of the instructions with the immediates
// of map references zeroed.
std::array<uint8_t, 8> program_tag(std::span<const Insn> insns);

// Verifies and prepares `spec` (its lddw map references index object.maps) into
// object.program, with the fields a loaded program has (tag, uid, load time, the instructions
// as given). Shared by BPF_PROG_LOAD and BPF_OBJ_GET of a program pinned by another process.
Status build_program(ProgObject& object, ProgramSpec spec, bool verbose, VerifierReport* report);
// Gives a built program its descriptor (or -errno).
long install_program(std::shared_ptr<ProgObject> object);

}  // namespace xbpf::abi
