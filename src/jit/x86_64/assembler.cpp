// x86-64 encodings (Intel SDM vol. 2): legacy prefixes, REX, opcode, ModRM, SIB, displacement,
// immediate, in that order.
#include "jit/x86_64/assembler.hpp"

namespace xbpf::jit::x64 {
namespace {

// Registers 4..7 as 8-bit operands are spl/bpl/sil/dil only with a REX prefix (ah..bh without).
bool needs_rex_for_byte(uint8_t r) {
    return r >= 4 && r <= 7;
}

}  // namespace

// ---- prefixes and operand bytes (inline: every instruction uses them) ----

inline void Assembler::rex(bool w, uint8_t reg, uint8_t index, uint8_t base, bool force) {
    const uint8_t x = index == kNoReg ? 0 : (index >> 3) & 1;
    const auto b = static_cast<uint8_t>(0x40 | (w ? 8 : 0) | (((reg >> 3) & 1) << 2) | (x << 1) |
                                        ((base >> 3) & 1));
    if (b != 0x40 || force) c_.byte(b);
}

inline void Assembler::modrm_mem(uint8_t reg, const Mem& m) {
    const uint8_t base = m.base & 7;
    const bool sib = m.index != kNoReg || base == 4;  // rsp and r12 need a SIB byte
    // mod 00 with base 101 means RIP-relative (or disp32 with a SIB), so rbp/r13 need a disp8.
    uint8_t mod;
    if (m.disp == 0 && base != 5) {
        mod = 0;
    } else if (fits_int8(m.disp)) {
        mod = 1;
    } else {
        mod = 2;
    }
    const auto r = static_cast<uint8_t>((reg & 7) << 3);
    if (!sib) {
        c_.byte(static_cast<uint8_t>((mod << 6) | r | base));
    } else {
        c_.byte(static_cast<uint8_t>((mod << 6) | r | 4));
        const uint8_t scale = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
        const uint8_t index = m.index == kNoReg ? 4 : (m.index & 7);
        c_.byte(static_cast<uint8_t>((scale << 6) | (index << 3) | base));
    }
    if (mod == 1) {
        c_.byte(static_cast<uint8_t>(static_cast<int8_t>(m.disp)));
    } else if (mod == 2) {
        c_.u32(static_cast<uint32_t>(m.disp));
    }
}

inline void Assembler::prefix_mem(Width w, uint8_t reg, const Mem& m, bool byte_reg) {
    if (w == W16) c_.byte(0x66);
    rex(w == W64, reg, m.index, m.base, byte_reg && w == W8 && needs_rex_for_byte(reg));
}

inline void Assembler::prefix_reg(Width w, uint8_t reg, uint8_t rm, bool byte_regs) {
    if (w == W16) c_.byte(0x66);
    const bool force = byte_regs && w == W8 && (needs_rex_for_byte(reg) || needs_rex_for_byte(rm));
    rex(w == W64, reg, kNoReg, rm, force);
}

void Assembler::vex3(uint8_t reg, uint8_t rm, uint8_t vvvv, bool w, uint8_t pp, uint8_t map) {
    c_.byte(0xc4);
    // R, X and B are stored inverted; X is unused (no index register).
    c_.byte(static_cast<uint8_t>(((~reg >> 3) & 1) << 7 | 1 << 6 | ((~rm >> 3) & 1) << 5 | map));
    c_.byte(static_cast<uint8_t>((w ? 0x80 : 0) | ((~vvvv & 0xf) << 3) | pp));
}

// ---- moves ----

void Assembler::mov(Width w, Reg dst, Reg src) {
    rex(w == W64, src, kNoReg, dst);
    c_.byte(0x89);
    modrm_reg(src, dst);
}

void Assembler::mov_imm32(Reg dst, uint32_t imm) {
    rex(false, 0, kNoReg, dst);
    c_.byte(static_cast<uint8_t>(0xb8 | (dst & 7)));
    c_.u32(imm);
}

void Assembler::mov_imm64(Reg dst, uint64_t imm) {
    if (imm <= UINT32_MAX) {
        mov_imm32(dst, static_cast<uint32_t>(imm));
    } else if (fits_int32(static_cast<int64_t>(imm))) {
        rex(true, 0, kNoReg, dst);  // mov r/m64, imm32 (sign-extended)
        c_.byte(0xc7);
        modrm_reg(0, dst);
        c_.u32(static_cast<uint32_t>(imm));
    } else {
        movabs(dst, imm);
    }
}

void Assembler::movabs(Reg dst, uint64_t imm) {
    rex(true, 0, kNoReg, dst);
    c_.byte(static_cast<uint8_t>(0xb8 | (dst & 7)));
    c_.u64(imm);
}

void Assembler::load(Width w, Reg dst, const Mem& m) {
    rex(w == W64, dst, m.index, m.base);
    switch (w) {
        case W8:
            c_.byte(0x0f);
            c_.byte(0xb6);
            break;
        case W16:
            c_.byte(0x0f);
            c_.byte(0xb7);
            break;
        default: c_.byte(0x8b); break;
    }
    modrm_mem(dst, m);
}

void Assembler::load_sx(Width w, Reg dst, const Mem& m) {
    if (w == W64) return load(w, dst, m);
    rex(true, dst, m.index, m.base);
    switch (w) {
        case W8:
            c_.byte(0x0f);
            c_.byte(0xbe);
            break;
        case W16:
            c_.byte(0x0f);
            c_.byte(0xbf);
            break;
        default: c_.byte(0x63); break;  // movsxd
    }
    modrm_mem(dst, m);
}

void Assembler::store(Width w, const Mem& m, Reg src) {
    prefix_mem(w, src, m, true);
    c_.byte(w == W8 ? 0x88 : 0x89);
    modrm_mem(src, m);
}

void Assembler::store_imm(Width w, const Mem& m, int32_t imm) {
    prefix_mem(w, 0, m);
    c_.byte(w == W8 ? 0xc6 : 0xc7);
    modrm_mem(0, m);
    switch (w) {
        case W8: c_.byte(static_cast<uint8_t>(imm)); break;
        case W16: c_.u16(static_cast<uint16_t>(imm)); break;
        default: c_.u32(static_cast<uint32_t>(imm)); break;
    }
}

void Assembler::movzx(Width from, Reg dst, Reg src) {
    rex(false, dst, kNoReg, src, from == W8 && needs_rex_for_byte(src));
    c_.byte(0x0f);
    c_.byte(from == W8 ? 0xb6 : 0xb7);
    modrm_reg(dst, src);
}

void Assembler::movsx(Width from, Width to, Reg dst, Reg src) {
    rex(to == W64, dst, kNoReg, src, from == W8 && needs_rex_for_byte(src));
    if (from == W32) {
        c_.byte(0x63);
    } else {
        c_.byte(0x0f);
        c_.byte(from == W8 ? 0xbe : 0xbf);
    }
    modrm_reg(dst, src);
}

void Assembler::lea(Width w, Reg dst, const Mem& m) {
    rex(w == W64, dst, m.index, m.base);
    c_.byte(0x8d);
    modrm_mem(dst, m);
}

void Assembler::lea_rip(Reg dst, Label target) {
    rex(true, dst, kNoReg, 0);
    c_.byte(0x8d);
    c_.byte(static_cast<uint8_t>(((dst & 7) << 3) | 5));
    c_.u32(0);
    c_.rel32_to(target);
}

void Assembler::load_rip(Reg dst, Label target) {
    rex(true, dst, kNoReg, 0);
    c_.byte(0x8b);
    c_.byte(static_cast<uint8_t>(((dst & 7) << 3) | 5));
    c_.u32(0);
    c_.rel32_to(target);
}

// ---- arithmetic ----

void Assembler::alu(AluOp op, Width w, Reg dst, Reg src) {
    rex(w == W64, src, kNoReg, dst);
    c_.byte(static_cast<uint8_t>(static_cast<uint8_t>(op) * 8 + 1));
    modrm_reg(src, dst);
}

void Assembler::alu_imm(AluOp op, Width w, Reg dst, int32_t imm) {
    rex(w == W64, 0, kNoReg, dst);
    if (fits_int8(imm)) {
        c_.byte(0x83);
        modrm_reg(static_cast<uint8_t>(op), dst);
        c_.byte(static_cast<uint8_t>(imm));
    } else if (dst == RAX) {
        c_.byte(static_cast<uint8_t>(static_cast<uint8_t>(op) * 8 + 5));  // op eax/rax, imm32
        c_.u32(static_cast<uint32_t>(imm));
    } else {
        c_.byte(0x81);
        modrm_reg(static_cast<uint8_t>(op), dst);
        c_.u32(static_cast<uint32_t>(imm));
    }
}

void Assembler::alu_mem_imm(AluOp op, Width w, const Mem& m, int32_t imm) {
    prefix_mem(w, 0, m);
    if (w == W8) {
        c_.byte(0x80);
        modrm_mem(static_cast<uint8_t>(op), m);
        c_.byte(static_cast<uint8_t>(imm));
    } else if (fits_int8(imm)) {
        c_.byte(0x83);
        modrm_mem(static_cast<uint8_t>(op), m);
        c_.byte(static_cast<uint8_t>(imm));
    } else {
        c_.byte(0x81);
        modrm_mem(static_cast<uint8_t>(op), m);
        if (w == W16) {
            c_.u16(static_cast<uint16_t>(imm));
        } else {
            c_.u32(static_cast<uint32_t>(imm));
        }
    }
}

void Assembler::alu_reg_mem(AluOp op, Width w, Reg dst, const Mem& m) {
    prefix_mem(w, dst, m);
    c_.byte(static_cast<uint8_t>(static_cast<uint8_t>(op) * 8 + 3));
    modrm_mem(dst, m);
}

void Assembler::alu_mem_reg(AluOp op, Width w, const Mem& m, Reg src) {
    prefix_mem(w, src, m, true);
    c_.byte(static_cast<uint8_t>(static_cast<uint8_t>(op) * 8 + (w == W8 ? 0 : 1)));
    modrm_mem(src, m);
}

void Assembler::test(Width w, Reg a, Reg b) {
    prefix_reg(w, b, a, true);
    c_.byte(w == W8 ? 0x84 : 0x85);
    modrm_reg(b, a);
}

void Assembler::test_imm(Width w, Reg a, int32_t imm) {
    prefix_reg(w, 0, a, true);
    if (w == W8) {
        c_.byte(0xf6);
        modrm_reg(0, a);
        c_.byte(static_cast<uint8_t>(imm));
    } else {
        c_.byte(0xf7);
        modrm_reg(0, a);
        c_.u32(static_cast<uint32_t>(imm));
    }
}

void Assembler::imul(Width w, Reg dst, Reg src) {
    rex(w == W64, dst, kNoReg, src);
    c_.byte(0x0f);
    c_.byte(0xaf);
    modrm_reg(dst, src);
}

void Assembler::imul_imm(Width w, Reg dst, Reg src, int32_t imm) {
    rex(w == W64, dst, kNoReg, src);
    if (fits_int8(imm)) {
        c_.byte(0x6b);
        modrm_reg(dst, src);
        c_.byte(static_cast<uint8_t>(imm));
    } else {
        c_.byte(0x69);
        modrm_reg(dst, src);
        c_.u32(static_cast<uint32_t>(imm));
    }
}

void Assembler::neg(Width w, Reg r) {
    rex(w == W64, 0, kNoReg, r);
    c_.byte(0xf7);
    modrm_reg(3, r);
}

void Assembler::div(Width w, Reg divisor, bool is_signed) {
    rex(w == W64, 0, kNoReg, divisor);
    c_.byte(0xf7);
    modrm_reg(is_signed ? 7 : 6, divisor);
}

void Assembler::sign_extend_rax_into_rdx(Width w) {
    if (w == W64) c_.byte(0x48);
    c_.byte(0x99);
}

void Assembler::shift_imm(ShiftOp op, Width w, Reg r, uint8_t count) {
    prefix_reg(w, 0, r);
    if (count == 1) {
        c_.byte(0xd1);
        modrm_reg(static_cast<uint8_t>(op), r);
    } else {
        c_.byte(0xc1);
        modrm_reg(static_cast<uint8_t>(op), r);
        c_.byte(count);
    }
}

void Assembler::shift_cl(ShiftOp op, Width w, Reg r) {
    prefix_reg(w, 0, r);
    c_.byte(0xd3);
    modrm_reg(static_cast<uint8_t>(op), r);
}

void Assembler::shift_bmi2(ShiftOp op, Width w, Reg dst, Reg src, Reg count) {
    // VEX.LZ.{66,F3,F2}.0F38.W{0,1} F7 /r: shlx, sarx, shrx.
    const uint8_t pp = op == ShiftOp::Shl ? 1 : op == ShiftOp::Sar ? 2 : 3;
    vex3(dst, src, count, w == W64, pp, 2);
    c_.byte(0xf7);
    modrm_reg(dst, src);
}

void Assembler::bswap(Width w, Reg r) {
    rex(w == W64, 0, kNoReg, r);
    c_.byte(0x0f);
    c_.byte(static_cast<uint8_t>(0xc8 | (r & 7)));
}

void Assembler::rol16_8(Reg r) {
    shift_imm(ShiftOp::Rol, W16, r, 8);
}

void Assembler::bt(Width w, Reg value, Reg bit) {
    rex(w == W64, bit, kNoReg, value);
    c_.byte(0x0f);
    c_.byte(0xa3);
    modrm_reg(bit, value);
}

void Assembler::bt_imm(Width w, Reg value, uint8_t bit) {
    rex(w == W64, 0, kNoReg, value);
    c_.byte(0x0f);
    c_.byte(0xba);
    modrm_reg(4, value);
    c_.byte(bit);
}

void Assembler::cmov(Cond c, Width w, Reg dst, Reg src) {
    rex(w == W64, dst, kNoReg, src);
    c_.byte(0x0f);
    c_.byte(static_cast<uint8_t>(0x40 | static_cast<uint8_t>(c)));
    modrm_reg(dst, src);
}

void Assembler::setcc(Cond c, Reg dst8) {
    rex(false, 0, kNoReg, dst8, needs_rex_for_byte(dst8));
    c_.byte(0x0f);
    c_.byte(static_cast<uint8_t>(0x90 | static_cast<uint8_t>(c)));
    modrm_reg(0, dst8);
}

// ---- atomics ----

void Assembler::lock_alu(AluOp op, Width w, const Mem& m, Reg src) {
    c_.byte(0xf0);
    prefix_mem(w, src, m, true);
    c_.byte(static_cast<uint8_t>(static_cast<uint8_t>(op) * 8 + (w == W8 ? 0 : 1)));
    modrm_mem(src, m);
}

void Assembler::lock_xadd(Width w, const Mem& m, Reg src) {
    c_.byte(0xf0);
    prefix_mem(w, src, m, true);
    c_.byte(0x0f);
    c_.byte(w == W8 ? 0xc0 : 0xc1);
    modrm_mem(src, m);
}

void Assembler::xchg(Width w, const Mem& m, Reg src) {
    prefix_mem(w, src, m, true);
    c_.byte(w == W8 ? 0x86 : 0x87);
    modrm_mem(src, m);
}

void Assembler::lock_cmpxchg(Width w, const Mem& m, Reg src) {
    c_.byte(0xf0);
    prefix_mem(w, src, m, true);
    c_.byte(0x0f);
    c_.byte(w == W8 ? 0xb0 : 0xb1);
    modrm_mem(src, m);
}

// ---- control flow ----

void Assembler::call(Label target) {
    c_.byte(0xe8);
    c_.u32(0);
    c_.rel32_to(target);
}

void Assembler::call_reg(Reg r) {
    rex(false, 0, kNoReg, r);
    c_.byte(0xff);
    modrm_reg(2, r);
}

void Assembler::call_rip(Label table, int32_t offset) {
    c_.byte(0xff);
    c_.byte(0x15);  // ModRM: mod 00, reg 2 (call), rm 101 (RIP-relative)
    c_.u32(0);
    c_.rel32_to(table, 0, offset);
}

void Assembler::jmp_reg(Reg r) {
    rex(false, 0, kNoReg, r);
    c_.byte(0xff);
    modrm_reg(4, r);
}

void Assembler::push(Reg r) {
    rex(false, 0, kNoReg, r);
    c_.byte(static_cast<uint8_t>(0x50 | (r & 7)));
}

void Assembler::pop(Reg r) {
    rex(false, 0, kNoReg, r);
    c_.byte(static_cast<uint8_t>(0x58 | (r & 7)));
}

}  // namespace xbpf::jit::x64
