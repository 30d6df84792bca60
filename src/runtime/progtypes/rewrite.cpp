// Context access rewriting: each verified load or store of the uapi context struct becomes one
// load or store of the native context the runtime builds, as Linux's convert_ctx_access turns
// them into loads of its kernel structs. One instruction stays one instruction, so no jump,
// call or line-info offset moves.
#include <fmt/format.h>

#include <limits>
#include <vector>

#include "xbpf/program_type.hpp"

namespace xbpf {
namespace {

bool is_memory_access(const Insn& insn) {
    const uint8_t cls = insn_class(insn.opcode);
    const uint8_t mode = insn.opcode & op::kModeMask;
    if (cls == op::LDX) return mode == op::MEM || mode == op::MEMSX;
    if (cls == op::ST || cls == op::STX) return mode == op::MEM;
    return false;
}

uint8_t size_bits(int width) {
    switch (width) {
        case 1: return op::B;
        case 2: return op::H;
        case 4: return op::W;
        default: return op::DW;
    }
}

Status rewrite_one(Insn& insn, const ProgramType& type, const ContextAccess& access) {
    if (!is_memory_access(insn)) {
        return Error(
            "the instruction recorded as a context access is not a load or store "
            "(atomic operations on the context are not allowed)");
    }
    const bool write = insn_class(insn.opcode) != op::LDX;
    if (write != access.write || access_size(insn.opcode) != access.size) {
        return Error(fmt::format("the instruction does not match the recorded {}-byte {}",
                                 access.size, access.write ? "write" : "read"));
    }
    // Linux forbids moving the context pointer before dereferencing it, so the instruction's
    // own offset is the field offset.
    if (insn.off < 0 || static_cast<uint32_t>(insn.off) != access.offset) {
        return Error(fmt::format(
            "the access at offset {} does not use the unmodified context pointer (offset {})",
            access.offset, insn.off));
    }
    if (auto problem = type.check_access(access.offset, access.size, access.write);
        !problem.empty()) {
        return Error(std::move(problem));
    }
    if (type.context_is_plain_memory) return {};
    const ContextField& field = *type.field_at(access.offset, access.size);
    uint32_t native = field.native_offset;
    if (field.is_pointer()) {
        if ((insn.opcode & op::kModeMask) == op::MEMSX)
            return Error(
                fmt::format("pointer field {} cannot be loaded sign-extended", field.name));
        insn.opcode = static_cast<uint8_t>((insn.opcode & ~op::kSizeMask) | size_bits(8));
    } else {
        native += access.offset - field.offset;
    }
    if (native > static_cast<uint32_t>(std::numeric_limits<int16_t>::max()))
        return Error(fmt::format("native offset {} of field {} is too large", native, field.name));
    insn.off = static_cast<int16_t>(native);
    return {};
}

}  // namespace

Status rewrite_context_accesses(std::vector<Insn>& program, const ProgramType& type,
                                const std::vector<ContextAccess>& accesses) {
    // A verifier may record an instruction once per path that reaches it: rewrite it once.
    std::vector<bool> done(program.size(), false);
    for (const auto& access : accesses) {
        if (access.pc < program.size() && done[access.pc]) continue;
        if (access.pc >= program.size()) {
            return Error(
                fmt::format("context access recorded at instruction {}, beyond the "
                            "program's {} instructions",
                            access.pc, program.size()));
        }
        if (auto s = rewrite_one(program[access.pc], type, access); !s)
            return std::move(s).error().in(fmt::format("instruction {}", access.pc));
        done[access.pc] = true;
    }
    return {};
}

}  // namespace xbpf
