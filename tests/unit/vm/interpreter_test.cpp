// The checked interpreter's own duties: bounds checks naming the region, read-only regions,
// the stack of the active frames, the instruction budget, memory helpers grant. (The semantics
// every engine shares are in tests/unit/engines.)
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/engines.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

// Runs `assembly` in the checked interpreter with an instruction budget.
test::Outcome run(std::string_view assembly, std::vector<uint64_t> args = {},
                  const HelperTable& helpers = {}, std::span<const MemoryRegion> regions = {},
                  uint64_t budget = 1'000'000) {
    PrepareOptions options;
    options.instruction_budget = budget;
    return test::run_assembly(test::Engine::InterpreterChecked, assembly, args, helpers, regions,
                              options);
}

// ---- checked mode ----

TEST(CheckedInterpreter, StopsOutOfBoundsAccessesAndNamesTheRegion) {
    uint8_t data[16] = {};
    MemoryRegion region{reinterpret_cast<uintptr_t>(data), sizeof data, true, "packet"};
    const std::vector<uint64_t> args = {reinterpret_cast<uintptr_t>(data)};
    auto in = run("ldxdw %r0, [%r1+8]\nexit", args, {}, std::span(&region, 1));
    EXPECT_FALSE(in.fault);
    auto past = run("mov %r0, 0\nldxdw %r0, [%r1+12]\nexit", args, {}, std::span(&region, 1));
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
    auto r = run("stw [%r1+0], 1\nexit", {reinterpret_cast<uintptr_t>(ctx_bytes)}, {},
                 std::span(&region, 1));
    ASSERT_TRUE(r.fault);
    EXPECT_NE(r.fault->message.find("context is read-only"), std::string::npos) << r.fault->message;
}

TEST(CheckedInterpreter, StackIsBoundedPerActiveFrames) {
    auto below = run("stdw [%r10-520], 1\nexit", {}, {});
    ASSERT_TRUE(below.fault);
    EXPECT_NE(below.fault->message.find("stack"), std::string::npos);
    auto above = run("ldxdw %r0, [%r10+0]\nexit", {}, {});
    ASSERT_TRUE(above.fault);
    // A callee may read its caller's frame (pointers to the caller's stack are passed down).
    auto caller_frame =
        run("stdw [%r10-8], 5\nmov %r1, %r10\ncall local f\nexit\nf:\nldxdw %r0, [%r1-8]\nexit\n",
            {}, {});
    EXPECT_FALSE(caller_frame.fault);
    EXPECT_EQ(caller_frame.r0, 5u);
}

TEST(CheckedInterpreter, InstructionBudgetStopsEndlessLoops) {
    auto r = run("ja -1\nexit", {}, {}, {}, 1000);
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

// bpf_loop(3, cb, ctx = r10 - 8, 0); the callback's body is `callback`.
std::string loop_with_callback(const std::string& callback, int count = 3) {
    return fmt::format(
        "stdw [%r10-8], 0\nmov %r1, {}\nlddw %r2, func:cb\nmov %r3, %r10\nadd %r3, -8\n"
        "mov %r4, 0\ncall 181\nexit\ncb:\n{}",
        count, callback);
}

TEST(CheckedInterpreter, CallbacksSeeTheCallersFramesAndNothingBeyond) {
    const HelperTable& helpers = HelperCatalog::linux_helpers().table();
    // The caller's frame is active while its callback runs: reachable through the context.
    auto fine = run(loop_with_callback("ldxdw %r0, [%r2+0]\nmov %r0, 0\nexit\n"), {}, helpers);
    EXPECT_FALSE(fine.fault) << fine.fault->message;
    EXPECT_EQ(fine.r0, 3u);
    // Past the top of the caller's frame (the first frame's top is the stack's end).
    auto above = run(loop_with_callback("ldxdw %r0, [%r2+8]\nmov %r0, 0\nexit\n"), {}, helpers);
    ASSERT_TRUE(above.fault);
    EXPECT_EQ(above.fault->pc, 9u);
    EXPECT_NE(above.fault->message.find("read of 8 bytes"), std::string::npos)
        << above.fault->message;
    // Below the callback's own frame.
    auto below = run(loop_with_callback("stdw [%r10-520], 1\nmov %r0, 0\nexit\n"), {}, helpers);
    ASSERT_TRUE(below.fault);
    EXPECT_EQ(below.fault->pc, 9u);
}

TEST(CheckedInterpreter, TheInstructionBudgetCoversCallbacks) {
    const HelperTable& helpers = HelperCatalog::linux_helpers().table();
    const std::string program = loop_with_callback("mov %r0, 0\nexit\n", 1000);
    EXPECT_FALSE(run(program, {}, helpers, {}, 5000).fault);
    auto r = run(program, {}, helpers, {}, 1000);
    ASSERT_TRUE(r.fault);
    EXPECT_NE(r.fault->message.find("budget of 1000"), std::string::npos) << r.fault->message;
}

}  // namespace
}  // namespace xbpf
