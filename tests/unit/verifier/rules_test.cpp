// Per rule: a minimal safe program is accepted and its minimal unsafe twin rejected, with a
// message that names the property. Programs are written in the conformance assembly syntax.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "xbpf/helpers.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/program_type.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf {
namespace {

MapSpec array_map(uint32_t value_size, uint32_t entries = 4) {
    MapSpec m;
    m.name = "values";
    m.type = MapType::Array;
    m.key_size = 4;
    m.value_size = value_size;
    m.max_entries = entries;
    return m;
}

MapSpec hash_map(uint32_t value_size) {
    MapSpec m = array_map(value_size, 16);
    m.name = "table";
    m.type = MapType::Hash;
    return m;
}

MapSpec ringbuf_map() {
    MapSpec m;
    m.name = "events";
    m.type = MapType::Ringbuf;
    m.max_entries = 4096;
    return m;
}

struct Case {
    std::string type = "xdp";
    std::vector<MapSpec> maps;
    bool privileged = true;
    uint64_t budget = 1'000'000;
};

VerifierReport check(const std::string& text, const Case& run = {}) {
    auto program = assemble(text);
    EXPECT_TRUE(program.ok()) << (program.ok() ? "" : program.error().to_string());
    if (!program.ok()) return {};
    auto type = ProgramTypeRegistry::global().find(run.type);
    EXPECT_TRUE(type) << run.type;
    VerifierInput input;
    input.program = *program;
    input.type = type.get();
    input.maps = run.maps;
    input.helpers = &HelperCatalog::linux_helpers();
    input.options.privileged = run.privileged;
    input.options.max_visited_instructions = run.budget;
    return verify(input);
}

void expect_accept(const std::string& text, const Case& run = {}) {
    const auto r = check(text, run);
    EXPECT_TRUE(r.accepted) << text << "\n" << r.message;
}

void expect_reject(const std::string& text, const std::string& phrase, const Case& run = {}) {
    const auto r = check(text, run);
    EXPECT_FALSE(r.accepted) << text;
    EXPECT_NE(r.message.find(phrase), std::string::npos) << "message lacks '" << phrase << "':\n"
                                                         << r.message;
}

// Looks up key 0 of map 0 into r0.
const char* kLookup =
    "stw [%r10-4], 0\n"
    "mov %r2, %r10\n"
    "add %r2, -4\n"
    "lddw %r1, map_idx:0\n"
    "call 1\n";

TEST(VerifierRules, NullCheckBeforeDereference) {
    Case run{.type = "xdp", .maps = {hash_map(8)}};
    expect_accept(
        fmt::format("{}{}", kLookup, "jeq %r0, 0, out\nldxdw %r1, [%r0]\nout:\nmov %r0, 2\nexit\n"),
        run);
    expect_reject(fmt::format("{}{}", kLookup, "ldxdw %r1, [%r0]\nmov %r0, 2\nexit\n"),
                  "may be NULL", run);
}

TEST(VerifierRules, CopiesShareTheNullCheck) {
    Case run{.type = "xdp", .maps = {hash_map(8)}};
    expect_accept(
        fmt::format("{}{}", kLookup,
                    "mov %r6, %r0\njeq %r0, 0, out\nldxdw %r1, [%r6]\nout:\nmov %r0, 2\nexit\n"),
        run);
}

TEST(VerifierRules, ArrayLookupWithConstantKeyCannotFail) {
    Case run{.type = "xdp", .maps = {array_map(8)}};
    expect_accept(fmt::format("{}{}", kLookup, "ldxdw %r1, [%r0]\nmov %r0, 2\nexit\n"), run);
}

const char* kPacket =
    "ldxw %r2, [%r1]\n"     // data
    "ldxw %r3, [%r1+4]\n";  // data_end

TEST(VerifierRules, PacketAccessNeedsBoundsCheck) {
    expect_accept(fmt::format("{}{}", kPacket,
                              "mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxh %r0, "
                              "[%r2+12]\nout:\nmov %r0, 2\nexit\n"));
    expect_reject(fmt::format("{}{}", kPacket, "ldxh %r0, [%r2+12]\nmov %r0, 2\nexit\n"),
                  "data_end");
    // The check covers 10 bytes; the read needs 14.
    expect_reject(fmt::format("{}{}", kPacket,
                              "mov %r4, %r2\nadd %r4, 10\njgt %r4, %r3, out\nldxh %r0, "
                              "[%r2+12]\nout:\nmov %r0, 2\nexit\n"),
                  "data_end");
}

TEST(VerifierRules, PacketPointersDieWhenThePacketMoves) {
    const std::string check =
        fmt::format("{}{}", kPacket, "mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\n");
    expect_accept(fmt::format("{}{}", check, "ldxb %r0, [%r2]\nout:\nmov %r0, 2\nexit\n"));
    // bpf_xdp_adjust_head (44) may move the packet: the old pointer is no longer usable.
    expect_reject(
        fmt::format("{}{}", check,
                    "mov %r6, %r2\nmov %r2, 4\ncall 44\nldxb %r0, [%r6]\nout:\nmov %r0, 2\nexit\n"),
        "may have moved or resized the packet");
}

TEST(VerifierRules, StackReadsOnlyWrittenBytes) {
    Case run{.type = "xdp", .maps = {}, .privileged = false};
    expect_accept("stdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nmov %r0, 2\nexit\n", run);
    expect_reject("ldxdw %r0, [%r10-8]\nmov %r0, 2\nexit\n", "never written", run);
    // Privileged loads may read stack bytes never written, as Linux allows.
    expect_accept("ldxdw %r0, [%r10-8]\nmov %r0, 2\nexit\n");
}

TEST(VerifierRules, StackStaysInsideItsFrame) {
    expect_accept("stdw [%r10-512], 1\nmov %r0, 2\nexit\n");
    expect_reject("stdw [%r10-520], 1\nmov %r0, 2\nexit\n", "out of bounds");
    expect_reject("stdw [%r10], 1\nmov %r0, 2\nexit\n", "out of bounds");
}

TEST(VerifierRules, SpilledPointersKeepTheirType) {
    expect_accept(fmt::format(
        "{}{}", kPacket,
        "stxdw [%r10-8], %r2\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, out\nldxdw %r5, [%r10-8]\n"
        "ldxb %r0, [%r5]\nout:\nmov %r0, 2\nexit\n"));
}

TEST(VerifierRules, MapValueAccessStaysInsideTheValue) {
    Case run{.type = "xdp", .maps = {array_map(8)}};
    expect_accept(fmt::format("{}{}", kLookup, "ldxw %r1, [%r0+4]\nmov %r0, 2\nexit\n"), run);
    expect_reject(fmt::format("{}{}", kLookup, "ldxw %r1, [%r0+8]\nmov %r0, 2\nexit\n"), "outside",
                  run);
    expect_reject(fmt::format("{}{}", kLookup, "ldxw %r1, [%r0-4]\nmov %r0, 2\nexit\n"), "outside",
                  run);
}

TEST(VerifierRules, VariableOffsetsIntoMapValuesMustBeBounded) {
    Case run{.type = "xdp", .maps = {array_map(64)}};
    // A number from the context, masked to 0..31, indexes a 64-byte value.
    const std::string base =
        "mov %r6, %r1\n" + fmt::format("{}{}", kLookup, "ldxw %r7, [%r6+16]\n");
    expect_accept(
        fmt::format("{}{}", base, "and %r7, 31\nadd %r0, %r7\nldxb %r1, [%r0]\nmov %r0, 2\nexit\n"),
        run);
    expect_reject(fmt::format("{}{}", base,
                              "and %r7, 127\nadd %r0, %r7\nldxb %r1, [%r0]\nmov %r0, 2\nexit\n"),
                  "outside", run);
    expect_reject(fmt::format("{}{}", base, "add %r0, %r7\nldxb %r1, [%r0]\nmov %r0, 2\nexit\n"),
                  "not bounded", run);
}

TEST(VerifierRules, UninitialisedRegistersAreNotRead) {
    expect_accept("mov %r2, 1\nmov %r0, %r2\nexit\n");
    expect_reject("mov %r0, %r2\nexit\n", "r2 has no value");
    expect_reject("exit\n", "r0 has no value");
}

TEST(VerifierRules, LoopsMustTerminate) {
    expect_accept("mov %r1, 0\nloop:\nadd %r1, 1\njlt %r1, 100, loop\nmov %r0, 2\nexit\n");
    expect_reject("loop:\nja loop\n", "infinite loop");
    expect_reject("mov %r1, 0\nloop:\nadd %r1, 0\njlt %r1, 100, loop\nmov %r0, 2\nexit\n",
                  "infinite loop");
    Case small{.type = "xdp", .maps = {}, .privileged = true, .budget = 10'000};
    expect_reject("ldxw %r1, [%r1+16]\nloop:\nadd %r1, 1\njne %r1, 0, loop\nmov %r0, 2\nexit\n",
                  "too complex", small);
}

TEST(VerifierRules, RingbufReservationsAreReleased) {
    Case run{.type = "xdp", .maps = {ringbuf_map()}};
    const std::string reserve = "lddw %r1, map_idx:0\nmov %r2, 16\nmov %r3, 0\ncall 131\n";
    expect_accept(fmt::format("{}{}", reserve,
                              "jeq %r0, 0, out\nstdw [%r0+8], 1\nmov %r1, %r0\nmov %r2, 0\ncall "
                              "132\nout:\nmov %r0, 2\nexit\n"),
                  run);
    expect_reject(
        fmt::format("{}{}", reserve, "jeq %r0, 0, out\nstdw [%r0+8], 1\nout:\nmov %r0, 2\nexit\n"),
        "not released", run);
    expect_reject(fmt::format("{}{}", reserve,
                              "jeq %r0, 0, out\nstdw [%r0+16], 1\nmov %r1, %r0\nmov %r2, 0\ncall "
                              "132\nout:\nmov %r0, 2\nexit\n"),
                  "outside", run);
}

TEST(VerifierRules, HelpersMustBeAllowedForTheType) {
    expect_accept("mov %r2, 4\ncall 44\nmov %r0, 2\nexit\n");  // xdp_adjust_head in xdp
    expect_reject("mov %r2, 4\ncall 44\nmov %r0, 2\nexit\n", "may not call",
                  Case{.type = "socket_filter", .maps = {}});
    expect_reject("call 999999\nmov %r0, 2\nexit\n", "does not exist");
}

TEST(VerifierRules, HelperArgumentsMatchTheirPrototypes) {
    Case run{.type = "xdp", .maps = {hash_map(8)}};
    // The key must be 4 initialised bytes.
    expect_reject("mov %r2, %r10\nadd %r2, -4\nlddw %r1, map_idx:0\ncall 1\nmov %r0, 2\nexit\n",
                  "never written", Case{.type = "xdp", .maps = {hash_map(8)}, .privileged = false});
    // The map argument must be a map.
    expect_reject(
        "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nmov %r1, 0\ncall 1\nmov %r0, 2\nexit\n",
        "must be a map", run);
}

TEST(VerifierRules, TailCallsNeedAProgArray) {
    MapSpec progs = array_map(4);
    progs.type = MapType::ProgArray;
    expect_accept("lddw %r2, map_idx:0\nmov %r3, 0\ncall 12\nmov %r0, 2\nexit\n",
                  Case{.type = "xdp", .maps = {progs}});
    expect_reject("lddw %r2, map_idx:0\nmov %r3, 0\ncall 12\nmov %r0, 2\nexit\n", "prog_array",
                  Case{.type = "xdp", .maps = {array_map(4)}});
}

TEST(VerifierRules, PointersDoNotLeakWhenUnprivileged) {
    Case unpriv{.type = "xdp", .maps = {array_map(8)}, .privileged = false};
    expect_reject(fmt::format("{}{}", kLookup, "stxdw [%r0], %r10\nmov %r0, 2\nexit\n"), "leak",
                  unpriv);
    Case priv{.type = "xdp", .maps = {array_map(8)}};
    expect_accept(fmt::format("{}{}", kLookup, "stxdw [%r0], %r10\nmov %r0, 2\nexit\n"), priv);
    expect_reject("mov %r0, %r10\nexit\n", "leak",
                  Case{.type = "socket_filter", .maps = {}, .privileged = false});
}

TEST(VerifierRules, ReturnValueInTheTypesRange) {
    expect_accept("mov %r0, 1\nexit\n", Case{.type = "cgroup_skb", .maps = {}});
    expect_reject("mov %r0, 7\nexit\n", "must return", Case{.type = "cgroup_skb", .maps = {}});
}

TEST(VerifierRules, PointerArithmeticRules) {
    Case run{.type = "xdp", .maps = {hash_map(8)}};
    expect_reject(fmt::format("{}{}", kLookup, "add %r0, 4\nmov %r0, 2\nexit\n"), "NULL", run);
    expect_reject("mov %r2, %r10\nmul %r2, 2\nmov %r0, 2\nexit\n", "only adding");
    expect_reject("mov32 %r2, %r10\nadd32 %r2, 4\nmov %r0, 2\nexit\n", "leak",
                  Case{.type = "xdp", .maps = {}, .privileged = false});
    expect_reject("mov %r2, %r10\nadd32 %r2, 4\nmov %r0, 2\nexit\n",
                  "32-bit arithmetic on a pointer");
    expect_reject("ldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nadd %r3, 1\nmov %r0, 2\nexit\n",
                  "cannot be moved");
}

TEST(VerifierRules, ContextFieldsFollowTheContract) {
    expect_accept("ldxw %r2, [%r1+12]\nmov %r0, 2\nexit\n");  // xdp_md.ingress_ifindex
    expect_reject("stw [%r1], 0\nmov %r0, 2\nexit\n", "context");
    expect_reject("ldxw %r2, [%r1+200]\nmov %r0, 2\nexit\n", "context");
}

TEST(VerifierRules, CallsNestAtMostEightFrames) {
    std::string ok = "call local f1\nmov %r0, 2\nexit\n";
    for (int i = 1; i < 7; ++i)
        ok += fmt::format("f{}:\ncall local f{}\nexit\n", i, i + 1);
    ok += "f7:\nmov %r0, 0\nexit\n";
    expect_accept(ok);
    std::string deep = "call local f1\nmov %r0, 2\nexit\n";
    for (int i = 1; i < 8; ++i)
        deep += fmt::format("f{}:\ncall local f{}\nexit\n", i, i + 1);
    deep += "f8:\nmov %r0, 0\nexit\n";
    expect_reject(deep, "nest");
}

TEST(VerifierRules, StackLimitCountsAllFrames) {
    expect_accept(
        "stdw [%r10-256], 1\ncall local f\nmov %r0, 2\nexit\nf:\nstdw [%r10-256], 1\nmov %r0, "
        "0\nexit\n");
    expect_reject(
        "stdw [%r10-512], 1\ncall local f\nmov %r0, 2\nexit\nf:\nstdw [%r10-64], 1\nmov %r0, "
        "0\nexit\n",
        "512");
}

TEST(VerifierRules, DivisionByConstantZero) {
    expect_accept("mov %r0, 4\ndiv %r0, 2\nexit\n");
    expect_reject("mov %r0, 4\ndiv %r0, 0\nexit\n", "zero");
}

TEST(VerifierRules, UnreachableCodeIsANote) {
    const auto r = check("mov %r0, 2\nexit\nmov %r0, 1\nexit\n");
    EXPECT_TRUE(r.accepted) << r.message;
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_NE(r.warnings[0].find("unreachable"), std::string::npos);
}

TEST(VerifierRules, StructureIsChecked) {
    expect_reject("ja +5\nmov %r0, 2\nexit\n", "");
    expect_reject("mov %r0, 2\n", "");
}

TEST(VerifierRules, BoundedLoopHelperCallback) {
    // bpf_loop(10, cb, NULL, 0): the callback returns 0.
    expect_accept(
        "mov %r1, 10\nlddw %r2, func:cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, "
        "2\nexit\ncb:\nmov %r0, 0\nexit\n");
    expect_reject(
        "mov %r1, 10\nlddw %r2, func:cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, "
        "2\nexit\ncb:\nmov %r0, 5\nexit\n",
        "callback");
}

// bpf_loop(4, cb, ctx = r10 - 16, 0) with [r10-16] = a counter, [r10-8] = 0; cb is `body`.
std::string loop_with_counter(const std::string& body) {
    return "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r1, 4\nlddw %r2, func:cb\nmov %r3, "
           "%r10\nadd %r3, -16\nmov %r4, 0\ncall 181\nmov %r0, 2\nexit\ncb:\n" +
           body;
}

TEST(VerifierRules, CallbackCountersInTheCallersStackConverge) {
    // A counter the callback increments through its context differs at every call: the
    // callback's entries are widened instead of followed one by one.
    expect_accept(loop_with_counter(
        "ldxdw %r3, [%r2+0]\nadd %r3, 1\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit\n"));
    // Widened, the counter is no longer a known index: using it unchecked is refused...
    expect_reject(loop_with_counter("ldxdw %r3, [%r2+0]\nmov %r4, %r2\nadd %r4, %r3\n"
                                    "stb [%r4+8], 1\nadd %r3, 1\nstxdw [%r2+0], %r3\n"
                                    "mov %r0, 0\nexit\n"),
                  "");
    // ... and checked, it is fine.
    expect_accept(
        loop_with_counter("ldxdw %r3, [%r2+0]\njge %r3, 8, done\nmov %r4, %r2\n"
                          "add %r4, %r3\nstb [%r4+8], 1\nadd %r3, 1\n"
                          "stxdw [%r2+0], %r3\ndone:\nmov %r0, 0\nexit\n"));
}

TEST(VerifierMessages, ExplainWhereWhatAndHow) {
    Case run{.type = "xdp", .maps = {hash_map(8)}};
    const auto r = check(
        fmt::format("{}{}", kLookup,
                    "mov %r6, 1\njeq %r6, 2, skip\nldxdw %r1, [%r0]\nskip:\nmov %r0, 2\nexit\n"),
        run);
    ASSERT_FALSE(r.accepted);
    ASSERT_TRUE(r.pc.has_value());
    EXPECT_NE(r.message.find(fmt::format("instruction {}", *r.pc)), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("*(u64 *)(r0 + 0)"), std::string::npos) << r.message;  // disassembly
    EXPECT_NE(r.message.find("bpf_map_lookup_elem at instruction 5"), std::string::npos)
        << r.message;
    EXPECT_NE(r.message.find("state:"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("r0 = map_value_or_null"), std::string::npos) << r.message;
    EXPECT_FALSE(r.reason.empty());
}

TEST(VerifierMessages, VerboseLogShowsStatePerInstruction) {
    auto program = assemble("mov %r0, 2\nexit\n");
    ASSERT_TRUE(program.ok());
    auto type = ProgramTypeRegistry::global().find("xdp");
    VerifierInput input;
    input.program = *program;
    input.type = type.get();
    input.helpers = &HelperCatalog::linux_helpers();
    input.options.verbose = true;
    const auto r = verify(input);
    EXPECT_TRUE(r.accepted);
    EXPECT_NE(r.log.find("0: r0 = 2"), std::string::npos) << r.log;
    EXPECT_NE(r.log.find("r0=scalar 2"), std::string::npos) << r.log;
}

}  // namespace
}  // namespace xbpf

namespace xbpf {
namespace {

TEST(VerifierRules, ContextPointerMustNotMoveBeforeADereference) {
    expect_accept("ldxw %r2, [%r1+4]\nmov %r0, 2\nexit\n");
    expect_reject("mov %r2, %r1\nadd %r2, 4\nldxw %r3, [%r2]\nmov %r0, 2\nexit\n",
                  "unmodified context pointer");
    // Moving it by a variable is allowed (a trace record's field for a probe read); reading
    // through it is not.
    Case tp{.type = "tracepoint", .maps = {}};
    expect_accept("ldxw %r2, [%r1+8]\nand %r2, 255\nmov %r3, %r1\nadd %r3, %r2\nmov %r0, 0\nexit\n",
                  tp);
    expect_reject("ldxw %r2, [%r1+8]\nand %r2, 255\nadd %r1, %r2\nldxb %r0, [%r1]\nexit\n",
                  "variable offset", tp);
}

TEST(VerifierRules, HelpersThatSleepNeedASleepableProgram) {
    Case kprobe{.type = "kprobe", .maps = {}};
    const char* copy =
        "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 148\nmov %r0, 0\nexit\n";
    expect_reject(copy, "may sleep", kprobe);
    Case syscall{.type = "syscall", .maps = {}};  // always sleepable
    expect_accept(copy, syscall);
}

TEST(VerifierRules, HelpersOfLinux618) {
    // Since Linux 6.x every type with CAP_PERFMON may ask for the current task's ids.
    Case filter{.type = "socket_filter", .maps = {}};
    expect_accept("call 15\nmov %r0, 0\nexit\n", filter);
    expect_reject("call 44\nmov %r0, 0\nexit\n", "may not call", filter);
    // Helpers some kernels lack are accepted with a note that says so.
    Case kprobe{.type = "kprobe", .maps = {}};
    const auto r = check("mov %r2, 0\ncall 58\nmov %r0, 0\nexit\n", kprobe);
    EXPECT_TRUE(r.accepted) << r.message;
    ASSERT_FALSE(r.warnings.empty());
    EXPECT_NE(r.warnings.front().find("CONFIG_BPF_KPROBE_OVERRIDE"), std::string::npos);
}

TEST(VerifierRules, TailCallLeavesR0Unset) {
    Case run{.type = "xdp", .maps = {[] {
                                MapSpec m;
                                m.name = "jumps";
                                m.type = MapType::ProgArray;
                                m.key_size = 4;
                                m.value_size = 4;
                                m.max_entries = 4;
                                return m;
                            }()}};
    expect_reject("lddw %r2, map_idx:0\nmov %r3, 0\ncall 12\nexit\n", "returns nothing", run);
}

TEST(VerifierRules, PrivilegedLoadsMaySubtractPointersIn32Bits) {
    const std::string program = fmt::format("{}{}", kPacket, "sub32 %r3, %r2\nmov %r0, 2\nexit\n");
    const auto r = check(program);
    EXPECT_TRUE(r.accepted) << r.message;
    expect_reject(program, "32-bit arithmetic on a pointer",
                  Case{.type = "xdp", .maps = {}, .privileged = false});
}

// A number that differs between two paths and later bounds an access: pruning the second path
// against the first would miss the out-of-bounds one (precision tracking must mark it).
TEST(VerifierRules, ValuesThatLaterMatterAreNotForgottenByPruning) {
    Case run{.type = "xdp", .maps = {array_map(16)}};
    const std::string choose =
        "mov %r6, %r1\nldxw %r7, [%r6+12]\njgt %r7, 10, big\nmov %r8, 0\nja join\nbig:\n"
        "mov %r8, {}\njoin:\n"  // many instructions and a second branch, so a state is stored
        "mov %r9, 1\nadd %r9, 1\nadd %r9, 1\nadd %r9, 1\nadd %r9, 1\njgt %r7, 20, next\n"
        "add %r9, 1\nnext:\nadd %r9, 1\nadd %r9, 1\nadd %r9, 1\nstxdw [%r10-16], %r8\n";
    const std::string use = std::string(kLookup) +
                            "jeq %r0, 0, out\nldxdw %r8, [%r10-16]\nadd %r0, %r8\n"
                            "ldxb %r1, [%r0+8]\nout:\nmov %r0, 2\nexit\n";
    expect_accept(fmt::format(fmt::runtime(choose + use), 4), run);
    expect_reject(fmt::format(fmt::runtime(choose + use), 12), "outside", run);
}

// Numbers nobody checks (a running sum) must not stop pruning: the loop's paths converge.
TEST(VerifierRules, UncheckedNumbersDoNotMultiplyPaths) {
    Case run{.type = "xdp", .maps = {array_map(8, 64)}, .privileged = true, .budget = 60'000};
    expect_accept(
        "mov %r7, 0\nmov %r6, 0\nloop:\nstxw [%r10-4], %r6\nmov %r2, %r10\nadd %r2, -4\n"
        "lddw %r1, map_idx:0\ncall 1\njeq %r0, 0, next\nldxdw %r1, [%r0]\njgt %r1, 1000, next\n"
        "add %r7, %r1\nnext:\nadd %r6, 1\njlt %r6, 60, loop\nmov %r0, %r7\nand %r0, 1\nexit\n",
        run);
}

}  // namespace
}  // namespace xbpf

namespace xbpf {
namespace {

// fentry/LSM arguments may be kernel pointers: read through (at any offset, as Linux's loads
// that cannot fault), never written; other types' numbers stay numbers.
TEST(VerifierRules, TracingProgramsReadThroughKernelPointers) {
    Case fentry{.type = "tracing", .maps = {}};
    expect_accept("ldxdw %r2, [%r1]\nldxdw %r3, [%r2+16]\nldxw %r0, [%r3+4]\nmov %r0, 0\nexit\n",
                  fentry);
    expect_reject("ldxdw %r2, [%r1]\nstw [%r2+16], 1\nmov %r0, 0\nexit\n", "kernel pointer",
                  fentry);
    Case raw{.type = "raw_tracepoint", .maps = {}};
    expect_reject("ldxdw %r2, [%r1]\nldxdw %r3, [%r2+16]\nmov %r0, 0\nexit\n", "number", raw);
}

}  // namespace
}  // namespace xbpf

namespace xbpf {
namespace {

// `if (data_end - data < 14) return;` proves 14 bytes (signed comparisons: a negative
// distance is not a length), which Linux cannot see and PREVAIL can.
TEST(VerifierRules, PacketLengthChecksProveBytes) {
    const std::string len = fmt::format("{}{}", kPacket, "mov %r4, %r3\nsub %r4, %r2\n");
    expect_accept(len + "jslt %r4, 14, out\nldxh %r0, [%r2+12]\nout:\nmov %r0, 2\nexit\n");
    expect_reject(len + "jslt %r4, 14, out\nldxh %r0, [%r2+13]\nout:\nmov %r0, 2\nexit\n",
                  "data_end");
    expect_reject(len + "jlt %r4, 14, out\nldxh %r0, [%r2+12]\nout:\nmov %r0, 2\nexit\n",
                  "data_end");
    // Unprivileged loads may not subtract pointers at all.
    expect_reject(len + "mov %r0, 2\nexit\n", "privileged",
                  Case{.type = "xdp", .maps = {}, .privileged = false});
}

}  // namespace
}  // namespace xbpf
