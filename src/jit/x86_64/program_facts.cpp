// Control-flow facts and register liveness (a backward data-flow fixpoint) for the JIT.
#include "jit/x86_64/program_facts.hpp"

#include "xbpf/isa.hpp"

namespace xbpf::jit {
namespace {

// What each opcode reads and writes, as flags, so that use_def() is a table lookup instead of
// a switch (random and real programs alike mispredict a switch on opcodes often).
enum : uint16_t {
    kUsesDst = 1 << 0,
    kUsesSrc = 1 << 1,
    kDefsDst = 1 << 2,
    kUsesR0 = 1 << 3,
    kDefsR0 = 1 << 4,
    kCall = 1 << 5,    // reads r1..r5, leaves r0..r5 undefined
    kAtomic = 1 << 6,  // depends on imm
    kNoFallThrough = 1 << 7,
};

constexpr uint16_t flags_of(uint8_t opcode) {
    const uint8_t code = opcode & op::kCodeMask;
    const bool x = (opcode & op::kSourceMask) == op::X;
    const uint16_t src = x ? kUsesSrc : 0;
    switch (insn_class(opcode)) {
        case op::ALU:
        case op::ALU64:
            if (code == op::MOV) return src | kDefsDst;
            if (code == op::NEG || code == op::END) return kUsesDst | kDefsDst;
            return kUsesDst | src | kDefsDst;
        case op::LDX: return kUsesSrc | kDefsDst;
        case op::ST: return kUsesDst;
        case op::STX:
            if ((opcode & op::kModeMask) == op::ATOMIC) return kAtomic;
            return kUsesDst | kUsesSrc;
        case op::LD:
            if (opcode == op::LDDW) return kDefsDst;
            // Legacy packet loads read the packet from the RunContext, not from r6.
            if ((opcode & op::kModeMask) == op::IND) return kUsesSrc | kDefsR0;
            return kDefsR0;
        default:  // JMP, JMP32
            if (code == op::JA) return kNoFallThrough;
            if (code == op::EXIT) return kUsesR0 | kNoFallThrough;
            if (code == op::CALL) return kCall | (x ? kUsesDst : 0);
            return kUsesDst | src;
    }
}

struct OpcodeTable {
    uint16_t flags[256];
    constexpr OpcodeTable() : flags() {
        for (int i = 0; i < 256; ++i)
            flags[i] = flags_of(static_cast<uint8_t>(i));
    }
};
constexpr OpcodeTable kOpcodes;

}  // namespace

UseDef use_def(const Insn& insn) {
    const uint16_t f = kOpcodes.flags[insn.opcode];
    const RegSet dst = reg_bit(insn.dst);
    const RegSet src = reg_bit(insn.src);
    if ((f & kAtomic) != 0) {
        if (insn.imm == op::CMPXCHG)
            return {static_cast<RegSet>(dst | src | reg_bit(0)), reg_bit(0)};
        if ((insn.imm & op::FETCH) != 0) return {static_cast<RegSet>(dst | src), src};
        return {static_cast<RegSet>(dst | src), 0};
    }
    // Flag bit -> all-ones mask, so the sets are assembled without branches.
    auto when = [f](uint16_t flag, RegSet set) {
        return static_cast<RegSet>(set & -static_cast<RegSet>((f & flag) != 0));
    };
    return {static_cast<RegSet>(when(kUsesDst, dst) | when(kUsesSrc, src) |
                                when(kUsesR0, reg_bit(0)) | when(kCall, kCallArgs)),
            static_cast<RegSet>(when(kDefsDst, dst) | when(kDefsR0, reg_bit(0)) |
                                when(kCall, kCallClobbers))};
}

bool falls_through(const Insn& insn) {
    return (kOpcodes.flags[insn.opcode] & kNoFallThrough) == 0;
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

    // Liveness: live_in = use | (live_out & ~def), iterated backwards to a fixpoint. The
    // successors are worked out once; each pass is then a tight loop.
    std::vector<UseDef>& ud = facts.use_def;
    ud.assign(n, UseDef{});
    std::vector<int32_t> next(n, -1);
    for (size_t pc = 0; pc < n; ++pc) {
        if (facts.is(pc, kSecondSlot)) continue;
        const Insn& insn = program[pc];
        ud[pc] = use_def(insn);
        const size_t after = pc + (is_lddw(insn) ? 2 : 1);
        if (falls_through(insn) && after < n) next[pc] = static_cast<int32_t>(after);
    }
    // Jump sources by target (compressed rows), to revisit only what a change can affect.
    std::vector<uint32_t> first_source(n + 1, 0), sources;
    for (size_t pc = 0; pc < n; ++pc) {
        if (target[pc] >= 0) ++first_source[static_cast<size_t>(target[pc]) + 1];
    }
    for (size_t i = 0; i < n; ++i)
        first_source[i + 1] += first_source[i];
    sources.resize(first_source[n]);
    {
        std::vector<uint32_t> fill(first_source.begin(), first_source.end() - 1);
        for (size_t pc = 0; pc < n; ++pc) {
            if (target[pc] >= 0)
                sources[fill[static_cast<size_t>(target[pc])]++] = static_cast<uint32_t>(pc);
        }
    }
    // Sweeps from the end to the start over the instructions marked dirty; a change marks the
    // instructions that flow into this one. Only loops need a second sweep, over what changed.
    std::vector<RegSet>& live_in = facts.live_before;
    live_in.assign(n, 0);
    std::vector<uint64_t> dirty((n + 63) / 64, ~0ull);
    auto mark = [&dirty](size_t i) { dirty[i / 64] |= 1ull << (i % 64); };
    for (bool again = true; again;) {
        again = false;
        for (size_t w = dirty.size(); w-- > 0;) {
            while (dirty[w] != 0) {
                const size_t i = w * 64 + 63 - static_cast<size_t>(__builtin_clzll(dirty[w]));
                dirty[w] &= ~(1ull << (i % 64));
                if (i >= n) continue;  // (second lddw slots: no successors, no effect)
                RegSet out = 0;
                if (next[i] >= 0) out |= live_in[static_cast<size_t>(next[i])];
                if (target[i] >= 0) out |= live_in[static_cast<size_t>(target[i])];
                facts.live_after[i] = out;
                const auto in = static_cast<RegSet>(ud[i].use | (out & ~ud[i].def));
                if (in == live_in[i]) continue;
                live_in[i] = in;
                // Whatever runs into i: the instruction before (if it falls through) and jumps.
                if (i > 0) {
                    const size_t before = facts.is(i - 1, kSecondSlot) ? i - 2 : i - 1;
                    if (next[before] == static_cast<int32_t>(i)) mark(before);
                }
                for (uint32_t k = first_source[i]; k < first_source[i + 1]; ++k) {
                    mark(sources[k]);
                    if (sources[k] > i) again = true;  // behind this sweep: sweep again
                }
            }
        }
    }
    return facts;
}

}  // namespace xbpf::jit
