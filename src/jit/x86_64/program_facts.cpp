// Control-flow facts and register liveness (a backward data-flow fixpoint) for the JIT.
#include "jit/x86_64/program_facts.hpp"

#include "xbpf/isa.hpp"

namespace xbpf::jit {
UseDef use_def(const Insn& insn) {
    const RegSet dst = reg_bit(insn.dst);
    const RegSet src = reg_bit(insn.src);
    const bool x = (insn.opcode & op::kSourceMask) == op::X;
    const uint8_t code = insn.opcode & op::kCodeMask;
    switch (insn_class(insn.opcode)) {
        case op::ALU:
        case op::ALU64:
            if (code == op::MOV) return {static_cast<RegSet>(x ? src : 0), dst};
            if (code == op::NEG || code == op::END) return {dst, dst};
            return {static_cast<RegSet>(dst | (x ? src : 0)), dst};
        case op::LDX: return {src, dst};
        case op::ST: return {dst, 0};
        case op::STX:
            if ((insn.opcode & op::kModeMask) != op::ATOMIC)
                return {static_cast<RegSet>(dst | src), 0};
            if (insn.imm == op::CMPXCHG)
                return {static_cast<RegSet>(dst | src | reg_bit(0)), reg_bit(0)};
            if ((insn.imm & op::FETCH) != 0) return {static_cast<RegSet>(dst | src), src};
            return {static_cast<RegSet>(dst | src), 0};
        case op::LD:
            if (is_lddw(insn)) return {0, dst};
            // Legacy packet loads read the packet from the RunContext, not from r6.
            if ((insn.opcode & op::kModeMask) == op::IND) return {src, reg_bit(0)};
            return {0, reg_bit(0)};
        default: {  // JMP, JMP32
            if (code == op::JA) return {};
            if (code == op::EXIT) return {reg_bit(0), 0};
            if (code == op::CALL) {
                // Calls read r1..r5 and leave r0..r5 as the callee or helper left them.
                return {static_cast<RegSet>(kCallArgs | (x ? dst : 0)), kCallClobbers};
            }
            return {static_cast<RegSet>(dst | (x ? src : 0)), 0};
        }
    }
}

bool falls_through(const Insn& insn) {
    if (!is_jmp_class(insn.opcode)) return true;
    const uint8_t code = insn.opcode & op::kCodeMask;
    return code != op::JA && code != op::EXIT;
}

ProgramFacts analyze_program(std::span<const Insn> program) {
    const size_t n = program.size();
    ProgramFacts facts;
    facts.flags.assign(n, 0);
    facts.live_after.assign(n, 0);
    facts.flags[0] |= kFunctionStart;

    // Successors: next (fall-through) and jump target, -1 for none.
    std::vector<int32_t> target(n, -1);
    for (size_t pc = 0; pc < n; ++pc) {
        const Insn& insn = program[pc];
        if (is_lddw(insn)) {
            if (insn.src == op::kImmCodeAddr)
                facts.flags[static_cast<size_t>(branch_target(program, pc))] |= kFunctionStart;
            facts.flags[++pc] |= kSecondSlot;
            continue;
        }
        if (!is_jmp_class(insn.opcode)) continue;
        const uint8_t code = insn.opcode & op::kCodeMask;
        if (code == op::EXIT) continue;
        if (code == op::CALL) {
            if (insn.src == op::kCallLocal && (insn.opcode & op::kSourceMask) == op::K)
                facts.flags[static_cast<size_t>(branch_target(program, pc))] |= kFunctionStart;
            continue;
        }
        const auto t = static_cast<size_t>(branch_target(program, pc));
        target[pc] = static_cast<int32_t>(t);
        facts.flags[t] |= kJumpTarget;
        if (t <= pc) facts.flags[t] |= kLoopHead;
    }
    for (size_t pc = 0; pc < n; ++pc) {
        if (facts.is(pc, kFunctionStart)) facts.functions.push_back(static_cast<uint32_t>(pc));
    }

    // Liveness: live_in = use | (live_out & ~def), iterated backwards to a fixpoint.
    std::vector<UseDef> ud(n);
    for (size_t pc = 0; pc < n; ++pc) {
        if (!facts.is(pc, kSecondSlot)) ud[pc] = use_def(program[pc]);
    }
    std::vector<RegSet>& live_in = facts.live_before;
    live_in.assign(n + 1, 0);
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = n; i-- > 0;) {
            if (facts.is(i, kSecondSlot)) continue;
            const Insn& insn = program[i];
            RegSet out = 0;
            if (falls_through(insn)) {
                const size_t next = i + (is_lddw(insn) ? 2 : 1);
                if (next < n) out |= live_in[next];
            }
            if (target[i] >= 0) out |= live_in[static_cast<size_t>(target[i])];
            facts.live_after[i] = out;
            const auto in = static_cast<RegSet>(ud[i].use | (out & ~ud[i].def));
            if (in != live_in[i]) {
                live_in[i] = in;
                changed = true;
            }
        }
    }
    return facts;
}

}  // namespace xbpf::jit
