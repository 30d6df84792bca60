// The JIT's program facts (control-flow flags and register liveness) against a direct,
// obviously correct computation: liveness iterated over every instruction until nothing
// changes. analyze_program() takes shortcuts (sweeps over loop spans only, a worklist once the
// sweeps run long); these programs exercise each of them.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "jit/x86_64/program_facts.hpp"
#include "program_generator.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::jit {
namespace {

struct Reference {
    std::vector<uint8_t> flags;
    std::vector<RegSet> live_in, live_out;  // at instructions (not second slots)
};

Reference reference_facts(const std::vector<Insn>& program) {
    const size_t n = program.size();
    Reference ref;
    ref.flags.assign(n, 0);
    ref.flags[0] |= kFunctionStart;
    std::vector<std::vector<size_t>> successors(n);
    for (size_t pc = 0; pc < n; ++pc) {
        const Insn& insn = program[pc];
        if (is_lddw(insn)) {
            if (insn.src == op::kImmCodeAddr)
                ref.flags[static_cast<size_t>(branch_target(program, pc))] |= kFunctionStart;
            ref.flags[pc + 1] |= kSecondSlot;
            successors[pc].push_back(pc + 2);
            ++pc;
            continue;
        }
        const uint8_t code = insn.opcode & op::kCodeMask;
        const bool jmp = is_jmp_class(insn.opcode);
        if (jmp && code == op::CALL && insn.src == op::kCallLocal && insn.opcode == op::CALL_IMM)
            ref.flags[static_cast<size_t>(branch_target(program, pc))] |= kFunctionStart;
        if (jmp && code != op::CALL && code != op::EXIT) {
            const auto t = static_cast<size_t>(branch_target(program, pc));
            successors[pc].push_back(t);
            ref.flags[t] |= kJumpTarget;
            if (t <= pc) ref.flags[t] |= kLoopHead;
        }
        if (falls_through(insn) && pc + 1 < n) successors[pc].push_back(pc + 1);
    }
    ref.live_in.assign(n, 0);
    ref.live_out.assign(n, 0);
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t pc = 0; pc < n; ++pc) {
            if ((ref.flags[pc] & kSecondSlot) != 0) continue;
            RegSet out = 0;
            for (size_t s : successors[pc])
                out |= ref.live_in[s];
            const UseDef ud = use_def(program[pc]);
            const auto in = static_cast<RegSet>(ud.use | (out & ~ud.def));
            changed |= in != ref.live_in[pc] || out != ref.live_out[pc];
            ref.live_in[pc] = in;
            ref.live_out[pc] = out;
        }
    }
    return ref;
}

void expect_facts_match(const std::vector<Insn>& program, const std::string& what) {
    ASSERT_TRUE(validate_program(program).ok()) << what;
    const ProgramFacts facts = analyze_program(program);
    const Reference ref = reference_facts(program);
    std::vector<uint32_t> functions;
    for (size_t pc = 0; pc < program.size(); ++pc) {
        if ((ref.flags[pc] & kFunctionStart) != 0) functions.push_back(static_cast<uint32_t>(pc));
        ASSERT_EQ(facts.flags[pc], ref.flags[pc]) << what << ", flags at " << pc;
        if ((ref.flags[pc] & kSecondSlot) != 0) continue;
        ASSERT_EQ(facts.live_before[pc], ref.live_in[pc]) << what << ", live before " << pc;
        ASSERT_EQ(facts.live_after[pc], ref.live_out[pc]) << what << ", live after " << pc;
        const UseDef ud = use_def(program[pc]);
        ASSERT_EQ(facts.use_def[pc].use, ud.use) << what << ", uses at " << pc;
        ASSERT_EQ(facts.use_def[pc].def, ud.def) << what << ", defs at " << pc;
    }
    EXPECT_EQ(facts.functions, functions) << what;
    bool code_address = false, callx = false;
    for (size_t pc = 0; pc < program.size(); ++pc) {
        if ((ref.flags[pc] & kSecondSlot) != 0) continue;
        code_address |= is_lddw(program[pc]) && program[pc].src == op::kImmCodeAddr;
        callx |= program[pc].opcode == op::CALLX;
    }
    EXPECT_EQ(facts.takes_function_addresses, code_address) << what;
    EXPECT_EQ(facts.has_callx, callx) << what;
}

TEST(ProgramFacts, MatchTheDirectComputationOnGeneratedPrograms) {
    // Loops, bpf2bpf calls, callbacks (function addresses), lddw, every instruction class.
    for (uint64_t seed = 1; seed <= 300; ++seed) {
        test::Choices choices(seed);
        test::GeneratorOptions options;
        options.body_budget = seed % 3 == 0 ? 300 : 60;
        const auto generated = test::ProgramGenerator(choices, options).generate();
        expect_facts_match(generated.program, fmt::format("seed {}", seed));
        if (HasFatalFailure()) return;
    }
}

// A chain of backward jumps, each to the one before: a value read at the top becomes live at
// one more of them with every sweep, so the sweeps give up and the worklist finishes.
std::vector<Insn> backward_jump_chain(int length) {
    std::vector<Insn> p;
    p.push_back(make::mov64_reg(0, 6));  // reads r6
    for (int i = 0; i < length; ++i)
        p.push_back(make::jmp_imm(op::JGT, 1, i, -2));  // back to the previous instruction
    p.push_back(make::mov64_imm(6, 0));
    p.push_back(make::exit());
    return p;
}

TEST(ProgramFacts, LongChainsOfLoopsReachTheFixpoint) {
    for (int length : {1, 2, 3, 5, 8, 30, 200}) {
        const auto program = backward_jump_chain(length);
        expect_facts_match(program, fmt::format("chain of {}", length));
        // r6 is live at every jump of the chain: each may go back to the read at the top.
        const ProgramFacts facts = analyze_program(program);
        for (int i = 1; i <= length; ++i)
            EXPECT_NE(facts.live_before[static_cast<size_t>(i)] & reg_bit(6), 0) << i;
    }
}

TEST(ProgramFacts, LddwSecondSlotsPassLivenessThrough) {
    // r2 is read after an lddw; the lddw itself sees it live after it.
    const std::vector<Insn> program = {
        make::mov64_imm(2, 7),          Insn{op::LDDW, 3, 0, 0, 1}, Insn{0, 0, 0, 0, 0},
        make::alu64_reg(op::ADD, 2, 3), make::mov64_reg(0, 2),      make::exit(),
    };
    expect_facts_match(program, "lddw");
    const ProgramFacts facts = analyze_program(program);
    EXPECT_EQ(facts.live_after[1], reg_bit(2) | reg_bit(3));
    EXPECT_EQ(facts.live_after[0], reg_bit(2));
}

}  // namespace
}  // namespace xbpf::jit
