// Deferred values (see code_generator.hpp). eBPF has only [reg + off] addressing and no
// scaled index, and masks shift counts explicitly where x86 masks them in hardware, so
// compilers spell a[i] as `rX = rA; rX += rB; load [rX + 0]` and a shift as `rY = rZ; rY &= 63;
// rW <<= rY`. Holding these values back until a use needs them lets the use absorb them: one
// memory operand instead of three instructions, a shift by rZ instead of a copy and a mask.
#include <bit>

#include "jit/x86_64/code_generator.hpp"
#include "jit/x86_64/frame_layout.hpp"

namespace xbpf::jit {

using namespace x64;

namespace {

// The register a load or store addresses memory through, or -1.
int memory_base(const Insn& insn) {
    switch (insn_class(insn.opcode)) {
        case op::LDX: return insn.src;
        case op::ST:
        case op::STX: return insn.dst;
        default: return -1;
    }
}

bool is_alu64(const Insn& insn, uint8_t code, uint8_t source) {
    return insn.opcode == (op::ALU64 | code | source);
}

bool is_shift_by_register(const Insn& insn) {
    if (!is_alu_class(insn.opcode) || (insn.opcode & op::kSourceMask) != op::X) return false;
    const uint8_t code = insn.opcode & op::kCodeMask;
    return code == op::LSH || code == op::RSH || code == op::ARSH;
}

// The eBPF registers whose x86 registers a deferred value is computed from (its base and
// index are always registers of eBPF registers).
struct InverseRegMap {
    RegSet bits[256] = {};
    constexpr InverseRegMap() {
        for (int r = 0; r < kRegisterCount; ++r)
            bits[kRegMap[r]] = reg_bit(r);
    }
};
constexpr InverseRegMap kInverseRegMap;

}  // namespace

RegSet CodeGenerator::made_of(int reg) const {
    const Deferred& d = deferred_[reg];
    return static_cast<RegSet>(kInverseRegMap.bits[d.base] | kInverseRegMap.bits[d.index]);
}

bool CodeGenerator::absorbs_as_count(int reg, Width w) const {
    if (!is_deferred(reg, Deferred::Masked)) return false;
    const int needed = w == W64 ? 63 : 31;
    return (deferred_[reg].disp & needed) == needed;
}

bool CodeGenerator::try_extend_deferred(size_t pc) {
    const Insn& insn = in_.program[pc];
    if (!is_deferred(insn.dst, Deferred::Address)) return false;
    Deferred& d = deferred_[insn.dst];
    if (is_alu64(insn, op::ADD, op::K)) {
        const int64_t disp = static_cast<int64_t>(d.disp) + insn.imm;
        if (!fits_int32(disp)) return false;
        d.disp = static_cast<int32_t>(disp);
        return true;
    }
    if (is_alu64(insn, op::ADD, op::X) && d.index == kNoReg && insn.src != insn.dst) {
        if (!is_deferred(insn.src)) {
            d.index = kRegMap[insn.src];
            return true;
        }
        if (is_deferred(insn.src, Deferred::Scaled)) {
            // rB = X << s stays deferred: the address uses X scaled.
            d.index = deferred_[insn.src].base;
            d.scale = deferred_[insn.src].scale;
            return true;
        }
    }
    return false;
}

size_t CodeGenerator::try_defer(size_t pc) {
    const Insn& insn = in_.program[pc];
    if (!may_start_deferred(insn.opcode) || blinding()) return 0;
    // Deferring pays off only with the instruction that follows, and only when nothing jumps
    // between them.
    if (pc + 1 >= in_.program.size() ||
        (facts_.flags[pc + 1] & (kJumpTarget | kFunctionStart)) != 0)
        return 0;
    const Insn& next = in_.program[pc + 1];
    const bool copy =
        (is_alu64(insn, op::MOV, op::X) || insn.opcode == (op::ALU | op::X | op::MOV)) &&
        insn.off == 0;
    if (copy && next.dst == insn.dst && is_alu_class(next.opcode) &&
        (next.opcode & ~op::kClassMask) == (op::K | op::AND) &&
        (next.imm == 63 || next.imm == 31)) {
        // rX = rA; rX &= 63 (in 32 or 64 bits, always rA & mask): a shift count.
        deferred_[insn.dst] = Deferred{Deferred::Masked, kRegMap[insn.src], kNoReg, 1, next.imm};
        deferred_set_ |= reg_bit(insn.dst);
        return 2;
    }
    if (is_alu64(insn, op::MOV, op::X) && insn.off == 0 && insn.src != insn.dst &&
        next.dst == insn.dst &&
        (is_alu64(next, op::ADD, op::K) || is_alu64(next, op::ADD, op::X))) {
        deferred_[insn.dst] = Deferred{Deferred::Address, kRegMap[insn.src], kNoReg, 1, 0};
        deferred_set_ |= reg_bit(insn.dst);
        return 1;
    }
    if (is_alu64(insn, op::LSH, op::K) && insn.imm >= 1 && insn.imm <= 3) {
        // rX <<= s: perhaps the scale of an index (`rY += rX` into an address); if not, the
        // shift is emitted when rX is next read, at the same cost.
        deferred_[insn.dst] = Deferred{Deferred::Scaled, kRegMap[insn.dst], kNoReg,
                                       static_cast<uint8_t>(1 << insn.imm), 0};
        deferred_set_ |= reg_bit(insn.dst);
        return 1;
    }
    return 0;
}

UseDef CodeGenerator::effective_use_def(size_t pc) const {
    if (is_read_modify_write(pc)) {
        // Fused into `op [m], rB`: reads the address and rB, writes no register (the loaded
        // register and rB are dead afterwards).
        const Insn& load = in_.program[pc];
        return UseDef{static_cast<RegSet>(reg_bit(load.src) | reg_bit(in_.program[pc + 1].dst)), 0};
    }
    return facts_.use_def[pc];
}

void CodeGenerator::materialize(int reg) {
    const Reg target = kRegMap[reg];
    // Whatever else is deferred through this register's current contents goes first.
    for_each_register(static_cast<RegSet>(deferred_set_ & ~reg_bit(reg)), [&](int r) {
        if (is_deferred(r) && (made_of(r) & reg_bit(reg)) != 0) materialize(r);
    });
    const Deferred d = deferred_[reg];
    deferred_set_ &= static_cast<RegSet>(~reg_bit(reg));
    switch (d.kind) {
        case Deferred::Address:
            // lea and mov leave the flags alone.
            if (d.index == kNoReg && d.disp == 0) return a_.mov(W64, target, d.base);
            return a_.lea(W64, target, Mem{d.base, d.disp, d.index, d.scale});
        case Deferred::Masked:
            a_.mov(W32, target, d.base);
            a_.alu_imm(AluOp::And, W32, target, d.disp);
            break;
        case Deferred::Scaled:
            a_.shift_imm(ShiftOp::Shl, W64, target,
                         static_cast<uint8_t>(std::countr_zero(d.scale)));
            break;
    }
    // The flags changed: a test against zero can no longer be left out.
    flags_before_ = {};
    flags_ = {};
}

void CodeGenerator::flush(RegSet keep) {
    for_each_register(deferred_set_, [&](int r) {
        if (!is_deferred(r)) return;  // materialised meanwhile
        if ((keep & reg_bit(r)) != 0) {
            materialize(r);
        } else {
            deferred_set_ &= static_cast<RegSet>(~reg_bit(r));
        }
    });
}

void CodeGenerator::prepare_for(size_t pc) {
    const Insn& insn = in_.program[pc];
    const uint8_t cls = insn_class(insn.opcode);
    if (is_jmp_class(insn.opcode) || cls == op::LD) {
        // Jumps, calls, exits and legacy loads: everything still needed is computed. Calls
        // compute everything: a callee or a tail-called program sees r6..r9.
        const bool call = is_jmp_class(insn.opcode) && (insn.opcode & op::kCodeMask) == op::CALL;
        flush(call ? static_cast<RegSet>(0x3ff) : facts_.live_before[pc]);
        return;
    }
    const UseDef ud = effective_use_def(pc);
    // Reads the instruction can absorb: the address of its memory access, the count of a shift.
    RegSet absorbed = 0;
    const int base = memory_base(insn);
    if (base >= 0 && is_deferred(base, Deferred::Address) &&
        fits_int32(static_cast<int64_t>(deferred_[base].disp) + insn.off) &&
        !(cls == op::STX && insn.src == base)) {
        absorbed |= reg_bit(base);
    }
    if (is_shift_by_register(insn) && insn.src != insn.dst &&
        absorbs_as_count(insn.src, insn_class(insn.opcode) == op::ALU64 ? W64 : W32)) {
        absorbed |= reg_bit(insn.src);
    }
    const auto other_reads = static_cast<RegSet>(ud.use & ~absorbed);
    for_each_register(deferred_set_, [&](int r) {
        if (!is_deferred(r)) return;  // materialised meanwhile
        if ((other_reads & reg_bit(r)) != 0) return materialize(r);
        // The instruction overwrites a register the deferred value is made of: compute it
        // first if it is needed afterwards.
        const bool stale = (ud.def & made_of(r) & ~reg_bit(r)) != 0;
        if (stale && facts_.live(pc, r) && (ud.def & reg_bit(r)) == 0) materialize(r);
    });
}

void CodeGenerator::retire_after(size_t pc) {
    const UseDef ud = effective_use_def(pc);
    for_each_register(deferred_set_, [&](int r) {
        if ((ud.def & (reg_bit(r) | made_of(r))) != 0)
            deferred_set_ &= static_cast<RegSet>(~reg_bit(r));
    });
}

}  // namespace xbpf::jit
