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
    kJump = 1 << 8,     // a jump to branch_target()
    kSpecial = 1 << 9,  // lddw or call: analyze_program() looks closer
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
            if (opcode == op::LDDW) return kDefsDst | kSpecial;
            // Legacy packet loads read the packet from the RunContext, not from r6.
            if ((opcode & op::kModeMask) == op::IND) return kUsesSrc | kDefsR0;
            return kDefsR0;
        default:  // JMP, JMP32
            if (code == op::JA) return kNoFallThrough | kJump;
            if (code == op::EXIT) return kUsesR0 | kNoFallThrough;
            if (code == op::CALL) return kCall | kSpecial | (x ? kUsesDst : 0);
            return kUsesDst | src | kJump;
    }
}

// Per opcode: the flags, and the register sets they make, as masks to apply to the
// instruction's own dst and src bits.
struct OpcodeInfo {
    uint16_t flags = 0;
    RegSet use_dst = 0, use_src = 0, use_fixed = 0;
    RegSet def_dst = 0, def_fixed = 0;
};

constexpr OpcodeInfo info_of(uint8_t opcode) {
    const uint16_t f = flags_of(opcode);
    auto all_if = [f](uint16_t flag) { return static_cast<RegSet>((f & flag) != 0 ? 0xffff : 0); };
    OpcodeInfo info;
    info.flags = f;
    info.use_dst = all_if(kUsesDst);
    info.use_src = all_if(kUsesSrc);
    info.use_fixed =
        static_cast<RegSet>((all_if(kUsesR0) & reg_bit(0)) | (all_if(kCall) & kCallArgs));
    info.def_dst = all_if(kDefsDst);
    info.def_fixed =
        static_cast<RegSet>((all_if(kDefsR0) & reg_bit(0)) | (all_if(kCall) & kCallClobbers));
    return info;
}

struct OpcodeTable {
    OpcodeInfo info[256];
    constexpr OpcodeTable() : info() {
        for (int i = 0; i < 256; ++i)
            info[i] = info_of(static_cast<uint8_t>(i));
    }
};
constexpr OpcodeTable kOpcodes;

inline UseDef use_def_of(const Insn& insn) {
    const OpcodeInfo& o = kOpcodes.info[insn.opcode];
    const RegSet dst = reg_bit(insn.dst);
    const RegSet src = reg_bit(insn.src);
    if ((o.flags & kAtomic) != 0) [[unlikely]] {
        if (insn.imm == op::CMPXCHG)
            return {static_cast<RegSet>(dst | src | reg_bit(0)), reg_bit(0)};
        if ((insn.imm & op::FETCH) != 0) return {static_cast<RegSet>(dst | src), src};
        return {static_cast<RegSet>(dst | src), 0};
    }
    return {static_cast<RegSet>((dst & o.use_dst) | (src & o.use_src) | o.use_fixed),
            static_cast<RegSet>((dst & o.def_dst) | o.def_fixed)};
}

}  // namespace

UseDef use_def(const Insn& insn) {
    return use_def_of(insn);
}

bool falls_through(const Insn& insn) {
    return (kOpcodes.info[insn.opcode].flags & kNoFallThrough) == 0;
}

namespace {

// Liveness (live_in = use | (live_out & ~def)) by sweeps from the last instruction to the
// first, a tight loop that carries the fall-through successor's value in a register and has no
// data-dependent branch; far cheaper per instruction than a worklist. One sweep settles a
// program without backward jumps. With loops, a sweep read each loop head's value before
// recomputing it: when the backward jumps agree with the values now there, every equation
// holds; otherwise the span [lo, hi] from the first loop head to the last backward jump is
// swept again, and finally [0, lo), which only jumps forward. A pathological nest of loops can
// need as many sweeps as it has loops: after kMaxSweeps, a worklist finishes from where the
// sweeps left off (their values are a lower bound of the solution).
constexpr int kMaxSweeps = 4;

// A slot's successors (its use and def are in ProgramFacts::use_def).
struct Node {
    uint32_t target;  // jump target, n (never live) when none
    RegSet fall;      // all ones when execution may continue at the next slot, else 0
};

// The liveness equations of one slot: what is live after it, from what is live into the slot
// that follows it (`next`) and into its jump target, and what is live into it.
struct Liveness {
    RegSet after, before;
};
inline Liveness liveness_of(const Node& node, const UseDef& ud, RegSet next,
                            const RegSet* live_in) {
    const auto after = static_cast<RegSet>((next & node.fall) | live_in[node.target]);
    return {after, static_cast<RegSet>(ud.use | (after & ~ud.def))};
}

void sweep(size_t first, size_t last, const std::vector<Node>& nodes, const UseDef* ud,
           RegSet* live_in, RegSet* live_after) {
    RegSet carry = live_in[last];
    for (size_t i = last; i-- > first;) {
        const Liveness l = liveness_of(nodes[i], ud[i], carry, live_in);
        live_after[i] = l.after;
        live_in[i] = carry = l.before;
    }
}

// Whether every backward jump saw its target's current value.
bool backward_jumps_agree(const std::vector<uint32_t>& sources, const std::vector<Node>& nodes,
                          const UseDef* ud, const RegSet* live_in, const RegSet* live_after) {
    RegSet differ = 0;
    for (uint32_t pc : sources) {
        const Liveness l = liveness_of(nodes[pc], ud[pc], live_in[pc + 1], live_in);
        differ |= static_cast<RegSet>(l.after ^ live_after[pc]);
    }
    return differ == 0;
}

void finish_liveness(size_t n, const std::vector<Node>& nodes, const UseDef* ud, RegSet* live_in,
                     RegSet* live_after) {
    // Predecessors by instruction (compressed rows): fall-through and jump sources.
    auto next = [&](size_t pc) { return nodes[pc].fall != 0 ? pc + 1 : n; };
    std::vector<uint32_t> first_pred(n + 2, 0), preds;
    for (size_t pc = 0; pc < n; ++pc) {
        ++first_pred[next(pc) + 1];
        ++first_pred[nodes[pc].target + 1];
    }
    for (size_t i = 0; i <= n; ++i)
        first_pred[i + 1] += first_pred[i];
    preds.resize(first_pred[n + 1]);
    {
        std::vector<uint32_t> fill(first_pred.begin(), first_pred.end() - 1);
        for (size_t pc = 0; pc < n; ++pc) {
            preds[fill[next(pc)]++] = static_cast<uint32_t>(pc);
            preds[fill[nodes[pc].target]++] = static_cast<uint32_t>(pc);
        }
    }
    std::vector<uint32_t> work(n);
    std::vector<bool> queued(n, true);
    for (size_t i = 0; i < n; ++i)
        work[i] = static_cast<uint32_t>(i);  // popped from the back: the last instruction first
    while (!work.empty()) {
        const uint32_t i = work.back();
        work.pop_back();
        queued[i] = false;
        const Liveness l = liveness_of(nodes[i], ud[i], live_in[i + 1], live_in);
        live_after[i] = l.after;
        if (l.before == live_in[i]) continue;
        live_in[i] = l.before;
        for (uint32_t k = first_pred[i]; k < first_pred[i + 1]; ++k) {
            if (queued[preds[k]]) continue;
            queued[preds[k]] = true;
            work.push_back(preds[k]);
        }
    }
}

}  // namespace

ProgramFacts analyze_program(std::span<const Insn> program) {
    const size_t n = program.size();
    const auto none = static_cast<uint32_t>(n);
    ProgramFacts facts;
    // One entry more than there are slots: index n stands for "no successor" (never live) and
    // soaks up the flags of instructions that jump nowhere, so that the loop below needs no
    // branch on the kind of instruction.
    facts.flags.assign(n + 1, 0);
    facts.flags[0] |= kFunctionStart;
    std::vector<UseDef>& ud = facts.use_def;
    ud.resize(n);
    std::vector<Node> nodes(n);
    std::vector<uint32_t> backward_sources(n);
    size_t backward_count = 0;
    size_t lo = n, hi = 0;  // loop span: [first loop head, last backward jump]

    for (size_t pc = 0; pc < n; ++pc) {
        const Insn& insn = program[pc];
        const uint16_t f = kOpcodes.info[insn.opcode].flags;
        ud[pc] = use_def_of(insn);
        if ((f & kSpecial) != 0) [[unlikely]] {
            // lddw (two slots, perhaps a function address) and calls (perhaps local).
            const bool lddw = is_lddw(insn);
            const bool code_address = lddw && insn.src == op::kImmCodeAddr;
            facts.takes_function_addresses |= code_address;
            facts.has_callx |= insn.opcode == op::CALLX;
            if (code_address || (insn.opcode == op::CALL_IMM && insn.src == op::kCallLocal))
                facts.flags[static_cast<size_t>(branch_target(program, pc))] |= kFunctionStart;
            nodes[pc] = Node{none, 0xffff};
            if (lddw) {
                // The second slot passes liveness through: it is not an instruction.
                ++pc;
                facts.flags[pc] |= kSecondSlot;
                ud[pc] = UseDef{};
                nodes[pc] = Node{none, 0xffff};
            }
            continue;
        }
        const auto t = static_cast<size_t>(branch_target(program, pc));
        const bool jumps = (f & kJump) != 0;
        const size_t target = jumps ? t : n;
        const bool backward = jumps && t <= pc;
        nodes[pc] = Node{static_cast<uint32_t>(target),
                         static_cast<RegSet>((f & kNoFallThrough) != 0 ? 0 : 0xffff)};
        facts.flags[target] |= static_cast<uint8_t>(kJumpTarget | (backward ? kLoopHead : 0));
        backward_sources[backward_count] = static_cast<uint32_t>(pc);
        backward_count += backward;
        lo = backward && t < lo ? t : lo;
        hi = backward ? pc : hi;
    }
    facts.flags.resize(n);
    backward_sources.resize(backward_count);
    for (size_t pc = 0; pc < n; ++pc) {
        if ((facts.flags[pc] & kFunctionStart) != 0)
            facts.functions.push_back(static_cast<uint32_t>(pc));
    }

    // live_in has the extra entry n, 0: the value of "no successor", and of what follows the
    // last slot.
    facts.live_before.assign(n + 1, 0);
    facts.live_after.assign(n, 0);
    RegSet* live_in = facts.live_before.data();
    RegSet* live_after = facts.live_after.data();
    sweep(0, n, nodes, ud.data(), live_in, live_after);
    if (backward_count == 0) return facts;
    for (int i = 0; i < kMaxSweeps; ++i) {
        if (backward_jumps_agree(backward_sources, nodes, ud.data(), live_in, live_after)) {
            if (i > 0) sweep(0, lo, nodes, ud.data(), live_in, live_after);
            return facts;
        }
        sweep(lo, hi + 1, nodes, ud.data(), live_in, live_after);
    }
    finish_liveness(n, nodes, ud.data(), live_in, live_after);
    return facts;
}

}  // namespace xbpf::jit
