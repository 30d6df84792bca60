// Assembler: syntax coverage beyond the conformance suite, and errors that name line and problem.
#include <gtest/gtest.h>

#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

std::vector<Insn> ok(std::string_view text) {
    auto r = assemble(text);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().to_string());
    return r ? *r : std::vector<Insn>{};
}

std::string err(std::string_view text) {
    auto r = assemble(text);
    EXPECT_FALSE(r.ok()) << "assembled: " << text;
    return r ? std::string() : r.error().to_string();
}

TEST(Assembler, EncodesOperandForms) {
    auto p =
        ok("add %r1, 5\nadd32 %r1, %r2\nldxw %r0, [%r1+4]\nstxdw [%r10-8], %r3\nstb [%r1], -1\n"
           "lock fetch xor32 [%r2+0], %r4\nexit\n");
    ASSERT_EQ(p.size(), 7u);
    EXPECT_EQ(p[0], make::alu64_imm(op::ADD, 1, 5));
    EXPECT_EQ(p[1], make::alu32_reg(op::ADD, 1, 2));
    EXPECT_EQ(p[2], make::load(op::W, 0, 1, 4));
    EXPECT_EQ(p[3], make::store_reg(op::DW, 10, -8, 3));
    EXPECT_EQ(p[4], make::store_imm(op::B, 1, 0, -1));
    EXPECT_EQ(p[5], (Insn{op::STX | op::ATOMIC | op::W, 2, 4, 0, op::XOR | op::FETCH}));
}

TEST(Assembler, ResolvesLabelsAndRelativeOffsets) {
    auto p = ok("start:\n  jeq %r1, 0, done\n  ja -2\ndone: exit\n");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0].off, 1);
    EXPECT_EQ(p[1].off, -2);
}

TEST(Assembler, LddwCountsTwoSlotsForLabels) {
    auto p = ok("lddw %r0, 0x1122334455667788\nja end\nmov %r0, 1\nend: exit\n");
    ASSERT_EQ(p.size(), 5u);
    EXPECT_EQ(lddw_imm(p[0], p[1]), 0x1122334455667788u);
    EXPECT_EQ(p[2].off, 1);
}

TEST(Assembler, AcceptsLegacyPacketLoadsAndPseudoLddw) {
    auto p =
        ok("ldabsh 12\nldindw %r3, 4\nlddw %r1, map_idx:2\nlddw %r2, map_value_idx:0:16\nexit\n");
    ASSERT_EQ(p.size(), 7u);
    EXPECT_EQ(p[0], (Insn{op::LD | op::ABS | op::H, 0, 0, 0, 12}));
    EXPECT_EQ(p[1], (Insn{op::LD | op::IND | op::W, 0, 3, 0, 4}));
    EXPECT_EQ(p[2].src, op::kImmMapByIdx);
    EXPECT_EQ(p[2].imm, 2);
    EXPECT_EQ(p[4].src, op::kImmMapValueByIdx);
    EXPECT_EQ(p[5].imm, 16);
}

TEST(Assembler, ImmediatesAcceptSignedAndUnsignedSpellings) {
    auto p = ok("mov %r0, 0xffffffff\nmov %r1, -1\nexit\n");
    EXPECT_EQ(p[0].imm, -1);
    EXPECT_EQ(p[1].imm, -1);
}

TEST(Assembler, ReportsLineAndProblem) {
    EXPECT_EQ(err("mov %r0, 1\nad %r0, 1\n"), "line 2: unknown mnemonic 'ad'");
    EXPECT_EQ(err("mov %r11, 1\n"), "line 1: bad register '%r11': registers are %r0 to %r10");
    EXPECT_EQ(err("mov %r0\n"), "line 1: 'mov' takes 2 operands, got 1");
    EXPECT_EQ(err("ja nowhere\nexit\n"), "line 1: undefined label 'nowhere'");
    EXPECT_EQ(err("mov %r0, 0x1ffffffff\n"),
              "line 1: immediate 0x1ffffffff does not fit in 32 bits");
    EXPECT_EQ(err("ldxw %r0, %r1\n"),
              "line 1: expected a memory operand such as [%r1+8], got '%r1'");
    EXPECT_EQ(err("ldxw %r0, [%r1+70000]\n"),
              "line 1: memory offset 70000 does not fit in 16 bits");
    EXPECT_EQ(err("a:\na:\nexit\n"), "line 2: label 'a' is already defined on line 1");
    EXPECT_EQ(err("mov %r0, zz\n"), "line 1: 'zz' is not a number (decimal or 0x hex)");
    EXPECT_EQ(err("add %r0, ,\n"), "line 1: empty operand in 'add %r0, ,'");
    EXPECT_EQ(err("lddw %r1, map_bogus:1\n"),
              "line 1: unknown lddw source 'map_bogus' (map_fd, map_value_fd, map_idx, "
              "map_value_idx, var, func)");
}

}  // namespace
}  // namespace xbpf
