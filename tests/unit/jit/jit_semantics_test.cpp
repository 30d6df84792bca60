// What only the JIT has: it refuses checked mode (the checked interpreter is the oracle). (The
// semantics every engine shares are in tests/unit/engines.)
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

}  // namespace
}  // namespace xbpf
