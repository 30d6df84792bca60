// Memory: loads, stores, atomics, 64-bit immediates and the legacy packet loads.
#include "jit/x86_64/code_generator.hpp"
#include "jit/x86_64/frame_layout.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::jit {

using namespace x64;

namespace {

Width width_of(uint8_t opcode) {
    return static_cast<Width>(access_size(opcode));
}

}  // namespace

void CodeGenerator::emit_load(const Insn& insn) {
    const Mem m = address(insn.src, insn.off);
    const Width w = width_of(insn.opcode);
    if ((insn.opcode & op::kModeMask) == op::MEMSX) {
        a_.load_sx(w, kRegMap[insn.dst], m);
    } else {
        a_.load(w, kRegMap[insn.dst], m);
    }
}

bool CodeGenerator::is_read_modify_write(size_t pc) const {
    // `rA = [m]; rB op= rA; [m] = rB` with rA and rB dead afterwards is `op [m], rB` for the
    // commutative operations (only the low bytes are stored, and they do not depend on the
    // high ones).
    const auto& p = in_.program;
    if (pc + 2 >= p.size() || insn_class(p[pc].opcode) != op::LDX) return false;
    const Insn& load = p[pc];
    const Insn& alu = p[pc + 1];
    const Insn& store = p[pc + 2];
    const auto size = static_cast<uint8_t>(load.opcode & op::kSizeMask);
    const uint8_t code = alu.opcode & op::kCodeMask;
    if ((load.opcode & op::kModeMask) != op::MEM || store.opcode != (op::STX | op::MEM | size) ||
        store.dst != load.src || store.off != load.off || !is_alu_class(alu.opcode) ||
        (alu.opcode & op::kSourceMask) != op::X || alu.src != load.dst || alu.dst != store.src ||
        (code != op::ADD && code != op::OR && code != op::AND && code != op::XOR) ||
        load.dst == load.src || alu.dst == load.src || load.dst == alu.dst ||
        // A 32-bit result is zero-extended before an 8-byte store: not a memory operation.
        (size == op::DW && insn_class(alu.opcode) != op::ALU64) ||
        ((facts_.flags[pc + 1] | facts_.flags[pc + 2]) & (kJumpTarget | kFunctionStart)) != 0 ||
        facts_.live(pc + 2, load.dst) || facts_.live(pc + 2, alu.dst)) {
        return false;
    }
    return true;
}

size_t CodeGenerator::try_emit_read_modify_write(size_t pc) {
    if (!is_read_modify_write(pc)) return 0;
    const Insn& load = in_.program[pc];
    const Insn& alu = in_.program[pc + 1];
    const uint8_t code = alu.opcode & op::kCodeMask;
    const AluOp aop = code == op::ADD   ? AluOp::Add
                      : code == op::OR  ? AluOp::Or
                      : code == op::AND ? AluOp::And
                                        : AluOp::Xor;
    a_.alu_mem_reg(aop, width_of(load.opcode), address(load.src, load.off), kRegMap[alu.dst]);
    return 3;
}

void CodeGenerator::emit_store(const Insn& insn) {
    const Mem m = address(insn.dst, insn.off);
    const Width w = width_of(insn.opcode);
    if (insn_class(insn.opcode) == op::STX) return a_.store(w, m, kRegMap[insn.src]);
    if (!blinding()) return a_.store_imm(w, m, insn.imm);
    load_constant(kScratch0, static_cast<uint64_t>(static_cast<int64_t>(insn.imm)), w != W64);
    a_.store(w, m, kScratch0);
}

void CodeGenerator::emit_atomic(const Insn& insn) {
    // lock-prefixed instructions are full barriers on x86, matching the interpreter's
    // sequentially consistent atomics.
    const Width w = width_of(insn.opcode);
    const Mem m = address(insn.dst, insn.off);
    const Reg src = kRegMap[insn.src];
    switch (insn.imm) {
        case op::ADD: return a_.lock_alu(AluOp::Add, w, m, src);
        case op::OR: return a_.lock_alu(AluOp::Or, w, m, src);
        case op::AND: return a_.lock_alu(AluOp::And, w, m, src);
        case op::XOR: return a_.lock_alu(AluOp::Xor, w, m, src);
        case op::ADD | op::FETCH: return a_.lock_xadd(w, m, src);  // 32-bit: zero-extends src
        case op::XCHG: return a_.xchg(w, m, src);
        case op::CMPXCHG:
            // Compares with r0 (rax), leaves the old value in eax/rax either way; a 32-bit
            // cmpxchg that succeeds does not write rax, so zero-extend explicitly.
            a_.lock_cmpxchg(w, m, src);
            if (w == W32) a_.mov(W32, RAX, RAX);
            return;
        default: break;
    }
    // Fetching or / and / xor: a compare-exchange loop, which needs rax. Address in r11,
    // operand in r10, the new value built in r9; r0 parked in the frame's scratch slot.
    const AluOp aop = (insn.imm & ~op::FETCH) == op::OR    ? AluOp::Or
                      : (insn.imm & ~op::FETCH) == op::AND ? AluOp::And
                                                           : AluOp::Xor;
    a_.lea(W64, kScratch0, m);
    a_.mov(W64, kScratch1, src);
    if (src != RAX) a_.store(W64, Mem{RSP, kSavedR0Offset}, RAX);
    a_.load(w, RAX, Mem{kScratch0});
    const Label retry = out_.code.new_label();
    out_.code.bind(retry);
    a_.mov(W64, kScratch2, RAX);
    a_.alu(aop, w, kScratch2, kScratch1);
    a_.lock_cmpxchg(w, Mem{kScratch0}, kScratch2);
    a_.jcc(Cond::NE, retry);
    if (src != RAX) {
        a_.mov(w, src, RAX);  // the old value (a 32-bit mov zero-extends)
        a_.load(W64, RAX, Mem{RSP, kSavedR0Offset});
    } else if (w == W32) {
        a_.mov(W32, RAX, RAX);
    }
}

void CodeGenerator::emit_lddw(size_t pc) {
    const Insn& insn = in_.program[pc];
    const Reg dst = kRegMap[insn.dst];
    if (insn.src == op::kImmCodeAddr) {
        // A function's address is its callx landing slot (see emit_tables).
        const auto target = static_cast<size_t>(branch_target(in_.program, pc));
        return a_.lea_rip(dst, landing_label(target));
    }
    const uint64_t value = in_.lddw_values[pc];
    if (value == 0 && !blinding()) return a_.alu(AluOp::Xor, W32, dst, dst);
    load_constant(dst, value, false);
}

void CodeGenerator::emit_legacy_load(const Insn& insn) {
    // R0 = the packet's bytes at the offset in network order; an offset outside the packet ends
    // the program with r0 = 0, as the interpreter (and Linux) do.
    const Width w = width_of(insn.opcode);
    const auto size = static_cast<int64_t>(w);
    const Mem ctx{kRunBlock, kRunBlockContext};
    const Mem length_field{kScratch0,
                           static_cast<int32_t>(offsetof(RunContext, legacy_packet_len))};
    const Mem packet_field{kScratch0, static_cast<int32_t>(offsetof(RunContext, legacy_packet))};
    Mem data{kScratch0};
    if ((insn.opcode & op::kModeMask) == op::ABS) {
        if (insn.imm < 0) return a_.jmp(unwind_zero_);
        const int64_t end = insn.imm + size;
        a_.load(W64, kScratch0, ctx);
        if (fits_int32(end)) {
            a_.alu_mem_imm(AluOp::Cmp, W64, length_field, static_cast<int32_t>(end));
            a_.jcc(Cond::B, unwind_zero_);  // length < offset + size
        } else {
            a_.mov_imm64(kScratch1, static_cast<uint64_t>(end));
            a_.alu_reg_mem(AluOp::Cmp, W64, kScratch1, length_field);
            a_.jcc(Cond::A, unwind_zero_);
        }
        a_.load(W64, kScratch0, packet_field);
        data.disp = insn.imm;
    } else {
        // The offset is (src + imm) truncated to 32 bits, as the interpreter computes it.
        a_.lea(W32, kScratch1, Mem{kRegMap[insn.src], insn.imm});
        a_.load(W64, kScratch0, ctx);
        a_.lea(W64, kScratch2, Mem{kScratch1, static_cast<int32_t>(size)});
        a_.alu_reg_mem(AluOp::Cmp, W64, kScratch2, length_field);
        a_.jcc(Cond::A, unwind_zero_);  // offset + size > length
        a_.load(W64, kScratch0, packet_field);
        data.index = kScratch1;
    }
    a_.load(w, RAX, data);
    if (w == W16) {
        a_.rol16_8(RAX);  // the upper bits stay zero from the zero-extending load
    } else if (w == W32) {
        a_.bswap(W32, RAX);
    }
}

}  // namespace xbpf::jit
