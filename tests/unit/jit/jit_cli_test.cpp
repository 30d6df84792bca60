// The command line's JIT paths: the conformance suite through `xbpf conformance-plugin
// --engine jit` (the suite's own plugin protocol, one process per test) and `xbpf bench
// --engine jit`.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "support/conformance_data.hpp"
#include "support/run_command.hpp"
#include "support/shared_data.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

std::string hex_bytes(std::span<const uint8_t> bytes) {
    std::string s;
    for (uint8_t b : bytes)
        s += fmt::format("{:02x}  ", b);
    return s;
}

TEST(JitCli, ConformancePluginRunsTheWholeSuite) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    XBPF_REQUIRE_SHARED("conformance/tests");
    auto cases = test::load_conformance_suite(test::shared_dir() / "conformance/tests");
    ASSERT_TRUE(cases.ok());
    int passed = 0, failed = 0;
    for (const auto& c : *cases) {
        auto program = assemble(c.assembly);
        ASSERT_TRUE(program.ok()) << c.name;
        const auto r =
            test::run_xbpf({"conformance-plugin", "--engine", "jit", hex_bytes(c.memory)},
                           hex_bytes(encode(*program)));
        const bool ok = c.error ? r.exit_code != 0
                                : r.exit_code == 0 && r.out == fmt::format("{:x}\n", *c.result);
        if (ok) {
            ++passed;
        } else {
            ++failed;
            ADD_FAILURE() << c.name << ": exit " << r.exit_code << ", out '" << r.out << "', err '"
                          << r.err << "'";
        }
    }
    std::cout << "conformance-plugin --engine jit: " << passed << " passed, " << failed
              << " failed\n";
    EXPECT_EQ(passed, 313);
}

TEST(JitCli, CheckedModeIsTheInterpreters) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    const std::string exit_program = "b7 00 00 00 07 00 00 00 95 00 00 00 00 00 00 00";
    auto checked = test::run_xbpf({"conformance-plugin", "--checked"}, exit_program);
    EXPECT_EQ(checked.exit_code, 0) << checked.err;
    EXPECT_EQ(checked.out, "7\n");
    auto both =
        test::run_xbpf({"conformance-plugin", "--checked", "--engine", "jit"}, exit_program);
    EXPECT_NE(both.exit_code, 0);
    EXPECT_NE(both.err.find("--checked runs in the interpreter"), std::string::npos) << both.err;
}

TEST(JitCli, BenchRunsOnTheJit) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    test::TempDir dir;
    auto a = test::run_xbpf({"asm", dir.write("b.s", "ldxb %r0, [%r1+0]\nadd %r0, %r2\nexit\n"),
                             "-o", dir.path("b.bin")});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    const std::string input = dir.write("in.bin", std::string("\x05\x06\x07", 3));
    for (const char* engine : {"jit", "interp"}) {
        auto r = test::run_xbpf(
            {"bench", "--engine", engine, "--reps", "2", dir.path("b.bin"), input, "10"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out.rfind("result=0x0000000000000008 iterations=10 reps=2 best_ns=", 0), 0u)
            << r.out;
    }
}

}  // namespace
}  // namespace xbpf
