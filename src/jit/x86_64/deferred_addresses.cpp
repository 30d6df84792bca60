// Deferred address arithmetic (see code_generator.hpp). eBPF has only [reg + off] addressing,
// so compilers spell a[i] as `rX = rA; rX += rB; load [rX + 0]`; x86 addresses [rA + rB + off]
// directly. Holding such chains back until a use needs the value turns three instructions
// into one memory operand (or one lea when the value is needed after all).
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

}  // namespace

Mem CodeGenerator::address(int reg, int32_t off) const {
    if (!is_deferred(reg)) return Mem{kRegMap[reg], off};
    const Deferred& d = deferred_[reg];
    return Mem{d.base, d.disp + off, d.index, 1};
}

bool CodeGenerator::try_extend_deferred(size_t pc) {
    const Insn& insn = in_.program[pc];
    if (!is_deferred(insn.dst)) return false;
    Deferred& d = deferred_[insn.dst];
    if (is_alu64(insn, op::ADD, op::K)) {
        const int64_t disp = static_cast<int64_t>(d.disp) + insn.imm;
        if (!fits_int32(disp)) return false;
        d.disp = static_cast<int32_t>(disp);
        return true;
    }
    if (is_alu64(insn, op::ADD, op::X) && d.index == kNoReg && insn.src != insn.dst &&
        !is_deferred(insn.src)) {
        d.index = kRegMap[insn.src];
        return true;
    }
    return false;
}

bool CodeGenerator::try_defer(size_t pc) {
    const Insn& insn = in_.program[pc];
    if (blinding() || !is_alu64(insn, op::MOV, op::X) || insn.off != 0 || insn.src == insn.dst)
        return false;
    // Only worth it when an addition follows (a lone copy costs the same either way) and
    // nothing jumps between them.
    if (pc + 1 >= in_.program.size() ||
        (facts_.flags[pc + 1] & (kJumpTarget | kFunctionStart)) != 0)
        return false;
    const Insn& next = in_.program[pc + 1];
    if (next.dst != insn.dst ||
        (!is_alu64(next, op::ADD, op::K) && !is_alu64(next, op::ADD, op::X)))
        return false;
    deferred_[insn.dst] = Deferred{kRegMap[insn.src], kNoReg, 0};
    deferred_set_ |= reg_bit(insn.dst);
    return true;
}

void CodeGenerator::materialize(int reg) {
    const Reg target = kRegMap[reg];
    // Whatever else is deferred through this register's old value must be computed first.
    for (int r = 0; r < kFramePointer; ++r) {
        if (r != reg && is_deferred(r) &&
            (deferred_[r].base == target || deferred_[r].index == target))
            materialize(r);
    }
    const Deferred& d = deferred_[reg];
    deferred_set_ &= static_cast<RegSet>(~reg_bit(reg));
    if (d.index == kNoReg && d.disp == 0) {
        a_.mov(W64, target, d.base);
    } else {
        a_.lea(W64, target, Mem{d.base, d.disp, d.index, 1});
    }
}

void CodeGenerator::flush(RegSet keep) {
    for (int r = 0; r < kFramePointer; ++r) {
        if (!is_deferred(r)) continue;
        if ((keep & reg_bit(r)) != 0) {
            materialize(r);
        } else {
            deferred_set_ &= static_cast<RegSet>(~reg_bit(r));
        }
    }
}

void CodeGenerator::prepare_for(size_t pc) {
    if (deferred_set_ == 0) return;
    const Insn& insn = in_.program[pc];
    const uint8_t cls = insn_class(insn.opcode);
    if (is_jmp_class(insn.opcode) || cls == op::LD) {
        // Jumps, calls, exits and legacy loads: everything still needed is computed. Calls
        // compute everything: a callee or a tail-called program sees r6..r9.
        const bool call = is_jmp_class(insn.opcode) && (insn.opcode & op::kCodeMask) == op::CALL;
        flush(call ? static_cast<RegSet>(0x3ff) : facts_.live_before[pc]);
        return;
    }
    const UseDef& ud = facts_.use_def[pc];
    const int base = memory_base(insn);
    // Reads other than as the address of this instruction's memory access.
    RegSet other_reads = ud.use;
    if (base >= 0) {
        other_reads &= static_cast<RegSet>(~reg_bit(base));
        if (cls == op::STX && insn.src == base) other_reads |= reg_bit(base);
        if (is_deferred(base)) {
            const int64_t disp = static_cast<int64_t>(deferred_[base].disp) + insn.off;
            if (!fits_int32(disp)) other_reads |= reg_bit(base);
        }
    }
    for (int r = 0; r < kFramePointer; ++r) {
        if (!is_deferred(r)) continue;
        if ((other_reads & reg_bit(r)) != 0) {
            materialize(r);
            continue;
        }
        // The instruction overwrites a register the deferred value is made of: compute it
        // first if it is needed afterwards.
        bool stale = false;
        for (int w = 0; w < kFramePointer; ++w) {
            if ((ud.def & reg_bit(w)) != 0 &&
                (deferred_[r].base == kRegMap[w] || deferred_[r].index == kRegMap[w]))
                stale = true;
        }
        if (stale && facts_.live(pc, r) && (ud.def & reg_bit(r)) == 0) materialize(r);
    }
}

void CodeGenerator::retire_after(size_t pc) {
    if (deferred_set_ == 0) return;
    const UseDef& ud = facts_.use_def[pc];
    for (int r = 0; r < kFramePointer; ++r) {
        if (!is_deferred(r)) continue;
        bool stale = (ud.def & reg_bit(r)) != 0;
        for (int w = 0; w < kFramePointer; ++w) {
            if ((ud.def & reg_bit(w)) != 0 &&
                (deferred_[r].base == kRegMap[w] || deferred_[r].index == kRegMap[w]))
                stale = true;
        }
        if (stale) deferred_set_ &= static_cast<RegSet>(~reg_bit(r));
    }
}

}  // namespace xbpf::jit
