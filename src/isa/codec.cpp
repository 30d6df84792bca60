// Instruction slots <-> little-endian bytes.
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "xbpf/isa.hpp"

namespace xbpf {

static_assert(
    std::endian::native == std::endian::little,
    "Insn mirrors the little-endian struct bpf_insn; a big-endian host needs byte swapping here");

Result<std::vector<Insn>> decode(std::span<const uint8_t> bytes) {
    if (bytes.size() % sizeof(Insn) != 0) {
        return Error(fmt::format(
            "{} bytes is not a whole number of 8-byte instructions ({} bytes left over)",
            bytes.size(), bytes.size() % sizeof(Insn)));
    }
    std::vector<Insn> program(bytes.size() / sizeof(Insn));
    if (!bytes.empty()) std::memcpy(program.data(), bytes.data(), bytes.size());
    return program;
}

std::vector<uint8_t> encode(std::span<const Insn> program) {
    std::vector<uint8_t> bytes(program.size_bytes());
    if (!program.empty()) std::memcpy(bytes.data(), program.data(), bytes.size());
    return bytes;
}

}  // namespace xbpf
