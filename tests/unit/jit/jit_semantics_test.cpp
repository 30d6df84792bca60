// What only the JIT has: it refuses checked mode (the checked interpreter is the oracle) and a
// tail call into a program of another engine faults. (The semantics every engine shares are in
// tests/unit/engines.)
#include <gtest/gtest.h>

#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

class JitSemantics : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    }
};

TEST_F(JitSemantics, CheckedModeIsRefused) {
    auto fine = assemble("mov %r0, 0\nexit");
    ASSERT_TRUE(fine.ok());
    PrepareOptions checked;
    checked.checked = true;
    auto refused = prepare_jit(*fine, {}, checked);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().to_string().find("checked mode runs only in the interpreter"),
              std::string::npos);
}

const Executable* g_tail_target = nullptr;
uint64_t tail_call_helper(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext& ctx) {
    ++ctx.tail_calls_done;
    ctx.tail_call = g_tail_target;
    return 0;
}

TEST_F(JitSemantics, TailCallIntoAnotherEngineFaults) {
    HelperTable helpers;
    helpers.set(12, tail_call_helper);
    auto target = assemble("mov %r0, 1\nexit");
    auto caller = assemble("call 12\nmov %r0, 99\nexit");
    ASSERT_TRUE(target.ok() && caller.ok());
    auto interp_target = prepare_interpreter(*target, helpers);
    auto caller_exe = prepare_jit(*caller, helpers);
    ASSERT_TRUE(interp_target.ok() && caller_exe.ok());
    g_tail_target = interp_target->get();
    RunContext ctx;
    EXPECT_EQ((*caller_exe)->run(ctx, {}), 0u);
    ASSERT_TRUE(ctx.fault);
    EXPECT_EQ(ctx.fault->pc, 0u);
    EXPECT_EQ(ctx.fault->message, "tail call into a program prepared for another engine or mode");
}

}  // namespace
}  // namespace xbpf
