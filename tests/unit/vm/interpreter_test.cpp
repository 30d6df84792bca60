// Interpreter semantics (RFC 9669 corner cases), calls, helpers, tail calls and checked mode.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

struct Run {
    uint64_t r0 = 0;
    std::optional<Fault> fault;
};

Run run(std::string_view assembly, std::vector<uint64_t> args = {}, const HelperTable& helpers = {},
        bool checked = false, std::span<const MemoryRegion> regions = {},
        uint64_t budget = 1'000'000) {
    auto program = assemble(assembly);
    EXPECT_TRUE(program.ok()) << (program ? "" : program.error().to_string());
    if (!program) return {};
    PrepareOptions options;
    options.checked = checked;
    options.instruction_budget = budget;
    auto exe = prepare_interpreter(*program, helpers, options);
    EXPECT_TRUE(exe.ok()) << (exe ? "" : exe.error().to_string());
    if (!exe) return {};
    RunContext ctx;
    RunOptions run_options;
    run_options.regions = regions;
    Run r;
    r.r0 = (*exe)->run(ctx, args, run_options);
    r.fault = ctx.fault;
    return r;
}

uint64_t r0(std::string_view assembly) {
    auto r = run(assembly);
    EXPECT_FALSE(r.fault) << r.fault->message;
    return r.r0;
}

TEST(Interpreter, DivisionAndModuloCornerCases) {
    EXPECT_EQ(r0("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1\nexit"), 0u);
    EXPECT_EQ(r0("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1\nexit"), 7u);
    EXPECT_EQ(r0("lddw %r0, 0x100000007\nmov %r1, 0\nmod32 %r0, %r1\nexit"), 7u);  // zero-extended
    EXPECT_EQ(r0("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit"), 0x8000000000000000u);
    EXPECT_EQ(r0("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), 0u);
    EXPECT_EQ(r0("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit"), 0x80000000u);
    EXPECT_EQ(r0("mov %r0, -7\nsmod %r0, 2\nexit"), static_cast<uint64_t>(-1));  // sign of dividend
    EXPECT_EQ(r0("mov %r0, 7\nsmod %r0, -2\nexit"), 1u);
    EXPECT_EQ(r0("mov %r0, -1\ndiv %r0, -1\nexit"),
              1u);  // imm sign-extended to 64 bits, unsigned divide
    EXPECT_EQ(r0("mov32 %r0, -1\ndiv32 %r0, -1\nexit"), 1u);
}

TEST(Interpreter, ShiftsAreMasked) {
    EXPECT_EQ(r0("mov %r0, 1\nlsh %r0, 65\nexit"), 2u);
    EXPECT_EQ(r0("mov %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit"), 2u);
    EXPECT_EQ(r0("mov %r0, -8\narsh %r0, 1\nexit"), static_cast<uint64_t>(-4));
    EXPECT_EQ(r0("mov32 %r0, -8\narsh32 %r0, 1\nexit"), 0xfffffffcu);
}

TEST(Interpreter, ThirtyTwoBitResultsAreZeroExtended) {
    EXPECT_EQ(r0("mov %r0, -1\nadd32 %r0, 0\nexit"), 0xffffffffu);
    EXPECT_EQ(r0("mov %r0, -1\nmov32 %r0, %r0\nexit"), 0xffffffffu);
    EXPECT_EQ(r0("mov %r0, 1\nneg32 %r0\nexit"), 0xffffffffu);
    EXPECT_EQ(r0("mov %r1, -1\nmovsx832 %r0, %r1\nexit"), 0xffffffffu);
    EXPECT_EQ(r0("mov %r1, 0x80\nmovsx864 %r0, %r1\nexit"), static_cast<uint64_t>(-128));
}

TEST(Interpreter, ByteSwaps) {
    EXPECT_EQ(r0("lddw %r0, 0x1122334455667788\nbe16 %r0\nexit"), 0x8877u);
    EXPECT_EQ(r0("lddw %r0, 0x1122334455667788\nle32 %r0\nexit"), 0x55667788u);
    EXPECT_EQ(r0("lddw %r0, 0x1122334455667788\nbswap64 %r0\nexit"), 0x8877665544332211u);
}

TEST(Interpreter, AtomicsReturnOldValues) {
    EXPECT_EQ(r0("stdw [%r10-8], 10\nmov %r1, 5\nlock fetch add [%r10-8], %r1\nmov %r0, %r1\nexit"),
              10u);
    EXPECT_EQ(r0("stdw [%r10-8], 10\nmov %r1, 5\nlock fetch add [%r10-8], %r1\nldxdw %r0, "
                 "[%r10-8]\nexit"),
              15u);
    EXPECT_EQ(r0("stdw [%r10-8], 3\nmov %r0, 3\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\nldxdw %r0, "
                 "[%r10-8]\nexit"),
              9u);
    EXPECT_EQ(r0("stdw [%r10-8], 3\nmov %r0, 4\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\nexit"), 3u);
    // 32-bit fetch zero-extends the old value.
    EXPECT_EQ(r0("stw [%r10-8], -1\nmov %r1, 0\nlock fetch or32 [%r10-8], %r1\nmov %r0, %r1\nexit"),
              0xffffffffu);
}

uint64_t add_args(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, RunContext& ctx) {
    return a + b + c + d + e + reinterpret_cast<uintptr_t>(ctx.host);
}

TEST(Interpreter, HelpersGetArgumentsAndContext) {
    HelperTable helpers;
    helpers.set(77, add_args);
    auto program =
        assemble("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 77\nexit");
    ASSERT_TRUE(program.ok());
    auto exe = prepare_interpreter(*program, helpers);
    ASSERT_TRUE(exe.ok());
    RunContext ctx;
    ctx.host = reinterpret_cast<void*>(100);
    EXPECT_EQ((*exe)->run(ctx, {}), 115u);
}

TEST(Interpreter, UnknownHelperIsRejectedWhenPreparing) {
    auto program = assemble("call 1\nexit");
    ASSERT_TRUE(program.ok());
    auto exe = prepare_interpreter(*program, HelperTable{});
    ASSERT_FALSE(exe.ok());
    EXPECT_EQ(exe.error().to_string(),
              "instruction 0: call to unknown helper 1 bpf_map_lookup_elem");
}

TEST(Interpreter, LocalCallsHaveTheirOwnFramesAndPreserveCalleeSaved) {
    // The callee writes its own stack and clobbers r6; the caller's stack and r6 survive.
    const char* program = R"(
        mov %r6, 42
        stdw [%r10-8], 1
        call local f
        ldxdw %r1, [%r10-8]
        add %r0, %r1
        add %r0, %r6
        exit
    f:
        stdw [%r10-8], 1000
        mov %r6, 0
        ldxdw %r0, [%r10-8]
        exit
    )";
    EXPECT_EQ(r0(program), 1000u + 1 + 42);
}

TEST(Interpreter, CallDepthIsLimited) {
    // Unbounded recursion stops with a fault, in both modes.
    for (bool checked : {false, true}) {
        auto r = run("call local f\nexit\nf:\ncall local f\nexit\n", {}, {}, checked);
        ASSERT_TRUE(r.fault);
        EXPECT_NE(r.fault->message.find("deeper than 8 frames"), std::string::npos)
            << r.fault->message;
    }
    // Seven nested calls (eight frames) are fine.
    std::string seven = "call local f1\nexit\n";
    for (int i = 1; i <= 7; ++i) {
        seven += fmt::format("f{}:\n", i);
        seven += i < 7 ? fmt::format("call local f{}\nexit\n", i + 1)
                       : std::string("mov %r0, 9\nexit\n");
    }
    EXPECT_EQ(r0(seven), 9u);
}

TEST(Interpreter, CallxReachesFunctionsAndHelpers) {
    EXPECT_EQ(r0("lddw %r2, func:f\ncall %r2\nexit\nf:\nmov %r0, 33\nexit\n"), 33u);
    HelperTable helpers;
    helpers.set(77, add_args);
    auto r = run(
        "mov %r1, 1\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\nmov %r6, 77\ncall %r6\nexit",
        {}, helpers);
    EXPECT_EQ(r.r0, 1u);
    auto bad = run("mov %r2, 123456\ncall %r2\nexit");
    ASSERT_TRUE(bad.fault);
    EXPECT_NE(bad.fault->message.find("neither a function"), std::string::npos);
}

TEST(Interpreter, LegacyPacketLoads) {
    auto program =
        assemble("ldabsh 2\nmov %r6, %r0\nmov %r1, 1\nldindb %r1, 0\nadd %r0, %r6\nexit");
    ASSERT_TRUE(program.ok());
    auto exe = prepare_interpreter(*program, {});
    ASSERT_TRUE(exe.ok());
    const uint8_t packet[] = {0x00, 0x05, 0x12, 0x34};
    RunContext ctx;
    ctx.legacy_packet = packet;
    ctx.legacy_packet_len = sizeof packet;
    EXPECT_EQ((*exe)->run(ctx, {}), 0x1234u + 0x05);  // network order
    // Out of bounds: the program ends with r0 = 0.
    auto oob = assemble("ldabsw 2\nmov %r0, 7\nexit");
    ASSERT_TRUE(oob.ok());
    auto exe2 = prepare_interpreter(*oob, {});
    ASSERT_TRUE(exe2.ok());
    EXPECT_EQ((*exe2)->run(ctx, {}), 0u);
}

TEST(Interpreter, PseudoLddwNeedsAResolver) {
    auto program = assemble("lddw %r1, map_idx:4\nmov %r0, %r1\nexit");
    ASSERT_TRUE(program.ok());
    auto unresolved = prepare_interpreter(*program, {});
    ASSERT_FALSE(unresolved.ok());
    EXPECT_NE(unresolved.error().to_string().find("needs a loader"), std::string::npos);
    PrepareOptions options;
    options.resolve_lddw = [](const Insn& lo, const Insn&) -> Result<uint64_t> {
        return 0x1000u + lo.imm;
    };
    auto exe = prepare_interpreter(*program, {}, options);
    ASSERT_TRUE(exe.ok());
    RunContext ctx;
    EXPECT_EQ((*exe)->run(ctx, {}), 0x1004u);
}

// ---- tail calls ----

const Executable* g_tail_target = nullptr;
uint64_t tail_call_helper(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext& ctx) {
    if (ctx.tail_calls_done >= RunContext::kMaxTailCalls) return static_cast<uint64_t>(-2);
    ++ctx.tail_calls_done;
    ctx.tail_call = g_tail_target;
    return 0;
}

TEST(Interpreter, TailCallReplacesTheProgramAndKeepsTheContext) {
    HelperTable helpers;
    helpers.set(12, tail_call_helper);
    auto target = assemble("mov %r0, %r1\nadd %r0, 1\nexit");
    auto caller =
        assemble("mov %r6, %r1\ncall 12\nmov %r0, 99\nexit");  // 99 only if the call fails
    ASSERT_TRUE(target.ok() && caller.ok());
    auto target_exe = prepare_interpreter(*target, helpers);
    auto caller_exe = prepare_interpreter(*caller, helpers);
    ASSERT_TRUE(target_exe.ok() && caller_exe.ok());
    g_tail_target = target_exe->get();
    RunContext ctx;
    const uint64_t args[1] = {41};
    EXPECT_EQ((*caller_exe)->run(ctx, args), 42u);
    EXPECT_EQ(ctx.tail_calls_done, 1);
}

TEST(Interpreter, TailCallChainStopsAtTheLimit) {
    HelperTable helpers;
    helpers.set(12, tail_call_helper);
    // A program that tail-calls itself counts how often it ran in r1 (kept via ctx r1).
    auto self = assemble("stdw [%r10-8], 0\ncall 12\nmov %r0, 7\nexit");
    ASSERT_TRUE(self.ok());
    auto exe = prepare_interpreter(*self, helpers);
    ASSERT_TRUE(exe.ok());
    g_tail_target = exe->get();
    RunContext ctx;
    EXPECT_EQ((*exe)->run(ctx, {}), 7u);
    EXPECT_EQ(ctx.tail_calls_done, 33);
}

// ---- checked mode ----

TEST(CheckedInterpreter, StopsOutOfBoundsAccessesAndNamesTheRegion) {
    uint8_t data[16] = {};
    MemoryRegion region{reinterpret_cast<uintptr_t>(data), sizeof data, true, "packet"};
    const std::vector<uint64_t> args = {reinterpret_cast<uintptr_t>(data)};
    auto in = run("ldxdw %r0, [%r1+8]\nexit", args, {}, true, std::span(&region, 1));
    EXPECT_FALSE(in.fault);
    auto past = run("mov %r0, 0\nldxdw %r0, [%r1+12]\nexit", args, {}, true, std::span(&region, 1));
    ASSERT_TRUE(past.fault);
    EXPECT_EQ(past.fault->pc, 1u);
    EXPECT_NE(past.fault->message.find("read of 8 bytes"), std::string::npos)
        << past.fault->message;
    EXPECT_NE(past.fault->message.find("packet+12"), std::string::npos) << past.fault->message;
    // The fast mode trusts the verifier: the same program is not checked there (not run here).
}

TEST(CheckedInterpreter, RejectsWritesToReadOnlyRegions) {
    uint8_t ctx_bytes[8] = {};
    MemoryRegion region{reinterpret_cast<uintptr_t>(ctx_bytes), sizeof ctx_bytes, false, "context"};
    auto r = run("stw [%r1+0], 1\nexit", {reinterpret_cast<uintptr_t>(ctx_bytes)}, {}, true,
                 std::span(&region, 1));
    ASSERT_TRUE(r.fault);
    EXPECT_NE(r.fault->message.find("context is read-only"), std::string::npos) << r.fault->message;
}

TEST(CheckedInterpreter, StackIsBoundedPerActiveFrames) {
    auto below = run("stdw [%r10-520], 1\nexit", {}, {}, true);
    ASSERT_TRUE(below.fault);
    EXPECT_NE(below.fault->message.find("stack"), std::string::npos);
    auto above = run("ldxdw %r0, [%r10+0]\nexit", {}, {}, true);
    ASSERT_TRUE(above.fault);
    // A callee may read its caller's frame (pointers to the caller's stack are passed down).
    auto caller_frame =
        run("stdw [%r10-8], 5\nmov %r1, %r10\ncall local f\nexit\nf:\nldxdw %r0, [%r1-8]\nexit\n",
            {}, {}, true);
    EXPECT_FALSE(caller_frame.fault);
    EXPECT_EQ(caller_frame.r0, 5u);
}

TEST(CheckedInterpreter, InstructionBudgetStopsEndlessLoops) {
    auto r = run("ja -1\nexit", {}, {}, true, {}, 1000);
    ASSERT_TRUE(r.fault);
    EXPECT_NE(r.fault->message.find("budget of 1000"), std::string::npos);
}

uint64_t give_memory(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext& ctx) {
    static uint64_t value = 5;
    ctx.allow_region(&value, sizeof value, true, "map value");
    return reinterpret_cast<uintptr_t>(&value);
}

TEST(CheckedInterpreter, HelpersCanGrantMemory) {
    HelperTable helpers;
    helpers.set(1, give_memory);
    auto program = assemble("call 1\nldxdw %r0, [%r0+0]\nexit");
    ASSERT_TRUE(program.ok());
    PrepareOptions options;
    options.checked = true;
    auto exe = prepare_interpreter(*program, helpers, options);
    ASSERT_TRUE(exe.ok());
    std::vector<MemoryRegion> dynamic;
    RunContext ctx;
    ctx.dynamic_regions = &dynamic;
    EXPECT_EQ((*exe)->run(ctx, {}), 5u);
    EXPECT_FALSE(ctx.fault);
    RunContext without;  // no dynamic regions: the access is refused
    (*exe)->run(without, {});
    EXPECT_TRUE(without.fault);
}

TEST(Interpreter, ManyThreadsRunOneProgram) {
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
    auto exe = prepare_interpreter(*program, {});
    ASSERT_TRUE(exe.ok());
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
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

}  // namespace
}  // namespace xbpf
