// Structural validation: each rule has a well-formed case accepted and a broken twin rejected
// with a message that names the instruction and the problem.
#include <gtest/gtest.h>

#include <random>

#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

std::string error_of(std::vector<Insn> program) {
    auto s = validate_program(program);
    return s ? std::string() : s.error().to_string();
}

TEST(Validate, AcceptsMinimalProgram) {
    EXPECT_EQ(error_of({make::mov64_imm(0, 0), make::exit()}), "");
}

TEST(Validate, RejectsEmptyProgram) {
    EXPECT_NE(error_of({}).find("no instructions"), std::string::npos);
}

TEST(Validate, RejectsUnknownOpcode) {
    const auto msg = error_of({Insn{0x8f, 0, 0, 0, 0}, make::exit()});
    EXPECT_NE(msg.find("instruction 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unknown opcode 0x8f"), std::string::npos) << msg;
    // 0xe0/0xf0 arithmetic, 64-bit END with source bit, JMP32 call/exit, DW legacy load.
    for (uint8_t opcode : {0xe7, 0xf4, 0xdf, 0x86, 0x96, 0x38, 0x58, 0x99, 0xcb}) {
        EXPECT_NE(error_of({Insn{opcode, 0, 0, 0, 0}, make::exit()}).find("unknown opcode"),
                  std::string::npos)
            << std::hex << int(opcode);
    }
}

TEST(Validate, RejectsBadRegisters) {
    EXPECT_NE(error_of({Insn{0xb7, 11, 0, 0, 1}, make::exit()}).find("bad register r11"),
              std::string::npos);
    EXPECT_NE(error_of({Insn{0xbf, 1, 12, 0, 0}, make::exit()}).find("bad register r12"),
              std::string::npos);
}

TEST(Validate, RejectsWritesToFramePointer) {
    EXPECT_NE(error_of({make::mov64_imm(10, 0), make::exit()}).find("r10 is the read-only"),
              std::string::npos);
    EXPECT_NE(error_of({make::load(op::W, 10, 1, 0), make::exit()}).find("r10"), std::string::npos);
    // r10 as a base register of a store is fine.
    EXPECT_EQ(error_of({make::store_imm(op::W, 10, -4, 1), make::mov64_imm(0, 0), make::exit()}),
              "");
}

TEST(Validate, RejectsReservedFields) {
    Insn add = make::alu64_imm(op::ADD, 1, 5);
    add.src = 3;
    EXPECT_NE(error_of({add, make::exit()}).find("reserved field src"), std::string::npos);
    Insn add_reg = make::alu64_reg(op::ADD, 1, 2);
    add_reg.imm = 7;
    EXPECT_NE(error_of({add_reg, make::exit()}).find("reserved field immediate"),
              std::string::npos);
    Insn ex = make::exit();
    ex.off = 1;
    EXPECT_NE(error_of({ex}).find("reserved field offset"), std::string::npos);
    Insn load = make::load(op::W, 0, 1, 0);
    load.imm = 1;
    EXPECT_NE(error_of({load, make::exit()}).find("reserved field immediate"), std::string::npos);
}

TEST(Validate, ChecksVariantOffsets) {
    Insn div = make::alu64_reg(op::DIV, 1, 2);
    div.off = 1;  // sdiv
    EXPECT_EQ(error_of({div, make::exit()}), "");
    div.off = 2;
    EXPECT_NE(error_of({div, make::exit()}).find("division"), std::string::npos);
    Insn movsx = make::alu32_reg(op::MOV, 1, 2);
    movsx.off = 32;  // only 64-bit moves sign-extend from 32 bits
    EXPECT_NE(error_of({movsx, make::exit()}).find("sign-extending"), std::string::npos);
    Insn end = Insn{op::ALU | op::END | op::TO_BE, 1, 0, 0, 24};
    EXPECT_NE(error_of({end, make::exit()}).find("width 24"), std::string::npos);
}

TEST(Validate, RejectsJumpsOutOfTheProgram) {
    const auto msg = error_of({make::jmp_imm(op::JEQ, 1, 0, 5), make::exit()});
    EXPECT_NE(msg.find("instruction 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("outside the program"), std::string::npos) << msg;
    EXPECT_NE(error_of({make::ja(-2), make::exit()}).find("outside"), std::string::npos);
    EXPECT_NE(error_of({make::call_local(7), make::exit()}).find("call target"), std::string::npos);
}

TEST(Validate, RejectsJumpsIntoLddwSecondSlot) {
    std::vector<Insn> p = {make::ja(1)};
    make::lddw(p, 0, 0x1234);
    p.push_back(make::exit());
    const auto msg = error_of(p);
    EXPECT_NE(msg.find("second half of the lddw"), std::string::npos) << msg;
}

TEST(Validate, RejectsTruncatedLddw) {
    std::vector<Insn> p = {make::mov64_imm(0, 0), make::exit()};
    p.push_back(Insn{op::LDDW, 0, 0, 0, 1});
    EXPECT_NE(error_of(p).find("truncated"), std::string::npos);
}

TEST(Validate, RejectsMalformedLddwSecondSlot) {
    std::vector<Insn> p;
    make::lddw(p, 0, 1);
    p[1].opcode = 0x07;
    p.push_back(make::exit());
    EXPECT_NE(error_of(p).find("second slot"), std::string::npos);
}

TEST(Validate, RequiresResolvedPseudoSourcesWhenAsked) {
    std::vector<Insn> p;
    make::lddw(p, 1, 0, op::kImmMapByIdx);
    p.push_back(make::mov64_imm(0, 0));
    p.push_back(make::exit());
    EXPECT_TRUE(validate_program(p).ok());
    ValidateOptions strict;
    strict.require_resolved = true;
    auto s = validate_program(p, strict);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().to_string().find("not resolved"), std::string::npos);
    p[0].src = 7;
    EXPECT_NE(error_of(p).find("unknown pseudo source 7"), std::string::npos);
}

TEST(Validate, RejectsFallingOffTheEnd) {
    const auto msg = error_of({make::mov64_imm(0, 0)});
    EXPECT_NE(msg.find("past its last instruction"), std::string::npos) << msg;
    // Ending in an unconditional jump is fine (the suite's exit-not-last test does this).
    EXPECT_EQ(error_of({make::mov64_imm(0, 0), make::exit(), make::ja(-3)}), "");
}

TEST(Validate, RejectsUnknownAtomicOperation) {
    Insn a{op::STX | op::ATOMIC | op::DW, 10, 1, -8, 0x10};
    EXPECT_NE(error_of({a, make::exit()}).find("unknown atomic operation"), std::string::npos);
    a.opcode = op::STX | op::ATOMIC | op::B;
    a.imm = op::ADD;
    EXPECT_NE(error_of({a, make::exit()}).find("unknown opcode"), std::string::npos);
}

TEST(Validate, EnforcesProgramSizeLimit) {
    std::vector<Insn> p(10, make::mov64_imm(0, 0));
    p.push_back(make::exit());
    ValidateOptions small;
    small.max_instructions = 5;
    auto s = validate_program(p, small);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().to_string().find("limit is 5"), std::string::npos);
}

// validate_program() settles most instructions with masks and asks validate_insn() about the
// rest: both must reach the same verdict, and the same message, on any instruction.
TEST(Validate, ProgramAndInstructionChecksAgree) {
    std::mt19937_64 rng(20261124);
    auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
    // Values where the rules change: division and sign-extension offsets, swap widths,
    // atomic operations, pseudo sources, registers just past r10.
    const int16_t offsets[] = {0, 1, 2, -1, 8, 16, 24, 32, 63, 64, -32768};
    const int32_t imms[] = {0, 1, 2, 16, 24, 32, 64, -1, 0x41, 0xa1, 0xe1, 0xf1, 0x50, 0xf0};
    // Half the opcodes from those programs use most (any byte otherwise).
    const uint8_t common[] = {0x07, 0x0f, 0x04, 0x0c, 0xb7, 0xbf, 0xbc, 0x3f, 0x9f, 0x37,
                              0x97, 0x61, 0x79, 0x71, 0x91, 0x62, 0x7a, 0x63, 0x7b, 0xdb,
                              0xc3, 0x15, 0x1d, 0x25, 0x2d, 0x05, 0x06, 0x16, 0x95, 0x85,
                              0x8d, 0xd4, 0xdc, 0xd7, 0x87, 0x84, 0x30, 0x50, 0x18, 0x81};
    size_t accepted = 0, rejected_insn = 0;
    for (int round = 0; round < 300000; ++round) {
        std::vector<Insn> p;
        const int length = 1 + pick(3);
        for (int i = 0; i < length; ++i) {
            Insn insn;
            insn.opcode = pick(2) == 0 ? common[pick(static_cast<int>(std::size(common)))]
                                       : static_cast<uint8_t>(rng());
            insn.dst = static_cast<uint8_t>(pick(4) == 0 ? pick(16) : pick(11));
            insn.src = static_cast<uint8_t>(pick(4) == 0 ? pick(16) : pick(7));
            insn.off = pick(3) == 0 ? static_cast<int16_t>(rng()) : offsets[pick(11)];
            insn.imm = pick(3) == 0 ? static_cast<int32_t>(rng()) : imms[pick(14)];
            p.push_back(pick(8) == 0 ? Insn{0, 0, 0, 0, pick(2)} : insn);
        }
        p.push_back(make::exit());
        ValidateOptions options;
        options.require_resolved = pick(2) == 0;
        // The first instruction validate_insn() rejects decides the program's verdict.
        std::string expected;
        for (size_t pc = 0; pc < p.size() && expected.empty(); pc += is_lddw(p[pc]) ? 2 : 1) {
            if (auto s = validate_insn(p, pc, options); !s) expected = s.error().to_string();
        }
        const auto s = validate_program(p, options);
        if (!expected.empty()) {
            ++rejected_insn;
            ASSERT_FALSE(s.ok()) << expected;
            ASSERT_EQ(s.error().to_string(), expected);
        } else if (s.ok()) {
            ++accepted;
        } else {
            // Only whole-program rules remain: where control goes.
            const std::string message = s.error().to_string();
            ASSERT_TRUE(message.find("target") != std::string::npos ||
                        message.find("past its last instruction") != std::string::npos)
                << message;
        }
    }
    // Both verdicts occurred often enough for the comparison to mean something.
    EXPECT_GT(accepted, 1000u);
    EXPECT_GT(rejected_insn, 100000u);
}

TEST(Decode, RejectsPartialInstruction) {
    std::vector<uint8_t> bytes(12, 0);
    auto r = decode(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().to_string().find("4 bytes left over"), std::string::npos);
}

TEST(Decode, RoundTripsThroughEncode) {
    std::vector<Insn> p = {make::mov64_imm(3, -7), make::store_reg(op::DW, 10, -8, 3),
                           make::exit()};
    auto bytes = encode(p);
    ASSERT_EQ(bytes.size(), 24u);
    EXPECT_EQ(bytes[0], 0xb7);
    EXPECT_EQ(bytes[1], 0x03);
    auto back = decode(bytes);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, p);
}

}  // namespace
}  // namespace xbpf
