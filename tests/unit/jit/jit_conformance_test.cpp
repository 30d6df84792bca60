// The RFC 9669 conformance suite through the JIT, in process: every program runs to the
// expected result, with and without constant blinding.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "support/conformance_data.hpp"
#include "support/shared_data.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

uint64_t helper_returning_one(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return 1;
}

// Runs one case; returns an empty string on success, else what went wrong.
std::string run_case(const test::ConformanceCase& c, bool blind) {
    auto program = assemble(c.assembly);
    if (!program) return "assembly failed: " + program.error().to_string();
    HelperTable helpers;
    helpers.set(5, helper_returning_one);
    PrepareOptions options;
    options.blind_constants = blind;
    auto exe = prepare_jit(*program, helpers, options);
    if (!exe) {
        if (c.error) return "";
        return "prepare failed: " + exe.error().to_string();
    }
    if ((*exe)->engine() != EngineKind::Jit) return "not a JIT executable";
    std::vector<uint8_t> memory = c.memory;
    RunContext ctx;
    const uint64_t args[2] = {reinterpret_cast<uintptr_t>(memory.data()), memory.size()};
    const uint64_t r0 = (*exe)->run(ctx, args);
    if (ctx.engine != EngineKind::Jit) return "the run did not set ctx.engine";
    if (ctx.fault) {
        if (c.error) return "";
        return fmt::format("fault at {}: {}", ctx.fault->pc, ctx.fault->message);
    }
    if (c.error) return "expected error '" + *c.error + "' but the program ran";
    if (r0 != *c.result) return fmt::format("r0 = {:#x}, expected {:#x}", r0, *c.result);
    return "";
}

void run_suite(bool blind) {
    auto cases = test::load_conformance_suite(test::shared_dir() / "conformance/tests");
    ASSERT_TRUE(cases.ok()) << cases.error().to_string();
    int passed = 0, failed = 0;
    for (const auto& c : *cases) {
        const std::string problem = run_case(c, blind);
        if (problem.empty()) {
            ++passed;
        } else {
            ++failed;
            ADD_FAILURE() << c.name << ": " << problem;
        }
    }
    std::cout << (blind ? "JIT with constant blinding: " : "JIT: ") << passed << " passed, "
              << failed << " failed\n";
    EXPECT_EQ(passed, 313);
}

TEST(JitConformance, WholeSuite) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    XBPF_REQUIRE_SHARED("conformance/tests");
    run_suite(false);
}

TEST(JitConformance, WholeSuiteWithConstantBlinding) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    XBPF_REQUIRE_SHARED("conformance/tests");
    run_suite(true);
}

}  // namespace
}  // namespace xbpf
