// The x86-64 encoder against reference encodings (produced by GNU as for the same instructions),
// and the code buffer's branch shortening, alignment and fixups.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <functional>
#include <string>

#include "jit/x86_64/assembler.hpp"
#include "jit/x86_64/code_buffer.hpp"

namespace xbpf::jit::x64 {
namespace {

std::string hex(const uint8_t* p, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i)
        s += fmt::format("{}{:02x}", i ? " " : "", p[i]);
    return s;
}

std::string encode(const std::function<void(Assembler&)>& emit) {
    CodeBuffer code;
    code.ensure(64);
    Assembler a(code);
    emit(a);
    return hex(code.data(), code.size());
}

struct Case {
    const char* text;  // AT&T syntax, as GNU as reads it
    std::function<void(Assembler&)> emit;
    const char* bytes;
};

TEST(X86Assembler, MatchesReferenceEncodings) {
    const Case cases[] = {
        {"mov %rax,%rdi", [](Assembler& a) { a.mov(W64, RDI, RAX); }, "48 89 c7"},
        {"mov %r8d,%r13d", [](Assembler& a) { a.mov(W32, R13, R8); }, "45 89 c5"},
        {"movabs $0x1122334455667788,%r15",
         [](Assembler& a) { a.mov_imm64(R15, 0x1122334455667788); },
         "49 bf 88 77 66 55 44 33 22 11"},
        {"mov $0x12345678,%r11d", [](Assembler& a) { a.mov_imm64(R11, 0x12345678); },
         "41 bb 78 56 34 12"},
        {"mov $-2,%r9", [](Assembler& a) { a.mov_imm64(R9, static_cast<uint64_t>(-2)); },
         "49 c7 c1 fe ff ff ff"},
        {"movzbl 0x10(%r13),%eax",
         [](Assembler& a) {
             a.load(W8, RAX, Mem{R13, 0x10});
         },
         "41 0f b6 45 10"},
        {"movzwl (%rbp),%esi",
         [](Assembler& a) {
             a.load(W16, RSI, Mem{RBP, 0});
         },
         "0f b7 75 00"},
        {"mov -8(%rsp),%r12d",
         [](Assembler& a) {
             a.load(W32, R12, Mem{RSP, -8});
         },
         "44 8b 64 24 f8"},
        {"mov 0x1000(%r12),%rdx",
         [](Assembler& a) {
             a.load(W64, RDX, Mem{R12, 0x1000});
         },
         "49 8b 94 24 00 10 00 00"},
        {"movsbq 3(%rdi),%rcx",
         [](Assembler& a) {
             a.load_sx(W8, RCX, Mem{RDI, 3});
         },
         "48 0f be 4f 03"},
        {"movswq (%rax,%rbx,2),%r8",
         [](Assembler& a) {
             a.load_sx(W16, R8, Mem{RAX, 0, RBX, 2});
         },
         "4c 0f bf 04 58"},
        {"movslq -4(%r13,%r14,8),%rbx",
         [](Assembler& a) {
             a.load_sx(W32, RBX, Mem{R13, -4, R14, 8});
         },
         "4b 63 5c f5 fc"},
        {"mov %sil,1(%rdx)",
         [](Assembler& a) {
             a.store(W8, Mem{RDX, 1}, RSI);
         },
         "40 88 72 01"},
        {"mov %dil,(%rbp)",
         [](Assembler& a) {
             a.store(W8, Mem{RBP, 0}, RDI);
         },
         "40 88 7d 00"},
        {"mov %r9w,2(%rax)",
         [](Assembler& a) {
             a.store(W16, Mem{RAX, 2}, R9);
         },
         "66 44 89 48 02"},
        {"mov %ecx,-300(%rbx)",
         [](Assembler& a) {
             a.store(W32, Mem{RBX, -300}, RCX);
         },
         "89 8b d4 fe ff ff"},
        {"mov %r15,(%r12)",
         [](Assembler& a) {
             a.store(W64, Mem{R12, 0}, R15);
         },
         "4d 89 3c 24"},
        {"movb $0x7f,(%rsi)",
         [](Assembler& a) {
             a.store_imm(W8, Mem{RSI, 0}, 0x7f);
         },
         "c6 06 7f"},
        {"movw $0x1234,6(%rdi)",
         [](Assembler& a) {
             a.store_imm(W16, Mem{RDI, 6}, 0x1234);
         },
         "66 c7 47 06 34 12"},
        {"movl $-1,8(%r8)",
         [](Assembler& a) {
             a.store_imm(W32, Mem{R8, 8}, -1);
         },
         "41 c7 40 08 ff ff ff ff"},
        {"movq $-5,-16(%rbp)",
         [](Assembler& a) {
             a.store_imm(W64, Mem{RBP, -16}, -5);
         },
         "48 c7 45 f0 fb ff ff ff"},
        {"lea -0xfc0(%rsp),%r11",
         [](Assembler& a) {
             a.lea(W64, R11, Mem{RSP, -0xfc0});
         },
         "4c 8d 9c 24 40 f0 ff ff"},
        {"lea 4(%rdi),%r10d",
         [](Assembler& a) {
             a.lea(W32, R10, Mem{RDI, 4});
         },
         "44 8d 57 04"},
        {"add %rsi,%rdi", [](Assembler& a) { a.alu(AluOp::Add, W64, RDI, RSI); }, "48 01 f7"},
        {"sub $1,%r13", [](Assembler& a) { a.alu_imm(AluOp::Sub, W64, R13, 1); }, "49 83 ed 01"},
        {"and $0x12345678,%rax", [](Assembler& a) { a.alu_imm(AluOp::And, W64, RAX, 0x12345678); },
         "48 25 78 56 34 12"},
        {"xor $-100,%ebx", [](Assembler& a) { a.alu_imm(AluOp::Xor, W32, RBX, -100); }, "83 f3 9c"},
        {"cmp $0x1000,%r14d", [](Assembler& a) { a.alu_imm(AluOp::Cmp, W32, R14, 0x1000); },
         "41 81 fe 00 10 00 00"},
        {"cmp 8(%r12),%rsp",
         [](Assembler& a) {
             a.alu_reg_mem(AluOp::Cmp, W64, RSP, Mem{R12, 8});
         },
         "49 3b 64 24 08"},
        {"cmpq $0,0x20(%r11)",
         [](Assembler& a) {
             a.alu_mem_imm(AluOp::Cmp, W64, Mem{R11, 0x20}, 0);
         },
         "49 83 7b 20 00"},
        {"test %rcx,%rcx", [](Assembler& a) { a.test(W64, RCX, RCX); }, "48 85 c9"},
        {"test $0x80,%sil", [](Assembler& a) { a.test_imm(W8, RSI, 0x80); }, "40 f6 c6 80"},
        {"test $0x1000,%r9", [](Assembler& a) { a.test_imm(W64, R9, 0x1000); },
         "49 f7 c1 00 10 00 00"},
        {"imul %r15,%rax", [](Assembler& a) { a.imul(W64, RAX, R15); }, "49 0f af c7"},
        {"imul $3,%rbx,%rbx", [](Assembler& a) { a.imul_imm(W64, RBX, RBX, 3); }, "48 6b db 03"},
        {"imul $1000,%r8d,%r8d", [](Assembler& a) { a.imul_imm(W32, R8, R8, 1000); },
         "45 69 c0 e8 03 00 00"},
        {"neg %r14", [](Assembler& a) { a.neg(W64, R14); }, "49 f7 de"},
        {"div %r11", [](Assembler& a) { a.div(W64, R11, false); }, "49 f7 f3"},
        {"idiv %edi", [](Assembler& a) { a.div(W32, RDI, true); }, "f7 ff"},
        {"cqto", [](Assembler& a) { a.sign_extend_rax_into_rdx(W64); }, "48 99"},
        {"cltd", [](Assembler& a) { a.sign_extend_rax_into_rdx(W32); }, "99"},
        {"shl $5,%r13", [](Assembler& a) { a.shift_imm(ShiftOp::Shl, W64, R13, 5); },
         "49 c1 e5 05"},
        {"shr %ecx", [](Assembler& a) { a.shift_imm(ShiftOp::Shr, W32, RCX, 1); }, "d1 e9"},
        {"sar $63,%rax", [](Assembler& a) { a.shift_imm(ShiftOp::Sar, W64, RAX, 63); },
         "48 c1 f8 3f"},
        {"shl %cl,%rdi", [](Assembler& a) { a.shift_cl(ShiftOp::Shl, W64, RDI); }, "48 d3 e7"},
        {"shlx %rcx,%rdi,%rdi",
         [](Assembler& a) { a.shift_bmi2(ShiftOp::Shl, W64, RDI, RDI, RCX); }, "c4 e2 f1 f7 ff"},
        {"shrx %r13d,%eax,%eax",
         [](Assembler& a) { a.shift_bmi2(ShiftOp::Shr, W32, RAX, RAX, R13); }, "c4 e2 13 f7 c0"},
        {"sarx %rsi,%r15,%r15",
         [](Assembler& a) { a.shift_bmi2(ShiftOp::Sar, W64, R15, R15, RSI); }, "c4 42 ca f7 ff"},
        {"bswap %rbx", [](Assembler& a) { a.bswap(W64, RBX); }, "48 0f cb"},
        {"bswap %r12d", [](Assembler& a) { a.bswap(W32, R12); }, "41 0f cc"},
        {"rol $8,%si", [](Assembler& a) { a.rol16_8(RSI); }, "66 c1 c6 08"},
        {"bt %rsi,%r14", [](Assembler& a) { a.bt(W64, R14, RSI); }, "49 0f a3 f6"},
        {"bt $3,%eax", [](Assembler& a) { a.bt_imm(W32, RAX, 3); }, "0f ba e0 03"},
        {"cmovne %r10,%rax", [](Assembler& a) { a.cmov(Cond::NE, W64, RAX, R10); }, "49 0f 45 c2"},
        {"sete %sil", [](Assembler& a) { a.setcc(Cond::E, RSI); }, "40 0f 94 c6"},
        {"lock add %rdi,8(%rbp)",
         [](Assembler& a) {
             a.lock_alu(AluOp::Add, W64, Mem{RBP, 8}, RDI);
         },
         "f0 48 01 7d 08"},
        {"lock xadd %esi,-4(%r13)",
         [](Assembler& a) {
             a.lock_xadd(W32, Mem{R13, -4}, RSI);
         },
         "f0 41 0f c1 75 fc"},
        {"xchg %rax,(%rdi)",
         [](Assembler& a) {
             a.xchg(W64, Mem{RDI, 0}, RAX);
         },
         "48 87 07"},
        {"lock cmpxchg %r9d,(%r11)",
         [](Assembler& a) {
             a.lock_cmpxchg(W32, Mem{R11, 0}, R9);
         },
         "f0 45 0f b1 0b"},
        {"call *%r11", [](Assembler& a) { a.call_reg(R11); }, "41 ff d3"},
        {"jmp *%r11", [](Assembler& a) { a.jmp_reg(R11); }, "41 ff e3"},
        {"push %r12", [](Assembler& a) { a.push(R12); }, "41 54"},
        {"pop %rbp", [](Assembler& a) { a.pop(RBP); }, "5d"},
        {"movzbl %sil,%esi", [](Assembler& a) { a.movzx(W8, RSI, RSI); }, "40 0f b6 f6"},
        {"movzwl %r13w,%r13d", [](Assembler& a) { a.movzx(W16, R13, R13); }, "45 0f b7 ed"},
        {"movsbq %dil,%rax", [](Assembler& a) { a.movsx(W8, W64, RAX, RDI); }, "48 0f be c7"},
        {"movswl %r8w,%r8d", [](Assembler& a) { a.movsx(W16, W32, R8, R8); }, "45 0f bf c0"},
        {"movslq %r15d,%r15", [](Assembler& a) { a.movsx(W32, W64, R15, R15); }, "4d 63 ff"},
    };
    for (const Case& c : cases)
        EXPECT_EQ(encode(c.emit), c.bytes) << c.text;
}

TEST(X86CodeBuffer, ShortensBranchesThatFit) {
    CodeBuffer code;
    Assembler a(code);
    const Label near = code.new_label(), far = code.new_label();
    code.ensure(16);
    a.jcc(Cond::E, near);  // 6 bytes long, 2 short
    a.jmp(far);            // 5 bytes long; must stay long
    code.bind(near);
    for (int i = 0; i < 200; ++i) {
        code.ensure(8);
        a.int3();
    }
    code.bind(far);
    code.ensure(8);
    a.jmp(near);  // backwards over 200 bytes: long
    const uint32_t size = code.finish();
    std::vector<uint8_t> out(size);
    code.copy_to(out.data());
    EXPECT_EQ(size, 2u + 5 + 200 + 5);
    EXPECT_EQ(hex(out.data(), 2), "74 05");               // je +5 (over the long jmp)
    EXPECT_EQ(hex(out.data() + 2, 5), "e9 c8 00 00 00");  // jmp +200
    EXPECT_EQ(code.offset(near), 7u);
    EXPECT_EQ(code.offset(far), 207u);
    EXPECT_EQ(hex(out.data() + 207, 5), "e9 33 ff ff ff");  // jmp -205
}

TEST(X86CodeBuffer, AlignsLabelsAndPatchesRipRelativeFields) {
    CodeBuffer code;
    Assembler a(code);
    const Label loop = code.new_label(), data = code.new_label();
    code.ensure(32);
    a.int3();
    code.align(16);
    code.bind(loop);
    a.lea_rip(RAX, data);
    a.jcc(Cond::NE, loop);
    code.align(8);
    code.bind(data);
    code.u64(0x1122334455667788);
    const uint32_t size = code.finish();
    std::vector<uint8_t> out(size);
    code.copy_to(out.data());
    EXPECT_EQ(code.offset(loop), 16u);
    EXPECT_EQ(hex(out.data() + 1, 15), "66 0f 1f 84 00 00 00 00 00 66 0f 1f 44 00 00");  // NOPs
    EXPECT_EQ(code.offset(data), 32u);
    // lea rax, [rip + 32 - 23]; jne -9 (to 16 from 25)
    EXPECT_EQ(hex(out.data() + 16, 9), "48 8d 05 09 00 00 00 75 f7");
}

}  // namespace
}  // namespace xbpf::jit::x64
