// Control flow: conditional jumps (compare fused with the branch, or a cmov for a jump over a
// single move), helper calls with the tail-call check, bpf-to-bpf calls with the depth check,
// and callx.
#include "jit/x86_64/code_generator.hpp"
#include "jit/x86_64/frame_layout.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::jit {

using namespace x64;

namespace {

Cond condition_of(uint8_t code) {
    switch (code) {
        case op::JEQ: return Cond::E;
        case op::JGT: return Cond::A;
        case op::JGE: return Cond::AE;
        case op::JSET: return Cond::NE;
        case op::JNE: return Cond::NE;
        case op::JSGT: return Cond::G;
        case op::JSGE: return Cond::GE;
        case op::JLT: return Cond::B;
        case op::JLE: return Cond::BE;
        case op::JSLT: return Cond::L;
        default: return Cond::LE;  // JSLE
    }
}

bool is_conditional_jump(const Insn& insn) {
    if (!is_jmp_class(insn.opcode)) return false;
    const uint8_t code = insn.opcode & op::kCodeMask;
    return code != op::JA && code != op::CALL && code != op::EXIT;
}

constexpr int32_t kTailCallOffset = static_cast<int32_t>(offsetof(RunContext, tail_call));

}  // namespace

void CodeGenerator::emit_compare(const Insn& insn) {
    const Width w = insn_class(insn.opcode) == op::JMP32 ? W32 : W64;
    const Reg dst = kRegMap[insn.dst];
    const bool is_test = (insn.opcode & op::kCodeMask) == op::JSET;
    Reg src = kRegMap[insn.src];
    if ((insn.opcode & op::kSourceMask) == op::K) {
        const int32_t imm = insn.imm;
        if (!blinding()) {
            if (is_test) {
                // The low byte alone decides when the mask has no other bits.
                if (imm >= 0 && imm <= 0xff) return a_.test_imm(W8, dst, imm);
                return a_.test_imm(w, dst, imm);
            }
            if (imm == 0) {
                // The flags of the instruction just before may already describe dst: and/or/xor
                // set them as test does, add/sub at least ZF.
                const Cond cond = condition_of(insn.opcode & op::kCodeMask);
                if (flags_before_.reg == dst && flags_before_.w == w &&
                    (flags_before_.logic || cond == Cond::E || cond == Cond::NE))
                    return;
                // Against zero, test sets the same flags as cmp in fewer bytes.
                return a_.test(w, dst, dst);
            }
            return a_.alu_imm(AluOp::Cmp, w, dst, imm);
        }
        load_constant(kScratch0,
                      w == W32 ? static_cast<uint32_t>(imm)
                               : static_cast<uint64_t>(static_cast<int64_t>(imm)),
                      w == W32);
        src = kScratch0;
    }
    if (is_test) return a_.test(w, dst, src);
    a_.alu(AluOp::Cmp, w, dst, src);
}

size_t CodeGenerator::emit_conditional_jump(size_t pc, const Insn& insn) {
    const auto target = static_cast<size_t>(branch_target(in_.program, pc));
    if (target == pc + 1) return 1;  // comparisons have no side effects
    const Cond cond = condition_of(insn.opcode & op::kCodeMask);
    // `if cond goto L1; goto L2; L1:` becomes `if !cond goto L2`: one branch instead of two
    // on the path that took both. Only when nothing else jumps to the goto.
    const Insn& next = in_.program[pc + 1];
    if (target == pc + 2 && next.opcode == op::JA_INSN &&
        (facts_.flags[pc + 1] & (kJumpTarget | kFunctionStart)) == 0) {
        emit_compare(insn);
        a_.jcc(negate(cond), pc_label(static_cast<size_t>(branch_target(in_.program, pc + 1))));
        return 2;
    }
    emit_compare(insn);
    a_.jcc(cond, pc_label(target));
    return 1;
}

size_t CodeGenerator::try_emit_cmov(size_t pc) {
    // `if cond goto +1; dst = value` is a conditional move of value into dst when !cond.
    const Insn& jump = in_.program[pc];
    if (!is_conditional_jump(jump) ||
        branch_target(in_.program, pc) != static_cast<int64_t>(pc + 2))
        return 0;
    const Insn& move = in_.program[pc + 1];
    if ((facts_.flags[pc + 1] & (kJumpTarget | kFunctionStart)) != 0 ||
        !is_alu_class(move.opcode) || (move.opcode & op::kCodeMask) != op::MOV || move.off != 0) {
        return 0;
    }
    const bool is64 = insn_class(move.opcode) == op::ALU64;
    const Reg dst = kRegMap[move.dst];
    Reg value = kRegMap[move.src];
    // The value goes to r10: a blinded comparison constant takes r11.
    if ((move.opcode & op::kSourceMask) == op::K) {
        load_constant(kScratch1,
                      is64 ? static_cast<uint64_t>(static_cast<int64_t>(move.imm))
                           : static_cast<uint32_t>(move.imm),
                      !is64);
        value = kScratch1;
    } else if (!is64) {
        // A 32-bit cmov would zero-extend dst even when it does not move; move the
        // zero-extended source in 64 bits instead.
        a_.mov(W32, kScratch1, value);
        value = kScratch1;
    }
    emit_compare(jump);
    a_.cmov(negate(condition_of(jump.opcode & op::kCodeMask)), W64, dst, value);
    return 2;
}

size_t CodeGenerator::try_emit_bit_test(size_t pc) {
    // `rX >>= n; rX &= 1; if rX != 0 goto L` with rX dead afterwards is `bt rX, n; jc L`: bt
    // masks the bit number as the shift masks its count.
    const auto& p = in_.program;
    if (pc + 2 >= p.size()) return 0;
    const Insn& shift = p[pc];
    const Insn& mask = p[pc + 1];
    const Insn& jump = p[pc + 2];
    const uint8_t cls = insn_class(shift.opcode);
    const uint8_t code = jump.opcode & op::kCodeMask;
    if (mask.opcode != (cls | op::K | op::AND) || mask.imm != 1 || mask.dst != shift.dst ||
        !is_jmp_class(jump.opcode) || (jump.opcode & op::kSourceMask) != op::K || jump.imm != 0 ||
        jump.dst != shift.dst || (code != op::JNE && code != op::JEQ) ||
        ((facts_.flags[pc + 1] | facts_.flags[pc + 2]) & (kJumpTarget | kFunctionStart)) != 0 ||
        facts_.live(pc + 2, shift.dst)) {
        return 0;
    }
    const Width w = cls == op::ALU64 ? W64 : W32;
    const bool by_register = (shift.opcode & op::kSourceMask) == op::X;
    // A deferred `n = m & 63` needs no computing: bt masks the bit number the same way. It
    // must still be computed if it is needed after the jump.
    RegSet keep = facts_.live_before[pc];
    Reg bit = by_register ? kRegMap[shift.src] : x64::kNoReg;
    if (by_register && shift.src != shift.dst && absorbs_as_count(shift.src, w) &&
        !facts_.live(pc + 2, shift.src)) {
        bit = count_register(shift.src);
        keep &= static_cast<RegSet>(~reg_bit(shift.src));
    }
    flush(keep);  // a jump follows
    if (by_register) {
        a_.bt(w, kRegMap[shift.dst], bit);
    } else {
        a_.bt_imm(w, kRegMap[shift.dst], static_cast<uint8_t>(shift.imm & (w == W64 ? 63 : 31)));
    }
    const auto target = static_cast<size_t>(branch_target(p, pc + 2));
    a_.jcc(code == op::JNE ? Cond::B : Cond::AE, pc_label(target));
    return 3;
}

void CodeGenerator::emit_before_helper(uint32_t pc) {
    // A callback (RunContext::call_function) needs the calling program, to check the function
    // address against, and the caller's frame, to place its own frames and count the depth.
    // Programs without function addresses cannot call back: a null program says so.
    a_.store_imm(W32, Mem{kRunBlock, kRunBlockHelperPc}, static_cast<int32_t>(pc));
    if (!facts_.takes_function_addresses) {
        a_.store_imm(W64, Mem{kRunBlock, kRunBlockHelperProgram}, 0);
        return;
    }
    a_.store(W64, Mem{kRunBlock, kRunBlockHelperRsp}, RSP);
    a_.movabs(kScratch0, reinterpret_cast<uintptr_t>(in_.program_identity));
    a_.store(W64, Mem{kRunBlock, kRunBlockHelperProgram}, kScratch0);
}

void CodeGenerator::emit_after_helper(uint32_t pc) {
    // A callback of the helper failed (the fault is recorded): the run ends.
    a_.alu_mem_imm(AluOp::Cmp, W32, Mem{kRunBlock, kRunBlockCallbackFaulted}, 0);
    a_.jcc(Cond::NE, unwind_zero_);
    a_.load(W64, kScratch0, Mem{kRunBlock, kRunBlockContext});
    a_.alu_mem_imm(AluOp::Cmp, W64, Mem{kScratch0, kTailCallOffset}, 0);
    a_.jcc(Cond::NE, stub(Stub::TailCall, pc));
}

void CodeGenerator::emit_helper_call(uint32_t pc, int32_t id) {
    // r1..r5 are already in the SysV argument registers; the RunContext& goes in r9. r1 is kept
    // in case the helper asks for a tail call, which starts the target with it.
    a_.store(W64, Mem{RSP, kSavedR1Offset}, RDI);
    emit_before_helper(pc);
    a_.load(W64, R9, Mem{kRunBlock, kRunBlockContext});
    a_.call_rip(helper_table_, helper_slot(id) * 8);
    emit_after_helper(pc);
}

void CodeGenerator::emit_local_call(uint32_t pc, size_t target) {
    a_.alu_reg_mem(AluOp::Cmp, W64, RSP, Mem{kRunBlock, kRunBlockStackLimit});
    a_.jcc(Cond::B, stub(Stub::CallDepth, pc));
    a_.call(function_label(target));
}

void CodeGenerator::emit_callx(uint32_t pc, const Insn& insn) {
    // The target is a function of this program (an address from lddw of a function: a slot of
    // the landing table) or a helper id; anything else faults, as in the interpreter.
    CodeBuffer& c = out_.code;
    const Label not_function = c.new_label();
    const Label done = c.new_label();
    const Label bad = stub(Stub::Callx, pc, insn.dst);
    a_.mov(W64, kScratch0, kRegMap[insn.dst]);
    a_.lea_rip(kScratch1, landing_table_);
    a_.mov(W64, kScratch2, kScratch0);
    a_.alu(AluOp::Sub, W64, kScratch2, kScratch1);
    a_.alu_imm(AluOp::Cmp, W64, kScratch2,
               static_cast<int32_t>(facts_.functions.size()) * kLandingSlotBytes);
    a_.jcc(Cond::AE, not_function);
    a_.test_imm(W8, kScratch2, kLandingSlotBytes - 1);
    a_.jcc(Cond::NE, not_function);
    a_.alu_reg_mem(AluOp::Cmp, W64, RSP, Mem{kRunBlock, kRunBlockStackLimit});
    a_.jcc(Cond::B, stub(Stub::CallDepth, pc));
    a_.call_reg(kScratch0);
    a_.jmp(done);

    c.bind(not_function);
    // (full_helper_table(): the table has every helper by id.)
    a_.alu_imm(AluOp::Cmp, W64, kScratch0, static_cast<int32_t>(in_.helpers->size()));
    a_.jcc(Cond::AE, bad);
    a_.lea_rip(kScratch1, helper_table_);
    a_.load(W64, kScratch1, Mem{kScratch1, 0, kScratch0, 8});
    a_.test(W64, kScratch1, kScratch1);
    a_.jcc(Cond::E, bad);
    a_.store(W64, Mem{RSP, kSavedR1Offset}, RDI);
    emit_before_helper(pc);
    a_.load(W64, R9, Mem{kRunBlock, kRunBlockContext});
    a_.call_reg(kScratch1);
    emit_after_helper(pc);
    c.bind(done);
}

}  // namespace xbpf::jit
