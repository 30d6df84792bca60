// Structural validation of instructions and programs (RFC 9669 encoding rules).
//
// One table describes every opcode: which fields it uses, which must be zero and which values
// the others may take. validate_insn() walks an instruction's rules and names the first broken
// one. validate_program() first tests each instruction against masks compiled from the same
// table, without a branch that depends on the opcode (a loader meets instructions in no
// predictable order, and mispredicted branches were most of the cost of validating), and asks
// validate_insn() only about instructions the masks cannot settle: broken ones, and the few
// whose rules are not masks (byte swaps, atomics, calls, lddw).
#include <cstring>

#include <fmt/format.h>

#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

// ---- The rules ----------------------------------------------------------------------------------

enum class SrcRule : uint8_t { Register, Zero, CallSource };
enum class OffRule : uint8_t {
    Any,
    Zero,
    Division,            // 0 (unsigned) or 1 (signed)
    SignExtendNeedsReg,  // mov with an immediate: 0 only, else "needs a source register"
    SignExtend32,        // 32-bit mov from a register: 0, 8 or 16
    SignExtend64,        // 64-bit mov from a register: 0, 8, 16 or 32
};
enum class ImmRule : uint8_t { Any, Zero, SwapWidth, AtomicOp };

struct OpcodeRule {
    bool known = false;
    bool lddw = false;  // two slots: validate_lddw()
    bool writes_dst = false;
    bool zero_dst = false;
    SrcRule src = SrcRule::Register;
    OffRule off = OffRule::Zero;
    ImmRule imm = ImmRule::Zero;
    bool jump = false;  // a jump (branch_target); calls and lddw: see validate_program()
};

constexpr OpcodeRule alu_rule(uint8_t opcode) {
    OpcodeRule r;
    const bool is64 = insn_class(opcode) == op::ALU64;
    const uint8_t code = opcode & op::kCodeMask;
    const bool reg = (opcode & op::kSourceMask) == op::X;
    if (code > op::END) return r;
    if (code == op::END && is64 && reg) return r;  // 0xdf has no meaning
    if (code == op::NEG && reg) return r;
    r.known = true;
    r.writes_dst = true;
    if (code == op::END) {
        r.src = SrcRule::Zero;
        r.imm = ImmRule::SwapWidth;
        return r;
    }
    if (code == op::NEG) {
        r.src = SrcRule::Zero;
        return r;
    }
    r.src = reg ? SrcRule::Register : SrcRule::Zero;
    r.imm = reg ? ImmRule::Zero : ImmRule::Any;
    if (code == op::DIV || code == op::MOD) r.off = OffRule::Division;
    if (code == op::MOV) {
        r.off = !reg   ? OffRule::SignExtendNeedsReg
                : is64 ? OffRule::SignExtend64
                       : OffRule::SignExtend32;
    }
    return r;
}

constexpr OpcodeRule jmp_rule(uint8_t opcode) {
    OpcodeRule r;
    const bool is32 = insn_class(opcode) == op::JMP32;
    const uint8_t code = opcode & op::kCodeMask;
    const bool reg = (opcode & op::kSourceMask) == op::X;
    switch (code) {
        case op::JA:
            if (reg) return r;
            r.zero_dst = true;
            r.src = SrcRule::Zero;
            // `goto` keeps its target in off; `gotol` (JMP32) in imm.
            r.off = is32 ? OffRule::Zero : OffRule::Any;
            r.imm = is32 ? ImmRule::Any : ImmRule::Zero;
            r.jump = true;
            break;
        case op::CALL:
            if (is32) return r;
            if (reg) {
                r.src = SrcRule::Zero;  // callx: the callee's address is in dst
            } else {
                r.zero_dst = true;
                r.src = SrcRule::CallSource;
                r.imm = ImmRule::Any;
            }
            break;
        case op::EXIT:
            if (is32 || reg) return r;
            r.zero_dst = true;
            r.src = SrcRule::Zero;
            break;
        case 0xe0:
        case 0xf0: return r;
        default:
            r.src = reg ? SrcRule::Register : SrcRule::Zero;
            r.imm = reg ? ImmRule::Zero : ImmRule::Any;
            r.off = OffRule::Any;
            r.jump = true;
            break;
    }
    r.known = true;
    return r;
}

constexpr OpcodeRule load_store_rule(uint8_t opcode) {
    OpcodeRule r;
    const uint8_t mode = opcode & op::kModeMask;
    const uint8_t size = opcode & op::kSizeMask;
    switch (insn_class(opcode)) {
        case op::LD:
            if (opcode == op::LDDW) {
                r.known = r.lddw = true;
                return r;
            }
            // Legacy packet access: 8, 16 or 32 bits, result in r0.
            if ((mode != op::ABS && mode != op::IND) || size == op::DW) return r;
            r.zero_dst = true;
            r.src = mode == op::ABS ? SrcRule::Zero : SrcRule::Register;
            r.imm = ImmRule::Any;
            break;
        case op::LDX:
            if (mode != op::MEM && !(mode == op::MEMSX && size != op::DW)) return r;
            r.writes_dst = true;
            r.off = OffRule::Any;
            break;
        case op::ST:
            if (mode != op::MEM) return r;
            r.src = SrcRule::Zero;
            r.off = OffRule::Any;
            r.imm = ImmRule::Any;
            break;
        default:  // STX
            if (mode != op::MEM && (mode != op::ATOMIC || (size != op::W && size != op::DW)))
                return r;
            r.off = OffRule::Any;
            r.imm = mode == op::ATOMIC ? ImmRule::AtomicOp : ImmRule::Zero;
            break;
    }
    r.known = true;
    return r;
}

constexpr OpcodeRule rule_of(uint8_t opcode) {
    if (is_alu_class(opcode)) return alu_rule(opcode);
    if (is_jmp_class(opcode)) return jmp_rule(opcode);
    return load_store_rule(opcode);
}

struct RuleTable {
    OpcodeRule rules[256];
    constexpr RuleTable() : rules() {
        for (int i = 0; i < 256; ++i)
            rules[i] = rule_of(static_cast<uint8_t>(i));
    }
};
constexpr RuleTable kRules;

// ---- Exact checking, with messages ------------------------------------------------------------

Error insn_error(size_t pc, std::string message) {
    return std::move(Error(std::move(message)).in(fmt::format("instruction {}", pc)));
}

Status reserved(const Insn& insn, size_t pc, const char* field, int64_t value) {
    return insn_error(pc, fmt::format("opcode {:#04x} uses reserved field {} = {}, which must be 0",
                                      insn.opcode, field, value));
}

bool is_atomic_op(int32_t imm) {
    switch (imm) {
        case op::ADD:
        case op::OR:
        case op::AND:
        case op::XOR:
        case op::ADD | op::FETCH:
        case op::OR | op::FETCH:
        case op::AND | op::FETCH:
        case op::XOR | op::FETCH:
        case op::XCHG:
        case op::CMPXCHG: return true;
        default: return false;
    }
}

Status check_off(const Insn& insn, size_t pc, OffRule rule) {
    const int off = insn.off;
    switch (rule) {
        case OffRule::Any: return {};
        case OffRule::Zero: return off == 0 ? Status{} : reserved(insn, pc, "offset", off);
        case OffRule::Division:
            if (off == 0 || off == 1) return {};
            return insn_error(
                pc, fmt::format("offset {} of a division is not 0 (unsigned) or 1 (signed)", off));
        case OffRule::SignExtendNeedsReg:
            if (off == 0) return {};
            return insn_error(pc, "a sign-extending move (offset != 0) needs a source register");
        case OffRule::SignExtend32:
        case OffRule::SignExtend64: {
            const bool is64 = rule == OffRule::SignExtend64;
            if (off == 0 || off == 8 || off == 16 || (is64 && off == 32)) return {};
            return insn_error(
                pc, fmt::format("sign-extending move from {} bits is not defined for {}-bit moves",
                                off, is64 ? 64 : 32));
        }
    }
    return {};
}

Status check_imm(const Insn& insn, size_t pc, ImmRule rule) {
    switch (rule) {
        case ImmRule::Any: return {};
        case ImmRule::Zero:
            return insn.imm == 0 ? Status{} : reserved(insn, pc, "immediate", insn.imm);
        case ImmRule::SwapWidth:
            if (insn.imm == 16 || insn.imm == 32 || insn.imm == 64) return {};
            return insn_error(pc, fmt::format("byte swap width {} is not 16, 32 or 64", insn.imm));
        case ImmRule::AtomicOp:
            if (is_atomic_op(insn.imm)) return {};
            return insn_error(
                pc, fmt::format("unknown atomic operation {:#x}", static_cast<uint32_t>(insn.imm)));
    }
    return {};
}

Status validate_lddw(std::span<const Insn> program, const Insn& insn, size_t pc,
                     const ValidateOptions& options) {
    if (pc + 1 >= program.size()) {
        return insn_error(pc,
                          "lddw is truncated: the second half of the 64-bit immediate is missing");
    }
    if (insn.dst == kFramePointer)
        return insn_error(pc, "r10 is the read-only frame pointer and cannot be written");
    if (insn.off != 0) return reserved(insn, pc, "offset", insn.off);
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

// ---- The masks validate_program() tries first -------------------------------------------------

// An instruction as the 64-bit little-endian word it is on the wire (Insn's layout is the
// encoding: decode() copies bytes into it): opcode in bits 0-7, dst 8-11, src 12-15, off 16-31,
// imm 32-63.
inline uint64_t word_of(const Insn& insn) {
    uint64_t w;
    std::memcpy(&w, &insn, sizeof w);
    return w;
}
constexpr uint64_t kDstBits = 0xfull << 8, kSrcBits = 0xfull << 12;
constexpr uint64_t kOffBits = 0xffffull << 16, kImmBits = 0xffffffffull << 32;

// Per opcode: the bits of the word that must be zero, and what masks alone cannot express.
struct FastRule {
    uint64_t zero_bits = 0;
    uint64_t off_values = 0;  // with kOffValues: the offsets allowed, as bits 0..63
    uint8_t flags = 0;
};
enum : uint8_t {
    kAskExact = 1 << 0,   // unknown opcode, or a rule only validate_insn() checks
    kWritesDst = 1 << 1,  // dst may not be r10 (the same bit as kDstIsFramePointer below)
    kOffValues = 1 << 2,  // off must be one of off_values
    kJump = 1 << 3,       // a jump to branch_target()
};

constexpr FastRule fast_rule(const OpcodeRule& r) {
    FastRule f;
    const bool masks_suffice = r.known && !r.lddw && r.src != SrcRule::CallSource &&
                               r.imm != ImmRule::SwapWidth && r.imm != ImmRule::AtomicOp;
    if (!masks_suffice) {
        f.flags = kAskExact;
        return f;
    }
    if (r.zero_dst) f.zero_bits |= kDstBits;
    if (r.src == SrcRule::Zero) f.zero_bits |= kSrcBits;
    if (r.imm == ImmRule::Zero) f.zero_bits |= kImmBits;
    switch (r.off) {
        case OffRule::Any: break;
        case OffRule::Zero:
        case OffRule::SignExtendNeedsReg: f.zero_bits |= kOffBits; break;
        case OffRule::Division: f.zero_bits |= kOffBits & ~(1ull << 16); break;  // 0 or 1
        case OffRule::SignExtend32:
            f.flags |= kOffValues;
            f.off_values = 1ull << 0 | 1ull << 8 | 1ull << 16;
            break;
        case OffRule::SignExtend64:
            f.flags |= kOffValues;
            f.off_values = 1ull << 0 | 1ull << 8 | 1ull << 16 | 1ull << 32;
            break;
    }
    if (r.writes_dst) f.flags |= kWritesDst;
    if (r.jump) f.flags |= kJump;
    return f;
}

struct FastTable {
    FastRule rules[256];
    constexpr FastTable() : rules() {
        for (int i = 0; i < 256; ++i)
            rules[i] = fast_rule(kRules.rules[i]);
    }
};
constexpr FastTable kFast;

// Per register byte (dst in the low nibble, src in the high one): a register past r10, and
// whether dst is r10.
enum : uint8_t { kBadRegister = kAskExact, kDstIsFramePointer = kWritesDst };
struct RegisterByteTable {
    uint8_t flags[256] = {};
    constexpr RegisterByteTable() {
        for (int b = 0; b < 256; ++b) {
            const int dst = b & 0xf, src = b >> 4;
            flags[b] = static_cast<uint8_t>(
                (dst >= kRegisterCount || src >= kRegisterCount ? kBadRegister : 0) |
                (dst == kFramePointer ? kDstIsFramePointer : 0));
        }
    }
};
constexpr RegisterByteTable kRegisterBytes;

// Whether the masks show the instruction well formed; false means "ask validate_insn()".
inline bool passes_masks(uint64_t w, const FastRule& f) {
    const auto off = static_cast<uint16_t>(w >> 16);
    // Bitwise | and & instead of || and &&: every term is computed, none is a branch. A bad
    // register always fails; dst == r10 fails where the opcode writes dst; kAskExact always.
    const unsigned flags = kRegisterBytes.flags[(w >> 8) & 0xff] & (f.flags | kBadRegister);
    const bool off_ok =
        ((f.flags & kOffValues) == 0) | ((off < 64) & (((f.off_values >> (off & 63)) & 1) != 0));
    return ((w & f.zero_bits) == 0) & (flags == 0) & off_ok & ((f.flags & kAskExact) == 0);
}

// A control transfer found by validate_program(), checked once every lddw is known.
struct Transfer {
    uint32_t pc;
    int64_t target;
};

const char* transfer_kind(const Insn& insn) {
    if (insn.opcode == op::CALL_IMM) return "call";
    if (is_lddw(insn)) return "function address";
    return "jump";
}

}  // namespace

Status validate_insn(std::span<const Insn> program, size_t pc, const ValidateOptions& options) {
    const Insn& insn = program[pc];
    if (insn.dst >= kRegisterCount)
        return insn_error(pc, fmt::format("bad register r{} (dst)", insn.dst));
    if (insn.src >= kRegisterCount)
        return insn_error(pc, fmt::format("bad register r{} (src)", insn.src));
    const OpcodeRule& r = kRules.rules[insn.opcode];
    if (!r.known) return insn_error(pc, fmt::format("unknown opcode {:#04x}", insn.opcode));
    if (r.lddw) return validate_lddw(program, insn, pc, options);
    if (r.writes_dst && insn.dst == kFramePointer)
        return insn_error(pc, "r10 is the read-only frame pointer and cannot be written");
    // When several fields are wrong, the one named is the first in this order.
    if (r.src == SrcRule::Zero && insn.src != 0) return reserved(insn, pc, "src", insn.src);
    if (r.zero_dst && insn.dst != 0) return reserved(insn, pc, "dst", insn.dst);
    if (auto s = check_off(insn, pc, r.off); !s) return s;
    if (auto s = check_imm(insn, pc, r.imm); !s) return s;
    if (r.src == SrcRule::CallSource && insn.src > op::kCallHelperBtf) {
        return insn_error(
            pc, fmt::format("call has unknown source {} (0: helper, 1: local function, 2: kfunc)",
                            insn.src));
    }
    return {};
}

Status validate_program(std::span<const Insn> program, const ValidateOptions& options) {
    if (program.empty()) return Error("the program has no instructions");
    const size_t n = program.size();
    if (n > options.max_instructions) {
        return Error(fmt::format("the program has {} instructions; the limit is {}", n,
                                 options.max_instructions));
    }
    // First pass: each instruction; which slots are lddw second halves; every control transfer.
    std::vector<uint64_t> second_slot((n + 63) / 64, 0);
    std::vector<Transfer> transfers(n);
    size_t count = 0;
    for (size_t pc = 0; pc < n; ++pc) {
        const Insn& insn = program[pc];
        const uint64_t w = word_of(insn);
        const FastRule& f = kFast.rules[w & 0xff];
        if (passes_masks(w, f)) [[likely]] {
            // Recorded unconditionally, kept only for jumps.
            transfers[count] = Transfer{static_cast<uint32_t>(pc), branch_target(program, pc)};
            count += (f.flags & kJump) != 0;
            continue;
        }
        if (auto s = validate_insn(program, pc, options); !s) return s;
        const bool local_call = insn.opcode == op::CALL_IMM && insn.src == op::kCallLocal;
        const bool code_address = is_lddw(insn) && insn.src == op::kImmCodeAddr;
        if (local_call || code_address)
            transfers[count++] = Transfer{static_cast<uint32_t>(pc), branch_target(program, pc)};
        if (is_lddw(insn)) {
            ++pc;
            second_slot[pc / 64] |= 1ull << (pc % 64);
        }
    }
    // Second pass: control transfers land on instructions.
    const auto last_pc = static_cast<int64_t>(n) - 1;
    for (size_t i = 0; i < count; ++i) {
        const auto [pc, target] = transfers[i];
        const bool outside = target < 0 || target > last_pc;
        if (!outside) {
            const auto t = static_cast<size_t>(target);
            if (((second_slot[t / 64] >> (t % 64)) & 1) == 0) continue;
            return insn_error(pc, fmt::format("{} target {} is the second half of the lddw at {}",
                                              transfer_kind(program[pc]), target, target - 1));
        }
        return insn_error(pc,
                          fmt::format("{} target {} is outside the program (instructions 0 to {})",
                                      transfer_kind(program[pc]), target, last_pc));
    }
    // The last instruction must not fall off the end.
    size_t last = n - 1;
    if (((second_slot[last / 64] >> (last % 64)) & 1) != 0) last -= 1;
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
