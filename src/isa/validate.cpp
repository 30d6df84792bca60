// Structural validation of instructions and programs (RFC 9669 encoding rules).
#include <fmt/format.h>

#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

Error insn_error(size_t pc, std::string message) {
    return std::move(Error(std::move(message)).in(fmt::format("instruction {}", pc)));
}

// Checks that fields an encoding does not use are zero.
struct FieldCheck {
    const Insn& insn;
    size_t pc;

    Status zero_src() const { return zero("src", insn.src); }
    Status zero_dst() const { return zero("dst", insn.dst); }
    Status zero_off() const { return zero("offset", insn.off); }
    Status zero_imm() const { return zero("immediate", insn.imm); }

    Status zero(const char* field, int64_t value) const {
        if (value == 0) return {};
        return insn_error(pc,
                          fmt::format("opcode {:#04x} uses reserved field {} = {}, which must be 0",
                                      insn.opcode, field, value));
    }
};

Status check_registers(const Insn& insn, size_t pc) {
    if (insn.dst >= kRegisterCount)
        return insn_error(pc, fmt::format("bad register r{} (dst)", insn.dst));
    if (insn.src >= kRegisterCount)
        return insn_error(pc, fmt::format("bad register r{} (src)", insn.src));
    return {};
}

Status unknown_opcode(const Insn& insn, size_t pc) {
    return insn_error(pc, fmt::format("unknown opcode {:#04x}", insn.opcode));
}

Status check_writes_dst(const Insn& insn, size_t pc) {
    if (insn.dst == kFramePointer)
        return insn_error(pc, "r10 is the read-only frame pointer and cannot be written");
    return {};
}

Status validate_alu(const Insn& insn, size_t pc) {
    const FieldCheck f{insn, pc};
    const bool is64 = insn_class(insn.opcode) == op::ALU64;
    const uint8_t code = insn.opcode & op::kCodeMask;
    const bool reg = (insn.opcode & op::kSourceMask) == op::X;
    if (code > op::END) return unknown_opcode(insn, pc);
    if (auto s = check_writes_dst(insn, pc); !s) return s;

    if (code == op::END) {
        // ALU64 END with the source bit set has no meaning (0xdf).
        if (is64 && reg) return unknown_opcode(insn, pc);
        if (auto s = f.zero_src(); !s) return s;
        if (auto s = f.zero_off(); !s) return s;
        if (insn.imm != 16 && insn.imm != 32 && insn.imm != 64) {
            return insn_error(pc, fmt::format("byte swap width {} is not 16, 32 or 64", insn.imm));
        }
        return {};
    }
    if (code == op::NEG) {
        if (reg) return unknown_opcode(insn, pc);
        if (auto s = f.zero_src(); !s) return s;
        if (auto s = f.zero_off(); !s) return s;
        return f.zero_imm();
    }
    if (reg) {
        if (auto s = f.zero_imm(); !s) return s;
    } else {
        if (auto s = f.zero_src(); !s) return s;
    }
    switch (code) {
        case op::DIV:
        case op::MOD:
            if (insn.off != 0 && insn.off != 1) {
                return insn_error(
                    pc, fmt::format("offset {} of a division is not 0 (unsigned) or 1 (signed)",
                                    insn.off));
            }
            return {};
        case op::MOV:
            if (insn.off == 0) return {};
            if (!reg)
                return insn_error(pc,
                                  "a sign-extending move (offset != 0) needs a source register");
            if (insn.off == 8 || insn.off == 16 || (is64 && insn.off == 32)) return {};
            return insn_error(
                pc, fmt::format("sign-extending move from {} bits is not defined for {}-bit moves",
                                insn.off, is64 ? 64 : 32));
        default: return f.zero_off();
    }
}

Status validate_jmp(std::span<const Insn> program, const Insn& insn, size_t pc) {
    const FieldCheck f{insn, pc};
    const bool is32 = insn_class(insn.opcode) == op::JMP32;
    const uint8_t code = insn.opcode & op::kCodeMask;
    const bool reg = (insn.opcode & op::kSourceMask) == op::X;
    (void)program;
    switch (code) {
        case op::JA:
            if (reg) return unknown_opcode(insn, pc);
            if (auto s = f.zero_src(); !s) return s;
            if (auto s = f.zero_dst(); !s) return s;
            // `goto` keeps its target in off; `gotol` (JMP32) in imm.
            return is32 ? f.zero_off() : f.zero_imm();
        case op::CALL:
            if (is32) return unknown_opcode(insn, pc);
            if (reg) {
                // callx: the callee's address is in dst.
                if (auto s = f.zero_src(); !s) return s;
                if (auto s = f.zero_off(); !s) return s;
                return f.zero_imm();
            }
            if (auto s = f.zero_dst(); !s) return s;
            if (auto s = f.zero_off(); !s) return s;
            if (insn.src > op::kCallHelperBtf) {
                return insn_error(
                    pc, fmt::format(
                            "call has unknown source {} (0: helper, 1: local function, 2: kfunc)",
                            insn.src));
            }
            return {};
        case op::EXIT:
            if (is32 || reg) return unknown_opcode(insn, pc);
            if (auto s = f.zero_src(); !s) return s;
            if (auto s = f.zero_dst(); !s) return s;
            if (auto s = f.zero_off(); !s) return s;
            return f.zero_imm();
        case 0xe0:
        case 0xf0: return unknown_opcode(insn, pc);
        default:
            if (reg) return f.zero_imm();
            return f.zero_src();
    }
}

Status validate_lddw(std::span<const Insn> program, const Insn& insn, size_t pc,
                     const ValidateOptions& options) {
    const FieldCheck f{insn, pc};
    if (pc + 1 >= program.size()) {
        return insn_error(pc,
                          "lddw is truncated: the second half of the 64-bit immediate is missing");
    }
    if (auto s = check_writes_dst(insn, pc); !s) return s;
    if (auto s = f.zero_off(); !s) return s;
    const Insn& hi = program[pc + 1];
    if (hi.opcode != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0) {
        return insn_error(pc + 1,
                          "the second slot of lddw must have opcode, registers and offset 0");
    }
    switch (insn.src) {
        case op::kImm64: return {};
        case op::kImmCodeAddr:
            if (hi.imm != 0)
                return insn_error(pc, "lddw of a function address must have upper immediate 0");
            return {};
        case op::kImmMapByFd:
        case op::kImmMapByIdx:
        case op::kImmVarAddr:
            if (hi.imm != 0)
                return insn_error(pc, "lddw of a map or variable must have upper immediate 0");
            [[fallthrough]];
        case op::kImmMapValueByFd:
        case op::kImmMapValueByIdx:
            if (options.require_resolved) {
                return insn_error(
                    pc, fmt::format("lddw with pseudo source {} was not resolved by the loader",
                                    insn.src));
            }
            return {};
        default: return insn_error(pc, fmt::format("lddw has unknown pseudo source {}", insn.src));
    }
}

Status validate_load_store(const Insn& insn, size_t pc) {
    const FieldCheck f{insn, pc};
    const uint8_t cls = insn_class(insn.opcode);
    const uint8_t mode = insn.opcode & op::kModeMask;
    const uint8_t size = insn.opcode & op::kSizeMask;
    switch (cls) {
        case op::LD:
            // Legacy packet access: 8, 16 or 32 bits, result in r0.
            if ((mode != op::ABS && mode != op::IND) || size == op::DW)
                return unknown_opcode(insn, pc);
            if (auto s = f.zero_dst(); !s) return s;
            if (auto s = f.zero_off(); !s) return s;
            return mode == op::ABS ? f.zero_src() : Status{};
        case op::LDX:
            if (mode != op::MEM && !(mode == op::MEMSX && size != op::DW))
                return unknown_opcode(insn, pc);
            if (auto s = check_writes_dst(insn, pc); !s) return s;
            return f.zero_imm();
        case op::ST:
            if (mode != op::MEM) return unknown_opcode(insn, pc);
            return f.zero_src();
        default:  // STX
            if (mode == op::MEM) return f.zero_imm();
            if (mode != op::ATOMIC || (size != op::W && size != op::DW))
                return unknown_opcode(insn, pc);
            switch (insn.imm) {
                case op::ADD:
                case op::OR:
                case op::AND:
                case op::XOR:
                case op::ADD | op::FETCH:
                case op::OR | op::FETCH:
                case op::AND | op::FETCH:
                case op::XOR | op::FETCH:
                case op::XCHG:
                case op::CMPXCHG: return {};
                default:
                    return insn_error(pc, fmt::format("unknown atomic operation {:#x}",
                                                      static_cast<uint32_t>(insn.imm)));
            }
    }
}

}  // namespace

Status validate_insn(std::span<const Insn> program, size_t pc, const ValidateOptions& options) {
    const Insn& insn = program[pc];
    if (auto s = check_registers(insn, pc); !s) return s;
    if (is_lddw(insn)) return validate_lddw(program, insn, pc, options);
    if (is_alu_class(insn.opcode)) return validate_alu(insn, pc);
    if (is_jmp_class(insn.opcode)) return validate_jmp(program, insn, pc);
    return validate_load_store(insn, pc);
}

int64_t branch_target(std::span<const Insn> program, size_t pc) {
    const Insn& insn = program[pc];
    const auto here = static_cast<int64_t>(pc);
    if (insn.opcode == op::JA32_INSN || insn.opcode == op::CALL_IMM || is_lddw(insn)) {
        return here + 1 + insn.imm;
    }
    return here + 1 + insn.off;
}

Status validate_program(std::span<const Insn> program, const ValidateOptions& options) {
    if (program.empty()) return Error("the program has no instructions");
    if (program.size() > options.max_instructions) {
        return Error(fmt::format("the program has {} instructions; the limit is {}", program.size(),
                                 options.max_instructions));
    }
    // First pass: each instruction, and which slots are lddw second halves.
    std::vector<bool> second_slot(program.size(), false);
    for (size_t pc = 0; pc < program.size(); ++pc) {
        if (auto s = validate_insn(program, pc, options); !s) return s;
        if (is_lddw(program[pc])) second_slot[++pc] = true;
    }
    // Second pass: control flow lands on instructions.
    const auto n = static_cast<int64_t>(program.size());
    for (size_t pc = 0; pc < program.size(); ++pc) {
        const Insn& insn = program[pc];
        if (second_slot[pc]) continue;
        const uint8_t cls = insn_class(insn.opcode);
        const uint8_t code = insn.opcode & op::kCodeMask;
        const char* what = nullptr;
        if ((cls == op::JMP || cls == op::JMP32) && code != op::EXIT && code != op::CALL) {
            what = "jump";
        } else if (insn.opcode == op::CALL_IMM && insn.src == op::kCallLocal) {
            what = "call";
        } else if (is_lddw(insn) && insn.src == op::kImmCodeAddr) {
            what = "function address";
        }
        if (what == nullptr) continue;
        const int64_t target = branch_target(program, pc);
        if (target < 0 || target >= n) {
            return insn_error(
                pc, fmt::format("{} target {} is outside the program (instructions 0 to {})", what,
                                target, n - 1));
        }
        if (second_slot[static_cast<size_t>(target)]) {
            return insn_error(pc, fmt::format("{} target {} is the second half of the lddw at {}",
                                              what, target, target - 1));
        }
    }
    // The last instruction must not fall through past the end.
    size_t last = program.size() - 1;
    if (second_slot[last]) last -= 1;
    const Insn& tail = program[last];
    const bool ends =
        tail.opcode == op::EXIT_INSN || tail.opcode == op::JA_INSN || tail.opcode == op::JA32_INSN;
    if (!ends) {
        return insn_error(
            last, "the program can run past its last instruction: it must end in exit or a jump");
    }
    return {};
}

}  // namespace xbpf
