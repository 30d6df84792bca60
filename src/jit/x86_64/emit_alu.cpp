// Arithmetic: ALU and ALU64 instructions. x86's 32-bit operations zero the upper half of their
// destination, exactly as RFC 9669 asks of ALU, so no separate zero-extension is ever emitted;
// immediates use the short (imm8) and three-operand (imul) forms where they exist.
#include <bit>

#include "jit/x86_64/code_generator.hpp"
#include "jit/x86_64/frame_layout.hpp"

namespace xbpf::jit {

using namespace x64;

namespace {

AluOp alu_op(uint8_t code) {
    switch (code) {
        case op::ADD: return AluOp::Add;
        case op::SUB: return AluOp::Sub;
        case op::AND: return AluOp::And;
        case op::OR: return AluOp::Or;
        default: return AluOp::Xor;
    }
}

ShiftOp shift_op(uint8_t code) {
    return code == op::LSH ? ShiftOp::Shl : code == op::RSH ? ShiftOp::Shr : ShiftOp::Sar;
}

bool is_shift(uint8_t code) {
    return code == op::LSH || code == op::RSH || code == op::ARSH;
}

}  // namespace

void CodeGenerator::load_constant(Reg r, uint64_t value, bool is32) {
    // Uses r11 (r9 when r is r11) besides r; may change flags when blinding.
    if (!blinding()) {
        if (is32) {
            a_.mov_imm32(r, static_cast<uint32_t>(value));
        } else {
            a_.mov_imm64(r, value);
        }
        return;
    }
    // The constant never appears in the code: a random key, and the value xor the key.
    const uint64_t key = (*rng_)();
    const auto key32 = static_cast<int32_t>(key);
    if (is32) {
        a_.mov_imm32(r, static_cast<uint32_t>(value) ^ static_cast<uint32_t>(key32));
        a_.alu_imm(AluOp::Xor, W32, r, key32);
    } else if (fits_int32(static_cast<int64_t>(value))) {
        // The upper half is all zeros or all ones, whatever the program chose.
        a_.mov_imm64(r, value ^ static_cast<uint64_t>(static_cast<int64_t>(key32)));
        a_.alu_imm(AluOp::Xor, W64, r, key32);
    } else {
        // A full 64-bit value needs a 64-bit key, which needs a second register.
        const Reg other = r == kScratch0 ? kScratch2 : kScratch0;
        a_.movabs(r, value ^ key);
        a_.movabs(other, key);
        a_.alu(AluOp::Xor, W64, r, other);
    }
}

void CodeGenerator::emit_alu(const Insn& insn) {
    const bool is64 = insn_class(insn.opcode) == op::ALU64;
    const Width w = is64 ? W64 : W32;
    const Reg dst = kRegMap[insn.dst];
    const uint8_t code = insn.opcode & op::kCodeMask;
    const bool x = (insn.opcode & op::kSourceMask) == op::X;

    if (code == op::END) return emit_byteswap(insn, dst);
    if (code == op::NEG) return a_.neg(w, dst);
    if (!x && is_shift(code)) {
        // Shift counts are masked as the interpreter masks them; a zero shift still has to
        // zero-extend a 32-bit destination. (Counts are too small to need blinding.)
        const auto count = static_cast<uint8_t>(insn.imm & (is64 ? 63 : 31));
        if (count != 0) {
            a_.shift_imm(shift_op(code), w, dst, count);
        } else if (!is64) {
            a_.mov(W32, dst, dst);
        }
        return;
    }
    if (!x && !blinding()) return emit_alu_imm(insn, w, dst);

    Reg src = kRegMap[insn.src];
    if (!x) {
        // Blinded immediate: materialise it in the scratch register and use the register form.
        const uint64_t value = is64 ? static_cast<uint64_t>(static_cast<int64_t>(insn.imm))
                                    : static_cast<uint32_t>(insn.imm);
        load_constant(kScratch0, value, !is64);
        src = kScratch0;
    }
    switch (code) {
        case op::MOV:
            if (insn.off != 0) {
                const Width from = insn.off == 8 ? W8 : insn.off == 16 ? W16 : W32;
                a_.movsx(from, w, dst, src);
            } else if (!is64 || dst != src) {
                a_.mov(w, dst, src);
            }
            return;
        case op::MUL: return a_.imul(w, dst, src);
        case op::DIV:
        case op::MOD:
            return emit_divmod_reg(w, dst, src, insn.off == 1, code == op::MOD,
                                   /*check_divisor=*/true);
        case op::LSH:
        case op::RSH:
        case op::ARSH:
            return emit_shift(shift_op(code), w, dst, x ? count_register(insn.src) : src);
        default:
            a_.alu(alu_op(code), w, dst, src);
            set_flags_source(dst, w, code != op::ADD && code != op::SUB);
            return;
    }
}

void CodeGenerator::emit_alu_imm(const Insn& insn, Width w, Reg dst) {
    const bool is64 = w == W64;
    const int32_t imm = insn.imm;
    const uint8_t code = insn.opcode & op::kCodeMask;
    switch (code) {
        case op::MOV:
            if (imm == 0) return a_.alu(AluOp::Xor, W32, dst, dst);
            if (is64) return a_.mov_imm64(dst, static_cast<uint64_t>(static_cast<int64_t>(imm)));
            return a_.mov_imm32(dst, static_cast<uint32_t>(imm));
        case op::MUL:
            if (imm == 1 && is64) return;
            return a_.imul_imm(w, dst, dst, imm);
        case op::DIV:
        case op::MOD: return emit_divmod(insn, w, dst);
        case op::AND:
            if (imm == -1 && is64) return;
            a_.alu_imm(AluOp::And, w, dst, imm);
            set_flags_source(dst, w, true);
            return;
        default:  // ADD, SUB, OR, XOR: 0 changes nothing in 64 bits
            if (imm == 0 && is64) return;
            a_.alu_imm(alu_op(code), w, dst, imm);
            set_flags_source(dst, w, code != op::ADD && code != op::SUB);
            return;
    }
}

void CodeGenerator::emit_divmod(const Insn& insn, Width w, Reg dst) {
    // A constant divisor: the corner cases RFC 9669 defines are known now, so they cost nothing
    // at run time.
    const bool is64 = w == W64;
    const bool is_mod = (insn.opcode & op::kCodeMask) == op::MOD;
    const bool is_signed = insn.off == 1;
    const int32_t imm = insn.imm;
    auto keep_dividend = [&] {  // x % 0 = x (zero-extended in 32 bits)
        if (!is64) a_.mov(W32, dst, dst);
    };
    if (imm == 0) {
        if (is_mod) return keep_dividend();
        return a_.alu(AluOp::Xor, W32, dst, dst);
    }
    if (is_signed) {
        if (imm == -1) {
            if (is_mod) return a_.alu(AluOp::Xor, W32, dst, dst);
            return a_.neg(w, dst);
        }
        a_.mov_imm64(kScratch0, is64 ? static_cast<uint64_t>(static_cast<int64_t>(imm))
                                     : static_cast<uint32_t>(imm));
        return emit_divmod_reg(w, dst, kScratch0, true, is_mod, false);
    }
    const uint64_t d =
        is64 ? static_cast<uint64_t>(static_cast<int64_t>(imm)) : static_cast<uint32_t>(imm);
    if (std::has_single_bit(d)) {
        const auto shift = static_cast<uint8_t>(std::countr_zero(d));
        if (is_mod) {
            // d - 1 < 2^31 here: a 64-bit power of two from a sign-extended imm is at most 2^30.
            if (d == 1) return a_.alu(AluOp::Xor, W32, dst, dst);
            return a_.alu_imm(AluOp::And, w, dst, static_cast<int32_t>(d - 1));
        }
        if (shift == 0) return keep_dividend();
        return a_.shift_imm(ShiftOp::Shr, w, dst, shift);
    }
    a_.mov_imm64(kScratch0, d);
    emit_divmod_reg(w, dst, kScratch0, false, is_mod, false);
}

void CodeGenerator::emit_divmod_reg(Width w, Reg dst, Reg divisor, bool is_signed, bool is_mod,
                                    bool check_divisor) {
    // x86 divides rdx:rax, which hold r3 and r0: keep whichever of them is not the destination
    // in scratch registers around the division.
    Reg dv = divisor;
    if (dv == RAX || dv == RDX) {
        a_.mov(W64, kScratch0, dv);
        dv = kScratch0;
    }
    Label special_zero, special_minus_one, done;
    if (check_divisor) {
        special_zero = out_.code.new_label();
        done = out_.code.new_label();
        a_.test(w, dv, dv);
        a_.jcc(Cond::E, special_zero);
        if (is_signed) {
            // INT_MIN / -1 would trap; RFC 9669 wants the wrapped result.
            special_minus_one = out_.code.new_label();
            a_.alu_imm(AluOp::Cmp, w, dv, -1);
            a_.jcc(Cond::E, special_minus_one);
        }
    }
    if (dst != RAX) a_.mov(W64, kScratch1, RAX);
    if (dst != RDX) a_.mov(W64, kScratch2, RDX);
    if (dst != RAX) a_.mov(W64, RAX, dst);
    if (is_signed) {
        a_.sign_extend_rax_into_rdx(w);
    } else {
        a_.alu(AluOp::Xor, W32, RDX, RDX);
    }
    a_.div(w, dv, is_signed);
    const Reg result = is_mod ? RDX : RAX;
    if (dst != result) a_.mov(W64, dst, result);
    if (dst != RAX) a_.mov(W64, RAX, kScratch1);
    if (dst != RDX) a_.mov(W64, RDX, kScratch2);
    if (!check_divisor) return;

    a_.jmp(done);
    out_.code.bind(special_zero);
    if (!is_mod) {
        a_.alu(AluOp::Xor, W32, dst, dst);  // x / 0 = 0
    } else if (w == W32) {
        a_.mov(W32, dst, dst);  // x % 0 = x, zero-extended
    }
    if (is_signed) {
        a_.jmp(done);
        out_.code.bind(special_minus_one);
        if (is_mod) {
            a_.alu(AluOp::Xor, W32, dst, dst);  // x % -1 = 0
        } else {
            a_.neg(w, dst);  // x / -1 = -x, wrapping
        }
    }
    out_.code.bind(done);
}

void CodeGenerator::emit_shift(ShiftOp op, Width w, Reg dst, Reg count) {
    if (in_.bmi2) return a_.shift_bmi2(op, w, dst, dst, count);  // masks the count itself
    // Without BMI2 the count must be in cl, which holds r4: borrow rcx around the shift.
    if (count == RCX) {
        if (dst != RCX) return a_.shift_cl(op, w, dst);
        a_.mov(W64, kScratch1, RCX);
        a_.shift_cl(op, w, kScratch1);
        return a_.mov(W64, RCX, kScratch1);
    }
    a_.mov(W64, kScratch1, RCX);
    a_.mov(W32, RCX, count);
    if (dst == RCX) {
        a_.shift_cl(op, w, kScratch1);  // r4's value is in the scratch register now
        return a_.mov(W64, RCX, kScratch1);
    }
    a_.shift_cl(op, w, dst);
    a_.mov(W64, RCX, kScratch1);
}

void CodeGenerator::emit_byteswap(const Insn& insn, Reg dst) {
    const bool swap =
        insn_class(insn.opcode) == op::ALU64 || (insn.opcode & op::kSourceMask) == op::TO_BE;
    switch (insn.imm) {
        case 16:
            if (swap) a_.rol16_8(dst);
            return a_.movzx(W16, dst, dst);
        case 32:
            if (swap) return a_.bswap(W32, dst);
            return a_.mov(W32, dst, dst);
        default:
            if (swap) a_.bswap(W64, dst);
            return;
    }
}

}  // namespace xbpf::jit
