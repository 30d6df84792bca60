// The command line from outside: outputs, exit codes (0 ok, 1 failed run, 2 usage or input
// error) and messages that say what and where, for every way the input can be wrong.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/run_command.hpp"

namespace xbpf::test {
namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

TEST(Cli, UnknownSubcommandIsAUsageError) {
    auto r = run_xbpf({"frobnicate"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_FALSE(r.err.empty());
}

TEST(Cli, EverySubcommandHasHelp) {
    for (const char* sub : {"asm", "disasm", "test-run", "bench", "conformance-plugin"}) {
        auto r = run_xbpf({sub, "--help"});
        EXPECT_EQ(r.exit_code, 0) << sub;
        EXPECT_TRUE(contains(r.out, "Usage")) << sub << ": " << r.out;
    }
}

TEST(Cli, AssembleDisassembleAndRun) {
    TempDir dir;
    const auto src = dir.write(
        "p.s",
        "mov %r0, 0\nldxb %r2, [%r1+0]\nadd %r0, %r2\nldxb %r2, [%r1+1]\nadd %r0, %r2\nexit\n");
    auto a = run_xbpf({"asm", src, "-o", dir.path("p.bin")});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    auto d = run_xbpf({"disasm", dir.path("p.bin")});
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_TRUE(contains(d.out, "r2 = *(u8 *)(r1 + 1)")) << d.out;
    auto t = run_xbpf({"test-run", dir.path("p.bin"), "--unverified", "--data-hex", "0507", "-j"});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    auto doc = nlohmann::json::parse(t.out);
    EXPECT_EQ(doc["retval"], 12);
    EXPECT_EQ(doc["data_out"], "0507");
}

TEST(Cli, MissingFile) {
    auto r = run_xbpf({"disasm", "/nonexistent/prog.bin"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "/nonexistent/prog.bin: cannot open")) << r.err;
}

TEST(Cli, AssemblyErrorsNameFileAndLine) {
    TempDir dir;
    const auto src = dir.write("bad.s", "mov %r0, 1\nmovv %r0, 2\nexit\n");
    auto r = run_xbpf({"asm", src});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "bad.s: line 2: unknown mnemonic 'movv'")) << r.err;
}

TEST(Cli, TruncatedBytecode) {
    TempDir dir;
    const auto bin = dir.write("t.bin", std::string("\x95\0\0\0\0\0\0\0\x95\0\0", 11));
    auto r = run_xbpf({"disasm", bin});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "3 bytes left over")) << r.err;
}

TEST(Cli, InvalidOpcodeIsRefusedBeforeRunning) {
    TempDir dir;
    const auto bin = dir.write("i.bin", std::string("\xff\0\0\0\0\0\0\0\x95\0\0\0\0\0\0\0", 16));
    auto r = run_xbpf({"test-run", bin, "--unverified"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "instruction 0: unknown opcode 0xff")) << r.err;
}

TEST(Cli, OutOfRangeJumpIsRefused) {
    TempDir dir;
    const auto src = dir.write("j.s", "ja +5\nexit\n");
    auto r = run_xbpf({"test-run", src, "--unverified"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "outside the program")) << r.err;
}

TEST(Cli, RawProgramsNeedTheUnverifiedFlag) {
    TempDir dir;
    const auto src = dir.write("p.s", "mov %r0, 0\nexit\n");
    auto r = run_xbpf({"test-run", src});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "--unverified")) << r.err;
}

TEST(Cli, FaultingProgramExitsOneWithTheInstruction) {
    TempDir dir;
    const auto src = dir.write("f.s", "mov %r0, 0\nldxdw %r0, [%r1+8]\nexit\n");
    auto r = run_xbpf({"test-run", src, "--unverified", "--data-hex", "0001"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(contains(r.err, "instruction 1: read of 8 bytes")) << r.err;
}

TEST(Cli, ConformancePluginProtocol) {
    auto ok = run_xbpf({"conformance-plugin", "", "01  02"},
                       "61 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(ok.out, "201\n");
    auto bad = run_xbpf({"conformance-plugin", "zz"}, "95 00 00 00 00 00 00 00");
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_TRUE(contains(bad.err, "memory argument")) << bad.err;
    auto bad_prog = run_xbpf({"conformance-plugin"}, "95 00 00");
    EXPECT_NE(bad_prog.exit_code, 0);
    EXPECT_TRUE(contains(bad_prog.err, "program on stdin")) << bad_prog.err;
}

TEST(Cli, BenchSpeaksTheRunnerProtocol) {
    TempDir dir;
    auto a = run_xbpf({"asm", dir.write("b.s", "ldxb %r0, [%r1+0]\nadd %r0, %r2\nexit\n"), "-o",
                       dir.path("b.bin")});
    ASSERT_EQ(a.exit_code, 0);
    const auto input = dir.write("input.bin", std::string("\x07\x00\x00", 3));
    auto r =
        run_xbpf({"bench", "--engine", "interp", "--reps", "3", dir.path("b.bin"), input, "10"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "result=0x000000000000000a iterations=10 reps=3 best_ns="))
        << r.out;
    auto missing = run_xbpf({"bench", dir.path("b.bin"), "/nonexistent", "10"});
    EXPECT_EQ(missing.exit_code, 1);
}

}  // namespace
}  // namespace xbpf::test
