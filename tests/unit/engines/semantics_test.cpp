// Engine semantics, written once and run in every engine (the fast and the checked
// interpreter, the JIT, the blinded JIT): RFC 9669 corner cases, helpers, bpf-to-bpf calls and
// their depth limit, callx, tail calls and their limit, legacy packet loads, pseudo lddw, the
// addressing the JIT folds, many threads on one program. Every engine must give the expected
// result, so they agree with each other.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "support/engines.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

using test::prepare;

using test::Outcome;

class Semantics : public test::EngineTest {
  protected:
    Outcome run(std::string_view assembly, std::vector<uint64_t> args = {},
                const HelperTable& helpers = {}, std::span<const MemoryRegion> regions = {}) {
        return test::run_assembly(engine(), assembly, args, helpers, regions);
    }

    // Each program runs without a fault to its expected r0.
    void expect_r0(std::initializer_list<std::pair<std::string_view, uint64_t>> cases) {
        for (const auto& [assembly, expected] : cases)
            EXPECT_EQ(r0(assembly), expected) << assembly;
    }

    uint64_t r0(std::string_view assembly) {
        auto r = run(assembly);
        EXPECT_FALSE(r.fault) << r.fault->message;
        return r.r0;
    }
};
XBPF_INSTANTIATE_FOR_ENGINES(Semantics);

TEST_P(Semantics, DivisionAndModuloCornerCases) {
    expect_r0({
        {"mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit", 0u},
        {"mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit", 7u},
        {"lddw %r0, 0x100000007\nmov %r1, 0\nmod32 %r0, %r1\nexit", 7u},
        {"lddw %r0, 0x100000007\nmod32 %r0, 0\nexit", 7u},
        {"lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit", 0x8000000000000000u},
        {"lddw %r0, 0x8000000000000000\nmov %r1, -1\nsdiv %r0, %r1\nexit", 0x8000000000000000u},
        {"lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit", 0u},
        {"lddw %r0, 0x8000000000000000\nmov %r1, -1\nsmod %r0, %r1\nexit", 0u},
        {"mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit", 0x80000000u},
        {"mov32 %r0, 0x80000000\nmov %r1, -1\nsdiv32 %r0, %r1\nexit", 0x80000000u},
        {"mov %r0, -7\nsmod %r0, 2\nexit", static_cast<uint64_t>(-1)},
        {"mov %r0, 7\nsmod %r0, -2\nexit", 1u},
        {"mov %r0, -1\ndiv %r0, -1\nexit", 1u},
        {"mov32 %r0, -1\ndiv32 %r0, -1\nexit", 1u},
        {"mov %r0, 100\ndiv %r0, 8\nexit", 12u},
        {"mov %r0, 100\nmod %r0, 8\nexit", 4u},
        // Division touching r0 and r3, which x86 division itself uses.
        {"mov %r0, 5\nmov %r3, 100\ndiv %r3, %r0\nadd %r0, %r3\nexit", 25u},
        {"mov %r0, 100\nmov %r3, 7\nmod %r0, %r3\nadd %r0, %r3\nexit", 9u},
        {"mov %r0, 100\nmov %r3, 7\nmov %r4, 3\nsdiv %r3, %r4\nadd %r0, %r3\nexit", 102u},
        {"mov %r3, 9\ndiv %r3, %r3\nmov %r0, %r3\nexit", 1u},
    });
}

TEST_P(Semantics, ShiftsAreMasked) {
    expect_r0({
        {"mov %r0, 1\nlsh %r0, 65\nexit", 2u},
        {"mov %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit", 2u},
        {"mov %r0, -8\narsh %r0, 1\nexit", static_cast<uint64_t>(-4)},
        {"mov32 %r0, -8\narsh32 %r0, 1\nexit", 0xfffffffcu},
        // Shifts through r4 (rcx), the x86 shift-count register.
        {"mov %r4, 3\nmov %r0, 1\nlsh %r0, %r4\nexit", 8u},
        {"mov %r4, 3\nlsh %r4, %r4\nmov %r0, %r4\nexit", 24u},
        {"mov %r4, 256\nmov %r1, 4\nrsh %r4, %r1\nmov %r0, %r4\nexit", 16u},
        {"lddw %r0, 0xffffffff00000001\nlsh32 %r0, 0\nexit", 1u},
    });
}

TEST_P(Semantics, ThirtyTwoBitResultsAreZeroExtended) {
    expect_r0({
        {"mov %r0, -1\nadd32 %r0, 0\nexit", 0xffffffffu},
        {"mov %r0, -1\nmov32 %r0, %r0\nexit", 0xffffffffu},
        {"mov %r0, 1\nneg32 %r0\nexit", 0xffffffffu},
        {"mov %r1, -1\nmovsx832 %r0, %r1\nexit", 0xffffffffu},
        {"mov %r1, 0x80\nmovsx864 %r0, %r1\nexit", static_cast<uint64_t>(-128)},
        {"mov %r0, -1\nmul32 %r0, 1\nexit", 0xffffffffu},
    });
}

TEST_P(Semantics, ByteSwaps) {
    expect_r0({
        {"lddw %r0, 0x1122334455667788\nbe16 %r0\nexit", 0x8877u},
        {"lddw %r0, 0x1122334455667788\nle32 %r0\nexit", 0x55667788u},
        {"lddw %r0, 0x1122334455667788\nbswap64 %r0\nexit", 0x8877665544332211u},
        {"lddw %r6, 0x1122334455667788\nbe16 %r6\nmov %r0, %r6\nexit", 0x8877u},
    });
}

TEST_P(Semantics, AtomicsReturnOldValues) {
    expect_r0({
        {"stdw [%r10-8], 10\nmov %r1, 5\nlock fetch add [%r10-8], %r1\nmov %r0, %r1\nexit", 10u},
        {"stdw [%r10-8], 10\nmov %r1, 5\nlock fetch add [%r10-8], %r1\nldxdw %r0, "
         "[%r10-8]\nexit",
         15u},
        {"stdw [%r10-8], 3\nmov %r0, 3\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\nldxdw %r0, "
         "[%r10-8]\nexit",
         9u},
        {"stdw [%r10-8], 3\nmov %r0, 4\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\nexit", 3u},
        {"stw [%r10-8], -1\nmov %r1, 0\nlock fetch or32 [%r10-8], %r1\nmov %r0, %r1\nexit",
         0xffffffffu},
        // Fetching and/or/xor loop on cmpxchg, which needs rax (r0): r0 must survive.
        {"stdw [%r10-8], 12\nmov %r0, 100\nmov %r2, 10\nlock fetch and [%r10-8], %r2\n"
         "add %r0, %r2\nldxdw %r2, [%r10-8]\nadd %r0, %r2\nexit",
         100u + 12 + 8},
        {"stdw [%r10-8], 12\nmov %r0, 10\nlock fetch xor [%r10-8], %r0\nldxdw %r2, "
         "[%r10-8]\nlsh %r2, 8\nadd %r0, %r2\nexit",
         12u + (6u << 8)},
        {"lddw %r0, 0xffffffff00000003\nstw [%r10-8], 3\nmov %r1, 9\n"
         "lock cmpxchg32 [%r10-8], %r1\nexit",
         3u},
    });
}

uint64_t add_args(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, RunContext& ctx) {
    return a + b + c + d + e + reinterpret_cast<uintptr_t>(ctx.host);
}

TEST_P(Semantics, HelpersGetArgumentsAndContext) {
    HelperTable helpers;
    helpers.set(77, add_args);
    auto program = assemble(
        "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\nmov %r6, 1000\ncall 77\n"
        "add %r0, %r6\nexit");
    ASSERT_TRUE(program.ok());
    auto exe = prepare(engine(), *program, helpers);
    ASSERT_TRUE(exe.ok());
    RunContext ctx;
    ctx.host = reinterpret_cast<void*>(100);
    EXPECT_EQ((*exe)->run(ctx, {}), 1115u);
    EXPECT_EQ(ctx.engine, test::engine_kind(engine()));
}

TEST_P(Semantics, UnknownHelperIsRejectedWhenPreparing) {
    auto program = assemble("call 1\nexit");
    ASSERT_TRUE(program.ok());
    auto exe = prepare(engine(), *program, HelperTable{});
    ASSERT_FALSE(exe.ok());
    EXPECT_EQ(exe.error().to_string(),
              "instruction 0: call to unknown helper 1 bpf_map_lookup_elem");
    EXPECT_FALSE(prepare(engine(), std::vector<Insn>{make::mov64_imm(0, 1)}, {}).ok());
}

TEST_P(Semantics, LocalCallsHaveTheirOwnFramesAndPreserveCalleeSaved) {
    const char* program = R"(
        mov %r6, 42
        mov %r7, 43
        mov %r8, 44
        mov %r9, 45
        stdw [%r10-8], 1
        call local f
        ldxdw %r1, [%r10-8]
        add %r0, %r1
        add %r0, %r6
        add %r0, %r7
        add %r0, %r8
        add %r0, %r9
        exit
    f:
        stdw [%r10-8], 1000
        mov %r6, 0
        mov %r7, 0
        mov %r8, 0
        mov %r9, 0
        ldxdw %r0, [%r10-8]
        exit
    )";
    EXPECT_EQ(r0(program), 1000u + 1 + 42 + 43 + 44 + 45);
    // A callee reads its caller's frame through a pointer.
    EXPECT_EQ(r0("stdw [%r10-8], 5\nmov %r1, %r10\ncall local f\nexit\nf:\nldxdw %r0, [%r1-8]\n"
                 "exit\n"),
              5u);
    // Arguments in r1..r5 reach the callee.
    EXPECT_EQ(
        r0("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall local f\nexit\n"
           "f:\nmov %r0, %r1\nadd %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\nadd %r0, %r5\nexit\n"),
        15u);
}

TEST_P(Semantics, CallDepthIsLimited) {
    auto r = run("call local f\nexit\nf:\ncall local f\nexit\n");
    ASSERT_TRUE(r.fault);
    EXPECT_EQ(r.fault->pc, 2u);
    EXPECT_NE(r.fault->message.find("deeper than 8 frames"), std::string::npos) << r.fault->message;
    std::string seven = "call local f1\nexit\n";
    for (int i = 1; i <= 7; ++i) {
        seven += fmt::format("f{}:\n", i);
        seven += i < 7 ? fmt::format("call local f{}\nexit\n", i + 1)
                       : std::string("mov %r0, 9\nexit\n");
    }
    EXPECT_EQ(r0(seven), 9u);
    std::string eight = "call local f1\nexit\n";
    for (int i = 1; i <= 8; ++i) {
        eight += fmt::format("f{}:\n", i);
        eight += i < 8 ? fmt::format("call local f{}\nexit\n", i + 1)
                       : std::string("mov %r0, 9\nexit\n");
    }
    EXPECT_TRUE(run(eight).fault);
    // Recursion into the main function is a call like any other.
    EXPECT_TRUE(run("mov %r0, 1\ncall local -2\nexit").fault);
}

TEST_P(Semantics, CallxReachesFunctionsAndHelpers) {
    EXPECT_EQ(r0("lddw %r2, func:f\ncall %r2\nexit\nf:\nmov %r0, 33\nexit\n"), 33u);
    EXPECT_EQ(r0("lddw %r2, func:f\nlddw %r3, func:g\ncall %r3\nexit\nf:\nmov %r0, 33\nexit\n"
                 "g:\nmov %r0, 44\nexit\n"),
              44u);
    HelperTable helpers;
    helpers.set(77, add_args);
    auto r = run(
        "mov %r1, 1\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\nmov %r6, 77\ncall %r6\nexit",
        {}, helpers);
    EXPECT_EQ(r.r0, 1u);
    auto bad = run("mov %r2, 123456\ncall %r2\nexit");
    ASSERT_TRUE(bad.fault);
    EXPECT_EQ(bad.fault->pc, 1u);
    EXPECT_EQ(bad.fault->message,
              "callx r2 = 0x1e240 is neither a function of the program nor a helper id");
    EXPECT_NE(bad.fault->message.find("neither a function"), std::string::npos);
    // An address inside a function, or a helper id without a helper, is not a target either.
    EXPECT_TRUE(run("lddw %r2, func:f\nadd %r2, 1\ncall %r2\nexit\nf:\nmov %r0, 33\nexit\n").fault);
    EXPECT_TRUE(run("mov %r2, 76\ncall %r2\nexit", {}, helpers).fault);
    // Unbounded recursion through callx hits the depth limit.
    EXPECT_TRUE(
        run("lddw %r2, func:f\ncall %r2\nexit\nf:\nlddw %r2, func:f\ncall %r2\nexit\n").fault);
}

TEST_P(Semantics, LegacyPacketLoads) {
    auto program =
        assemble("ldabsh 2\nmov %r6, %r0\nmov %r1, 1\nldindb %r1, 0\nadd %r0, %r6\nexit");
    ASSERT_TRUE(program.ok());
    auto exe = prepare(engine(), *program, {});
    ASSERT_TRUE(exe.ok());
    const uint8_t packet[] = {0x00, 0x05, 0x12, 0x34};
    RunContext ctx;
    ctx.legacy_packet = packet;
    ctx.legacy_packet_len = sizeof packet;
    EXPECT_EQ((*exe)->run(ctx, {}), 0x1234u + 0x05);
    for (const char* oob :
         {"ldabsw 2\nmov %r0, 7\nexit", "ldabsb 4\nmov %r0, 7\nexit", "ldabsb -1\nmov %r0, 7\nexit",
          "mov %r1, 3\nldindh %r1, 0\nmov %r0, 7\nexit",
          "mov %r1, -1\nldindb %r1, 0\nmov %r0, 7\nexit",
          "call local f\nmov %r0, 7\nexit\nf:\nldabsw 2\nmov %r0, 8\nexit"}) {
        auto p = assemble(oob);
        ASSERT_TRUE(p.ok()) << oob;
        auto e = prepare(engine(), *p, {});
        ASSERT_TRUE(e.ok());
        RunContext c;
        c.legacy_packet = packet;
        c.legacy_packet_len = sizeof packet;
        EXPECT_EQ((*e)->run(c, {}), 0u) << oob;
        EXPECT_FALSE(c.fault);
    }
    // In bounds at the very end, and a 32-bit wrap of src + imm.
    auto edge = assemble(
        "ldabsw 0\nmov %r6, %r0\nlddw %r1, 0x100000003\nldindb %r1, 0\n"
        "add %r0, %r6\nexit");
    ASSERT_TRUE(edge.ok());
    auto e = prepare(engine(), *edge, {});
    ASSERT_TRUE(e.ok());
    EXPECT_EQ((*e)->run(ctx, {}), 0x00051234u + 0x34);
}

TEST_P(Semantics, PseudoLddwNeedsAResolver) {
    auto program = assemble("lddw %r1, map_idx:4\nmov %r0, %r1\nexit");
    ASSERT_TRUE(program.ok());
    auto unresolved = prepare(engine(), *program, {});
    ASSERT_FALSE(unresolved.ok());
    EXPECT_NE(unresolved.error().to_string().find("needs a loader"), std::string::npos);
    PrepareOptions options;
    options.resolve_lddw = [](const Insn& lo, const Insn&) -> Result<uint64_t> {
        return 0x1000u + lo.imm;
    };
    auto exe = prepare(engine(), *program, {}, options);
    ASSERT_TRUE(exe.ok());
    RunContext ctx;
    EXPECT_EQ((*exe)->run(ctx, {}), 0x1004u);
    options.resolve_lddw = [](const Insn&, const Insn&) -> Result<uint64_t> {
        return Error("no such map");
    };
    auto failed = prepare(engine(), *program, {}, options);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().to_string(), "instruction 0: no such map");
}

// ---- tail calls ----

const Executable* g_tail_target = nullptr;
uint64_t tail_call_helper(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext& ctx) {
    if (ctx.tail_calls_done >= RunContext::kMaxTailCalls) return static_cast<uint64_t>(-2);
    ++ctx.tail_calls_done;
    ctx.tail_call = g_tail_target;
    return 0;
}

// Runs `caller` in `engine` with the tail-call helper (id 12) continuing in `target`.
uint64_t run_with_tail_target(test::Engine engine, std::string_view caller, std::string_view target,
                              RunContext& ctx, std::span<const uint64_t> args = {}) {
    HelperTable helpers;
    helpers.set(12, tail_call_helper);
    auto target_program = assemble(target);
    auto caller_program = assemble(caller);
    EXPECT_TRUE(target_program.ok() && caller_program.ok());
    if (!target_program.ok() || !caller_program.ok()) return 0;
    auto target_exe = prepare(engine, *target_program, helpers);
    auto caller_exe = prepare(engine, *caller_program, helpers);
    EXPECT_TRUE(target_exe.ok() && caller_exe.ok());
    if (!target_exe.ok() || !caller_exe.ok()) return 0;
    g_tail_target = target_exe->get();
    return (*caller_exe)->run(ctx, args);
}

TEST_P(Semantics, TailCallReplacesTheProgramAndKeepsTheContext) {
    RunContext ctx;
    const uint64_t args[1] = {41};
    EXPECT_EQ(
        run_with_tail_target(engine(), "mov %r6, %r1\nmov %r1, %r6\ncall 12\nmov %r0, 99\nexit",
                             "mov %r0, %r1\nadd %r0, 1\nexit", ctx, args),
        42u);
    EXPECT_EQ(ctx.tail_calls_done, 1);
    EXPECT_EQ(ctx.tail_call, nullptr);
}

TEST_P(Semantics, TailCallFromAFunctionReturnsToItsCaller) {
    // As in the interpreter, a tail call in a bpf-to-bpf callee replaces the callee only.
    RunContext ctx;
    EXPECT_EQ(run_with_tail_target(
                  engine(),
                  "mov %r6, 1000\nstdw [%r10-8], 5\ncall local f\nldxdw %r1, [%r10-8]\nadd %r0, "
                  "%r1\nadd %r0, %r6\nexit\nf:\nmov %r6, 0\ncall 12\nmov %r0, 99\nexit",
                  "stdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nexit", ctx),
              7u + 5 + 1000);
}

TEST_P(Semantics, TailCallChainStopsAtTheLimit) {
    HelperTable helpers;
    helpers.set(12, tail_call_helper);
    auto self = assemble("stdw [%r10-8], 0\ncall 12\nmov %r0, 7\nexit");
    ASSERT_TRUE(self.ok());
    auto exe = prepare(engine(), *self, helpers);
    ASSERT_TRUE(exe.ok());
    g_tail_target = exe->get();
    RunContext ctx;
    EXPECT_EQ((*exe)->run(ctx, {}), 7u);
    EXPECT_EQ(ctx.tail_calls_done, 33);
}

TEST_P(Semantics, TailCallIntoAnotherEngineOrModeFaults) {
    using test::Engine;
    const Engine other =
        engine() == Engine::InterpreterFast ? Engine::InterpreterChecked : Engine::InterpreterFast;
    HelperTable helpers;
    helpers.set(12, tail_call_helper);
    auto target = assemble("mov %r0, 1\nexit");
    ASSERT_TRUE(target.ok());
    auto other_target = prepare(other, *target, helpers);
    ASSERT_TRUE(other_target.ok());
    g_tail_target = other_target->get();
    const Outcome r = run("call 12\nmov %r0, 99\nexit", {}, helpers);
    EXPECT_EQ(r.r0, 0u);
    ASSERT_TRUE(r.fault);
    EXPECT_EQ(r.fault->pc, 0u);
    EXPECT_EQ(r.fault->message, "tail call into a program prepared for another engine or mode");
}

TEST_P(Semantics, ManyThreadsRunOneProgram) {
    auto program = assemble(R"(
        mov %r0, 0
        mov %r2, 0
    loop:
        add %r0, %r1
        add %r2, 1
        jlt %r2, 1000, loop
        exit
    )");
    ASSERT_TRUE(program.ok());
    auto exe = prepare(engine(), *program, {});
    ASSERT_TRUE(exe.ok());
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                RunContext ctx;
                const uint64_t args[1] = {static_cast<uint64_t>(t + 1)};
                if ((*exe)->run(ctx, args) != 1000u * (t + 1)) ++wrong;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST_P(Semantics, ConditionalMovesAndInvertedBranches) {
    for (int v : {1, 5, 9}) {
        EXPECT_EQ(r0(fmt::format("mov %r1, {}\nmov %r0, 3\njgt %r1, 4, +1\nmov %r0, 7\nexit", v)),
                  v > 4 ? 3u : 7u);
        EXPECT_EQ(r0(fmt::format("mov %r1, {}\nlddw %r0, 0xffffffff00000003\njgt %r1, 4, +1\n"
                                 "mov32 %r0, %r1\nexit",
                                 v)),
                  v > 4 ? 0xffffffff00000003u : static_cast<uint64_t>(v));
        EXPECT_EQ(r0(fmt::format("mov %r1, {}\nmov %r0, 1\njsgt %r1, 4, +1\nja +1\nmov %r0, 2\n"
                                 "exit",
                                 v)),
                  v > 4 ? 2u : 1u);
    }
}

// Address arithmetic the JIT folds into addressing modes (`rX = rA; rX += K; rX += rB`), with
// the parts changing underneath: the folded address must be computed before they do.
TEST_P(Semantics, FoldedAddressesSurviveChangesToTheirParts) {
    uint8_t memory[256];
    for (int i = 0; i < 256; ++i)
        memory[i] = static_cast<uint8_t>(i * 7 + 1);
    auto u64_at = [&](size_t off) {
        uint64_t v;
        std::memcpy(&v, memory + off, sizeof v);
        return v;
    };
    auto u32_at = [&](size_t off) {
        uint32_t v;
        std::memcpy(&v, memory + off, sizeof v);
        return uint64_t{v};
    };
    const MemoryRegion region{reinterpret_cast<uintptr_t>(memory), sizeof memory, true, "memory"};
    const std::vector<uint64_t> args = {reinterpret_cast<uintptr_t>(memory)};
    const std::pair<const char*, uint64_t> programs[] = {
        // index overwritten between two uses
        {"mov %r2, 8\nmov %r3, %r1\nadd %r3, 16\nadd %r3, %r2\nldxdw %r4, [%r3+0]\nmov %r2, "
         "100\nldxdw %r5, [%r3+0]\nmov %r0, %r4\nxor %r0, %r5\nexit",
         0},
        // base overwritten between two uses
        {"mov %r2, 8\nmov %r3, %r1\nadd %r3, %r2\nldxdw %r4, [%r3+0]\nmov %r1, 0\nldxdw %r5, "
         "[%r3+8]\nmov %r0, %r4\nxor %r0, %r5\nexit",
         u64_at(8) ^ u64_at(16)},
        // the load overwrites its own index; the address is still needed
        {"mov %r2, 8\nmov %r3, %r1\nadd %r3, %r2\nldxb %r2, [%r3+0]\nldxb %r5, [%r3+1]\nmov "
         "%r0, %r2\nlsh %r0, 8\nor %r0, %r5\nexit",
         uint64_t{memory[8]} << 8 | memory[9]},
        // the folded register is live after a branch
        {"mov %r3, %r1\nadd %r3, 32\nldxw %r0, [%r3+0]\njeq %r0, 0, +1\nldxw %r0, [%r3+4]\nsub "
         "%r3, %r1\nadd %r0, %r3\nexit",
         (u32_at(32) != 0 ? u32_at(36) : 0) + 32},
        // store through it, then read it as a value
        {"mov %r2, %r1\nadd %r2, 40\nstdw [%r2+0], 77\nldxdw %r0, [%r1+40]\nsub %r2, %r1\nadd "
         "%r0, %r2\nexit",
         77 + 40},
        // a stack address folded the same way
        {"stdw [%r10-16], 5\nmov %r2, 8\nmov %r3, %r10\nadd %r3, -24\nadd %r3, %r2\nldxdw %r0, "
         "[%r3+0]\nexit",
         5},
    };
    for (const auto& [p, expected] : programs) {
        auto r = run(p, args, {}, std::span(&region, 1));
        EXPECT_FALSE(r.fault) << p;
        EXPECT_EQ(r.r0, expected) << p;
    }
}

}  // namespace
}  // namespace xbpf
