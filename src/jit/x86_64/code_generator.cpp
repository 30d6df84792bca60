// Code layout: the entry trampoline, function prologues and epilogues, the instruction loop, the
// cold stubs and the tables (see frame_layout.hpp for the conventions).
#include "jit/x86_64/code_generator.hpp"

#include <algorithm>

#include "jit/x86_64/frame_layout.hpp"
#include "jit/x86_64/runtime_support.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::jit {

using namespace x64;

CodeGenerator::CodeGenerator(const CodegenInput& input)
    : in_(input),
      facts_(*input.facts),
      out_{CodeBuffer(input.program.size() * 12 + 512), {}, {}, {}, {}, {}},
      a_(out_.code) {
    if (input.blind_constants) rng_.emplace(input.blinding_seed);
}

GeneratedCode CodeGenerator::generate() {
    CodeBuffer& c = out_.code;
    const size_t n = in_.program.size();
    first_pc_label_ = c.new_labels(n).id;
    first_function_label_ = c.new_labels(2 * facts_.functions.size()).id;
    out_.entry = c.new_label();
    main_entry_ = c.new_label();
    unwind_zero_ = c.new_label();
    fault_common_ = c.new_label();
    tail_common_ = c.new_label();
    landing_table_ = c.new_label();
    helper_table_ = c.new_label();
    out_.tail_entry = pc_label(0);
    out_.main_entry = main_entry_;
    out_.landing_table = landing_table_;

    emit_entry_trampoline();

    // The main program's entry: a prologue, then the registers the interpreter starts at zero.
    c.ensure(64);
    c.bind(main_entry_);
    emit_prologue();
    for (int r : {0, 6, 7, 8, 9})
        a_.alu(AluOp::Xor, W32, kRegMap[r], kRegMap[r]);

    for (size_t pc = 0; pc < n;) {
        c.ensure(256);
        if ((facts_.flags[pc] & (kJumpTarget | kFunctionStart)) != 0) [[unlikely]] {
            // Code arriving from elsewhere has every register computed, so this path must too.
            flush(facts_.live_before[pc]);
            flags_ = {};
            if (facts_.is(pc, kFunctionStart) && pc != 0) emit_function_body_start(pc);
        }
        if (facts_.is(pc, kLoopHead)) [[unlikely]] {
            // A copy loop entered from above first tries to run as one memmove.
            const bool entered_from_above =
                pc > 0 && (facts_.is(pc - 1, kSecondSlot) || falls_through(in_.program[pc - 1]));
            if (entered_from_above && !blinding()) {
                if (auto loop = find_copy_loop(in_.program, facts_, pc))
                    emit_copy_loop_entry(std::make_unique<CopyLoop>(*loop));
            }
            // Loop heads start a 32-byte fetch block (measured best on the machines we target).
            c.align(32);
        }
        c.bind(pc_label(pc));
        flags_before_ = flags_;
        flags_ = {};
        // (The deferred-value steps are guarded here: most instructions need none of them.)
        if (deferred_set_ != 0) {
            if (try_extend_deferred(pc)) {
                ++pc;
                continue;
            }
            prepare_for(pc);
        }
        if (may_start_deferred(in_.program[pc].opcode)) {
            if (const size_t deferred = try_defer(pc); deferred != 0) {
                for (size_t i = 1; i < deferred; ++i)
                    c.bind(pc_label(pc + i));
                pc += deferred;
                continue;
            }
        }
        const size_t used = emit_instruction(pc);
        if (deferred_set_ != 0) retire_after(pc);
        // Instructions folded into this one (and an lddw's second slot) get the same position;
        // nothing jumps to them (checked where instructions are fused).
        for (size_t i = 1; i < used; ++i)
            c.bind(pc_label(pc + i));
        pc += used;
    }

    // Function 0 entered by a local call or callx: a plain prologue, then its first instruction.
    c.ensure(64);
    c.bind(function_label(0));
    emit_prologue();
    a_.jmp(pc_label(0));

    emit_stubs();
    emit_tables();
    return std::move(out_);
}

void CodeGenerator::emit_entry_trampoline() {
    // uint64_t entry(r1, r2, r3, r4, r5, RunBlock* block): completes the run block, calls
    // block->target (the main function, or a callback's landing slot, so every eBPF frame looks
    // the same) and returns r0.
    CodeBuffer& c = out_.code;
    c.ensure(64);
    c.bind(out_.entry);
    a_.push(kRunBlock);
    a_.mov(W64, kRunBlock, R9);
    a_.store(W64, Mem{kRunBlock, kRunBlockFrameBase}, RSP);
    a_.mov(W64, kScratch0, RSP);
    a_.alu_reg_mem(AluOp::Sub, W64, kScratch0, Mem{kRunBlock, kRunBlockLimitDistance});
    a_.store(W64, Mem{kRunBlock, kRunBlockStackLimit}, kScratch0);
    a_.load(W64, kScratch0, Mem{kRunBlock, kRunBlockTarget});
    a_.call_reg(kScratch0);
    a_.pop(kRunBlock);
    a_.ret();
}

void CodeGenerator::emit_prologue() {
    // Saves the caller's r10 and r6..r9 (for the main frame: the host's callee-saved registers).
    a_.push(RBP);
    a_.push(RBX);
    a_.push(R13);
    a_.push(R14);
    a_.push(R15);
    a_.mov(W64, RBP, RSP);
    a_.alu_imm(AluOp::Sub, W64, RSP, kFrameBytes);
}

void CodeGenerator::emit_epilogue() {
    a_.mov(W64, RSP, RBP);
    a_.pop(R15);
    a_.pop(R14);
    a_.pop(R13);
    a_.pop(RBX);
    a_.pop(RBP);
    a_.ret();
}

void CodeGenerator::emit_function_body_start(size_t pc) {
    // Execution that runs into a function's first instruction from the one before (legal, if
    // odd) continues in the current frame, as in the interpreter: it skips the prologue.
    if (facts_.is(pc - 1, kSecondSlot) || falls_through(in_.program[pc - 1])) a_.jmp(pc_label(pc));
    out_.code.align(16);
    out_.code.bind(function_label(pc));
    emit_prologue();
}

void CodeGenerator::emit_copy_loop_entry(std::unique_ptr<CopyLoop> loop) {
    out_.code.ensure(160);
    // When the exit test is on one register plus a constant (the usual `i < n`), a short loop
    // is recognised inline and skips the call: v = r + c is short when v > limit - 16 * step.
    // (A pure shortcut: run_copy_loop() checks everything again.)
    const Label skip = out_.code.new_label();
    int test_reg = -1;
    for (int r = 0; r < kRegisterCount; ++r) {
        const int64_t coef = loop->condition.coef[r];
        if (coef == 0) continue;
        test_reg = coef == 1 && test_reg == -1 ? r : kRegisterCount;
    }
    const __int128 threshold =
        static_cast<__int128>(loop->limit) -
        static_cast<__int128>(kMinCopyLoopIterations) * loop->condition_step -
        loop->condition.constant;
    const bool guard = test_reg >= 0 && test_reg < kRegisterCount && threshold >= 0 &&
                       threshold <= static_cast<__int128>(INT64_MAX);
    if (guard) {
        a_.mov_imm64(kScratch0, static_cast<uint64_t>(threshold));
        a_.alu(AluOp::Cmp, W64, kRegMap[test_reg], kScratch0);
        a_.jcc(Cond::A, skip);
    }
    // r0..r10 go to the stack as the array run_copy_loop() reads and updates (twelve pushes
    // keep rsp 16-byte aligned for the call); it returns 1 when it did the loop's work.
    static constexpr Reg kSaved[] = {RBP, R15, R14, R13, RBX, R8, RCX, RDX, RSI, RDI, RAX};
    a_.push(RAX);  // padding
    for (Reg r : kSaved)
        a_.push(r);
    a_.mov(W64, RDI, RSP);
    a_.movabs(RSI, reinterpret_cast<uintptr_t>(loop.get()));
    a_.movabs(RAX, reinterpret_cast<uintptr_t>(&run_copy_loop));
    a_.call_reg(RAX);
    a_.mov(W64, kScratch0, RAX);
    for (size_t i = std::size(kSaved); i-- > 0;)
        a_.pop(kSaved[i]);
    a_.pop(kScratch1);  // padding
    a_.test(W64, kScratch0, kScratch0);
    a_.jcc(Cond::NE, pc_label(loop->end + 1));
    out_.code.bind(skip);
    out_.copy_loops.push_back(std::move(loop));
}

Label CodeGenerator::stub(Stub::Kind kind, uint32_t pc, uint8_t reg) {
    stubs_.push_back(Stub{kind, reg, pc, out_.code.new_label()});
    return stubs_.back().label;
}

void CodeGenerator::emit_stubs() {
    CodeBuffer& c = out_.code;
    for (const Stub& s : stubs_) {
        c.ensure(32);
        c.bind(s.label);
        a_.mov_imm32(RSI, s.pc);
        switch (s.kind) {
            case Stub::CallDepth:
                a_.mov_imm32(RDX, kFaultCallDepth);
                a_.jmp(fault_common_);
                break;
            case Stub::Callx:
                a_.mov_imm32(RDX, kFaultCallx | static_cast<uint32_t>(s.reg) << 8);
                a_.mov(W64, RCX, kScratch0);
                a_.jmp(fault_common_);
                break;
            case Stub::TailCall: a_.jmp(tail_common_); break;
        }
    }

    c.ensure(128);
    // A helper asked for a tail call (esi = pc, r11 = ctx). Keep r0, look the target up,
    // continue at its first instruction in this frame with the r1 the helper was given.
    c.bind(tail_common_);
    a_.store(W64, Mem{RSP, kSavedR0Offset}, RAX);
    a_.mov(W64, RDI, kScratch0);
    a_.movabs(RAX, reinterpret_cast<uintptr_t>(&take_tail_call));
    a_.call_reg(RAX);
    a_.test(W64, RAX, RAX);
    a_.jcc(Cond::E, unwind_zero_);
    a_.mov(W64, kScratch0, RAX);
    a_.load(W64, RAX, Mem{RSP, kSavedR0Offset});
    a_.load(W64, RDI, Mem{RSP, kSavedR1Offset});
    a_.jmp_reg(kScratch0);

    // A fault (esi = pc, edx = what, rcx = value): record it, then unwind.
    c.bind(fault_common_);
    a_.load(W64, RDI, Mem{kRunBlock, kRunBlockContext});
    a_.movabs(RAX, reinterpret_cast<uintptr_t>(&record_fault));
    a_.call_reg(RAX);
    // Ends the run with r0 = 0 from any depth: restore the host's registers saved by the first
    // frame's prologue (just below the trampoline's return address) and return to the trampoline.
    c.bind(unwind_zero_);
    a_.load(W64, RSP, Mem{kRunBlock, kRunBlockFrameBase});
    a_.alu_imm(AluOp::Sub, W64, RSP, 8 + kSavedRegisterBytes);
    a_.alu(AluOp::Xor, W32, RAX, RAX);
    a_.pop(R15);
    a_.pop(R14);
    a_.pop(R13);
    a_.pop(RBX);
    a_.pop(RBP);
    a_.ret();
}

void CodeGenerator::emit_tables() {
    CodeBuffer& c = out_.code;
    // callx landing table: one fixed-size slot per function, so "is this value a function of
    // the program" is a range and alignment check.
    c.ensure(facts_.functions.size() * kLandingSlotBytes + 32);
    c.align(kLandingSlotBytes);
    c.bind(landing_table_);
    for (uint32_t f : facts_.functions) {
        c.bind(landing_label(f));
        a_.jmp(function_label(f), /*keep_long=*/true);
        for (int i = 5; i < kLandingSlotBytes; ++i)
            a_.int3();
    }
    // Helper addresses, for calls through memory (no distance limit, unlike call rel32).
    const size_t entries = full_helper_table() ? in_.helpers->size() : helper_table_ids_.size();
    c.ensure(entries * 8 + 16);
    c.align(8);
    c.bind(helper_table_);
    for (size_t slot = 0; slot < entries; ++slot) {
        const auto id = full_helper_table() ? static_cast<int32_t>(slot) : helper_table_ids_[slot];
        c.u64(reinterpret_cast<uintptr_t>(in_.helpers->get(id)));
    }
}

int32_t CodeGenerator::helper_slot(int32_t id) {
    if (full_helper_table()) return id;
    if (helper_slots_.empty()) helper_slots_.assign(in_.helpers->size(), -1);
    int16_t& slot = helper_slots_[static_cast<size_t>(id)];  // id < size: checked by prepare
    if (slot < 0) {
        slot = static_cast<int16_t>(helper_table_ids_.size());
        helper_table_ids_.push_back(id);
    }
    return slot;
}

Label CodeGenerator::function_label(size_t pc) const {
    const auto& f = facts_.functions;
    const auto index = static_cast<uint32_t>(
        std::lower_bound(f.begin(), f.end(), static_cast<uint32_t>(pc)) - f.begin());
    return Label{first_function_label_ + 2 * index};
}

Label CodeGenerator::landing_label(size_t pc) const {
    return Label{function_label(pc).id + 1};
}

size_t CodeGenerator::emit_instruction(size_t pc) {
    const Insn& insn = in_.program[pc];
    switch (insn_class(insn.opcode)) {
        case op::ALU:
        case op::ALU64:
            if ((insn.opcode & op::kCodeMask) == op::RSH) {
                if (const size_t used = try_emit_bit_test(pc); used != 0) return used;
            }
            emit_alu(insn);
            return 1;
        case op::LDX:
            if (const size_t used = try_emit_read_modify_write(pc); used != 0) return used;
            emit_load(insn);
            return 1;
        case op::ST:
        case op::STX:
            if ((insn.opcode & op::kModeMask) == op::ATOMIC) {
                emit_atomic(insn);
            } else {
                emit_store(insn);
            }
            return 1;
        case op::LD:
            if (is_lddw(insn)) {
                emit_lddw(pc);
                return 2;
            }
            emit_legacy_load(insn);
            return 1;
        default: break;
    }
    // JMP and JMP32.
    const uint8_t code = insn.opcode & op::kCodeMask;
    const auto pc32 = static_cast<uint32_t>(pc);
    switch (code) {
        case op::JA: {
            const auto target = static_cast<size_t>(branch_target(in_.program, pc));
            if (target != pc + 1) a_.jmp(pc_label(target));
            return 1;
        }
        case op::EXIT: emit_epilogue(); return 1;
        case op::CALL:
            if ((insn.opcode & op::kSourceMask) == op::X) {
                emit_callx(pc32, insn);
            } else if (insn.src == op::kCallLocal) {
                emit_local_call(pc32, static_cast<size_t>(branch_target(in_.program, pc)));
            } else {
                emit_helper_call(pc32, insn.imm);
            }
            return 1;
        default: {
            if (const size_t used = try_emit_cmov(pc); used != 0) return used;
            return emit_conditional_jump(pc, insn);
        }
    }
}

}  // namespace xbpf::jit
