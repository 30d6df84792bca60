// Disassembler: kernel/LLVM style as bpftool and llvm-objdump print it.
#include <gtest/gtest.h>

#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

std::string one(std::string_view assembly) {
    auto p = assemble(assembly);
    EXPECT_TRUE(p.ok()) << (p ? "" : p.error().to_string());
    return p ? disassemble_insn(*p, 0) : std::string();
}

TEST(Disassembler, KernelStyle) {
    EXPECT_EQ(one("ldxw %r0, [%r1+4]"), "r0 = *(u32 *)(r1 + 4)");
    EXPECT_EQ(one("ldxsh %r0, [%r1-2]"), "r0 = *(s16 *)(r1 - 2)");
    EXPECT_EQ(one("stxdw [%r10-8], %r1"), "*(u64 *)(r10 - 8) = r1");
    EXPECT_EQ(one("stw [%r10-4], 7"), "*(u32 *)(r10 - 4) = 7");
    EXPECT_EQ(one("add %r1, %r2"), "r1 += r2");
    EXPECT_EQ(one("add32 %r1, -3"), "w1 += -3");
    EXPECT_EQ(one("sdiv %r1, %r2"), "r1 s/= r2");
    EXPECT_EQ(one("smod32 %r1, 3"), "w1 s%= 3");
    EXPECT_EQ(one("arsh %r1, 3"), "r1 s>>= 3");
    EXPECT_EQ(one("neg %r4"), "r4 = -r4");
    EXPECT_EQ(one("movsx864 %r1, %r2"), "r1 = (s8)r2");
    EXPECT_EQ(one("be16 %r3"), "r3 = be16 r3");
    EXPECT_EQ(one("le32 %r3"), "r3 = le32 r3");
    EXPECT_EQ(one("bswap64 %r3"), "r3 = bswap64 r3");
    EXPECT_EQ(one("lock add [%r1+0], %r2"), "lock *(u64 *)(r1 + 0) += r2");
    EXPECT_EQ(one("lock or32 [%r1+8], %r2"), "lock *(u32 *)(r1 + 8) |= w2");
    EXPECT_EQ(one("lock fetch add [%r1+0], %r2"), "r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)");
    EXPECT_EQ(one("lock xchg [%r1+0], %r2"), "r2 = xchg_64(r1 + 0, r2)");
    EXPECT_EQ(one("lock cmpxchg32 [%r1+0], %r2"), "w0 = cmpxchg32_32(r1 + 0, w0, w2)");
    EXPECT_EQ(one("lddw %r1, 0x1122334455667788\nexit"), "r1 = 0x1122334455667788 ll");
    EXPECT_EQ(one("lddw %r1, map_idx:3\nexit"), "r1 = map[idx:3]");
    EXPECT_EQ(one("lddw %r1, map_value_idx:0:8\nexit"), "r1 = map[idx:0][0]+8");
    EXPECT_EQ(one("ldabsb 12"), "r0 = *(u8 *)skb[12]");
    EXPECT_EQ(one("ldindh %r2, 4"), "r0 = *(u16 *)skb[r2 + 4]");
    EXPECT_EQ(one("call 1"), "call bpf_map_lookup_elem#1");
    EXPECT_EQ(one("call 100000"), "call #100000");
    EXPECT_EQ(one("call %r2"), "callx r2");
    EXPECT_EQ(one("exit"), "exit");
    EXPECT_EQ(one("jsgt32 %r1, %r2, +3"), "if w1 s> w2 goto +3");
    EXPECT_EQ(one("jset %r1, 0x10, -1"), "if r1 & 16 goto -1");
}

TEST(Disassembler, LabelsJumpTargets) {
    auto p = assemble("jgt %r1, %r2, out\nmov %r0, 1\nexit\nout:\nmov %r0, 2\nexit\n");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(disassemble(*p),
              "\tif r1 > r2 goto +2 <L0>\n\tr0 = 1\n\texit\nL0:\n\tr0 = 2\n\texit\n");
}

TEST(Disassembler, NamesMapsThroughCallback) {
    auto p = assemble("lddw %r1, map_idx:0\nexit\n");
    ASSERT_TRUE(p.ok());
    DisasmOptions options;
    options.map_name = [](const Insn& insn) {
        return insn.imm == 0 ? std::string("map[id:3]") : std::string();
    };
    EXPECT_EQ(disassemble_insn(*p, 0, options), "r1 = map[id:3]");
}

TEST(Disassembler, ShowsInvalidInstructions) {
    std::vector<Insn> p = {Insn{0xff, 0, 0, 0, 0}, make::exit()};
    EXPECT_NE(disassemble_insn(p, 0).find("<invalid: opcode 0xff"), std::string::npos);
}

TEST(Disassembler, HelperNamesFollowLinux) {
    EXPECT_EQ(linux_helper_name(1), "bpf_map_lookup_elem");
    EXPECT_EQ(linux_helper_name(12), "bpf_tail_call");
    EXPECT_EQ(linux_helper_name(0), "");
    EXPECT_EQ(linux_helper_name(-1), "");
    EXPECT_EQ(linux_helper_name(1 << 20), "");
}

}  // namespace
}  // namespace xbpf
