// An x86-64 instruction encoder: the instructions the JIT needs, in the forms it needs
// (register, immediate and memory operands, 8- to 64-bit widths), written into a CodeBuffer.
//
// Encodings follow the Intel SDM volume 2 (REX, ModRM, SIB, VEX). Every method writes one
// instruction; callers reserve room with CodeBuffer::ensure() before a group of instructions
// (kMaxInsnBytes per instruction).
#pragma once

#include <cstdint>

#include "jit/x86_64/code_buffer.hpp"

namespace xbpf::jit::x64 {

enum Reg : uint8_t {
    RAX = 0,
    RCX = 1,
    RDX = 2,
    RBX = 3,
    RSP = 4,
    RBP = 5,
    RSI = 6,
    RDI = 7,
    R8 = 8,
    R9 = 9,
    R10 = 10,
    R11 = 11,
    R12 = 12,
    R13 = 13,
    R14 = 14,
    R15 = 15,
    kNoReg = 0xff,
};

// Operand width in bytes.
enum Width : uint8_t { W8 = 1, W16 = 2, W32 = 4, W64 = 8 };

// A memory operand: [base + index * scale + disp]. base == kNoReg is not supported (the JIT
// never addresses absolute memory); RIP-relative operands have their own methods.
struct Mem {
    Reg base;
    int32_t disp = 0;
    Reg index = kNoReg;
    uint8_t scale = 1;  // 1, 2, 4 or 8
};

// The two-operand integer operations that share the classic encoding (opcode = 8 * op + form).
enum class AluOp : uint8_t {
    Add = 0,
    Or = 1,
    Adc = 2,
    Sbb = 3,
    And = 4,
    Sub = 5,
    Xor = 6,
    Cmp = 7
};
enum class ShiftOp : uint8_t { Rol = 0, Ror = 1, Shl = 4, Shr = 5, Sar = 7 };

inline constexpr int kMaxInsnBytes = 16;

inline constexpr bool fits_int8(int64_t v) {
    return v >= -128 && v <= 127;
}
inline constexpr bool fits_int32(int64_t v) {
    return v >= INT32_MIN && v <= INT32_MAX;
}

class Assembler {
  public:
    explicit Assembler(CodeBuffer& code) : c_(code) {}
    CodeBuffer& code() { return c_; }

    // ---- moves ----
    void mov(Width w, Reg dst, Reg src);                 // mov dst, src (W32 zero-extends)
    void mov_imm32(Reg dst, uint32_t imm);               // mov dst32, imm32 (zero-extends)
    void mov_imm64(Reg dst, uint64_t imm);               // shortest form for a 64-bit value
    void movabs(Reg dst, uint64_t imm);                  // always the 10-byte form
    void load(Width w, Reg dst, const Mem& m);           // zero-extending load (movzx / mov)
    void load_sx(Width w, Reg dst, const Mem& m);        // sign-extending load into 64 bits
    void store(Width w, const Mem& m, Reg src);          // mov [m], src
    void store_imm(Width w, const Mem& m, int32_t imm);  // mov [m], imm (W64: sign-extended)
    void movzx(Width from, Reg dst, Reg src);            // W8/W16 -> 32 (and so 64) bits
    void movsx(Width from, Width to, Reg dst, Reg src);  // W8/W16/W32 -> W32/W64
    void lea(Width w, Reg dst, const Mem& m);
    void lea_rip(Reg dst, Label target);   // lea dst, [rip + target]
    void load_rip(Reg dst, Label target);  // mov dst, [rip + target]

    // ---- arithmetic ----
    void alu(AluOp op, Width w, Reg dst, Reg src);          // op dst, src (W32 or W64)
    void alu_imm(AluOp op, Width w, Reg dst, int32_t imm);  // op dst, imm (imm8 form if it fits)
    void alu_mem_imm(AluOp op, Width w, const Mem& m, int32_t imm);
    void alu_reg_mem(AluOp op, Width w, Reg dst, const Mem& m);  // op dst, [m]
    void alu_mem_reg(AluOp op, Width w, const Mem& m, Reg src);  // op [m], src (any width)
    void test(Width w, Reg a, Reg b);
    void test_imm(Width w, Reg a, int32_t imm);
    void imul(Width w, Reg dst, Reg src);
    void imul_imm(Width w, Reg dst, Reg src, int32_t imm);
    void neg(Width w, Reg r);
    void div(Width w, Reg divisor, bool is_signed);  // rdx:rax / divisor
    void sign_extend_rax_into_rdx(Width w);          // cdq / cqo
    void shift_imm(ShiftOp op, Width w, Reg r, uint8_t count);
    void shift_cl(ShiftOp op, Width w, Reg r);
    // BMI2 shlx / shrx / sarx: dst = src shifted by count (masked by the hardware).
    void shift_bmi2(ShiftOp op, Width w, Reg dst, Reg src, Reg count);
    void bswap(Width w, Reg r);  // W32 or W64
    void rol16_8(Reg r);         // swaps the two low bytes (rol r16, 8)
    void bt(Width w, Reg value, Reg bit);
    void bt_imm(Width w, Reg value, uint8_t bit);
    void cmov(Cond c, Width w, Reg dst, Reg src);
    void setcc(Cond c, Reg dst8);

    // ---- atomics ----
    void lock_alu(AluOp op, Width w, const Mem& m, Reg src);  // lock op [m], src
    void lock_xadd(Width w, const Mem& m, Reg src);
    void xchg(Width w, const Mem& m, Reg src);  // implicitly locked
    void lock_cmpxchg(Width w, const Mem& m, Reg src);

    // ---- control flow ----
    void jmp(Label target, bool keep_long = false) { c_.jmp(target, keep_long); }
    void jcc(Cond c, Label target) { c_.jcc(c, target); }
    void call(Label target);                     // call rel32
    void call_reg(Reg r);                        // call r
    void call_rip(Label table, int32_t offset);  // call [rip + table + offset]
    void jmp_reg(Reg r);                         // jmp r
    void ret() { c_.byte(0xc3); }
    void push(Reg r);
    void pop(Reg r);
    void int3() { c_.byte(0xcc); }

  private:
    // REX prefix if needed. `w` sets REX.W; `reg`, `index`, `base` supply R, X, B; `byte_regs`
    // forces a REX when an 8-bit operand is spl/bpl/sil/dil.
    void rex(bool w, uint8_t reg, uint8_t index, uint8_t base, bool force = false);
    void modrm_reg(uint8_t reg, uint8_t rm) {
        c_.byte(static_cast<uint8_t>(0xc0 | ((reg & 7) << 3) | (rm & 7)));
    }
    void modrm_mem(uint8_t reg, const Mem& m);
    // Prefix (0x66 for W16) and REX for an instruction with a register and a memory operand.
    void prefix_mem(Width w, uint8_t reg, const Mem& m, bool byte_reg = false);
    void prefix_reg(Width w, uint8_t reg, uint8_t rm, bool byte_regs = false);
    void vex3(uint8_t reg, uint8_t rm, uint8_t vvvv, bool w, uint8_t pp, uint8_t map);

    CodeBuffer& c_;
};

}  // namespace xbpf::jit::x64
