// Translates a validated eBPF program into x86-64 code (frame_layout.hpp describes the
// conventions). One pass over the instructions emits the code; cold paths (fault reports, tail
// calls) go to stubs after the program, followed by the callx landing table and the helper table.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "jit/x86_64/assembler.hpp"
#include "jit/x86_64/code_buffer.hpp"
#include "jit/x86_64/copy_loops.hpp"
#include "jit/x86_64/frame_layout.hpp"
#include "jit/x86_64/program_facts.hpp"
#include "xbpf/engine.hpp"

namespace xbpf::jit {

struct CodegenInput {
    std::span<const Insn> program;
    const ProgramFacts* facts = nullptr;
    // Helpers by id (null where the table has none); the program's calls were checked.
    const HelperTable* helpers = nullptr;
    // Per slot: the value of the lddw starting there (pseudo sources already resolved; code
    // addresses are the generator's own business).
    std::span<const uint64_t> lddw_values;
    bool bmi2 = true;
    bool blind_constants = false;
    uint64_t blinding_seed = 0;
    // What helper calls record as the calling program (RunBlock::helper_program): the
    // JitProgram the code is for.
    const void* program_identity = nullptr;
};

struct GeneratedCode {
    x64::CodeBuffer code;
    x64::Label entry;          // uint64_t (r1, r2, r3, r4, r5, RunBlock*)
    x64::Label main_entry;     // the main function (a RunBlock's target for a run)
    x64::Label tail_entry;     // where a tail call into this program continues
    x64::Label landing_table;  // function addresses: kLandingSlotBytes per function
    // Data the code points to, which must live as long as the code.
    std::vector<std::unique_ptr<CopyLoop>> copy_loops;
};

class CodeGenerator {
  public:
    explicit CodeGenerator(const CodegenInput& input);
    // Emits the whole program; call once.
    GeneratedCode generate();

  private:
    using Reg = x64::Reg;
    using Label = x64::Label;

    // A cold path emitted after the program.
    struct Stub {
        enum Kind : uint8_t { CallDepth, Callx, TailCall } kind;
        uint8_t reg;  // callx: the eBPF register holding the target
        uint32_t pc;
        Label label;
    };

    // ---- layout (code_generator.cpp) ----
    void emit_entry_trampoline();
    void emit_prologue();
    void emit_epilogue();
    void emit_function_body_start(size_t pc);
    void emit_copy_loop_entry(std::unique_ptr<CopyLoop> loop);
    size_t emit_instruction(size_t pc);
    void emit_stubs();
    void emit_tables();
    Label pc_label(size_t pc) const { return Label{first_pc_label_ + static_cast<uint32_t>(pc)}; }
    Label stub(Stub::Kind kind, uint32_t pc, uint8_t reg = 0);

    // ---- arithmetic (emit_alu.cpp) ----
    void emit_alu(const Insn& insn);
    void emit_alu_imm(const Insn& insn, x64::Width w, Reg dst);
    void emit_divmod(const Insn& insn, x64::Width w, Reg dst);
    void emit_divmod_reg(x64::Width w, Reg dst, Reg divisor, bool is_signed, bool is_mod,
                         bool check_divisor);
    void emit_shift(x64::ShiftOp op, x64::Width w, Reg dst, Reg count);
    void emit_byteswap(const Insn& insn, Reg dst);
    // Puts a program constant in `r`, blinded when blinding is on (then flags change and
    // r11, or r9 when r is r11, may be used too).
    void load_constant(Reg r, uint64_t value, bool is32);
    bool blinding() const { return in_.blind_constants; }

    // ---- memory (emit_memory.cpp) ----
    void emit_load(const Insn& insn);
    void emit_store(const Insn& insn);
    void emit_atomic(const Insn& insn);
    void emit_legacy_load(const Insn& insn);
    void emit_lddw(size_t pc);

    // ---- deferred values (deferred_values.cpp) ----
    // Some values are held back until a use needs them, so that the use can absorb them:
    // `rX = rA; rX += K; rX += rB` becomes the addressing of the loads and stores based on rX,
    // `rX = rA; rX &= 63` the count of a shift by rX (x86 masks counts itself), `rX <<= 3` the
    // scale of an index. rX is only computed (one lea, mov+and or shl) if still needed as a
    // value. Never across a jump target, a jump or a call.
    struct Deferred {
        enum Kind : uint8_t { Address, Masked, Scaled } kind = Address;
        Reg base = x64::kNoReg;   // Address: base; Masked: the source; Scaled: rX's own register
        Reg index = x64::kNoReg;  // Address only
        uint8_t scale = 1;        // Address: of the index; Scaled: the factor (2, 4 or 8)
        int32_t disp = 0;         // Address: displacement; Masked: the mask (31 or 63)
    };
    bool try_extend_deferred(size_t pc);  // adds to a deferred address: absorbed
    size_t try_defer(size_t pc);          // starts deferring: slots absorbed (0: none)
    // Only register moves and small left shifts start a deferred value.
    static bool may_start_deferred(uint8_t opcode) {
        return opcode == (op::ALU64 | op::X | op::MOV) || opcode == (op::ALU | op::X | op::MOV) ||
               opcode == (op::ALU64 | op::K | op::LSH);
    }
    // Both only while a value is deferred (the caller checks deferred_set_):
    void prepare_for(size_t pc);                // computes what the instruction at pc needs
    void retire_after(size_t pc);               // forgets deferred values it made stale
    UseDef effective_use_def(size_t pc) const;  // as emitted (fusions change it)
    void materialize(int reg);
    void flush(RegSet keep);  // computes the deferred registers in keep, forgets the rest
    bool is_deferred(int reg) const { return (deferred_set_ & reg_bit(reg)) != 0; }
    RegSet made_of(int reg) const;  // the registers a deferred value is computed from
    bool is_deferred(int reg, Deferred::Kind kind) const {
        return is_deferred(reg) && deferred_[reg].kind == kind;
    }
    // The memory operand [reg + off], through reg's deferred address if it has one.
    x64::Mem address(int reg, int32_t off) const {
        if (!is_deferred(reg, Deferred::Address)) return x64::Mem{kRegMap[reg], off};
        const Deferred& d = deferred_[reg];
        return x64::Mem{d.base, d.disp + off, d.index, d.scale};
    }
    // Whether a deferred masked value can serve as the count of a shift (or bt) of width w.
    bool absorbs_as_count(int reg, x64::Width w) const;
    // The register holding a shift count: the source of a deferred masked value, or reg's own.
    Reg count_register(int reg) const {
        return is_deferred(reg, Deferred::Masked) ? deferred_[reg].base : kRegMap[reg];
    }

    // ---- control flow (emit_control.cpp) ----
    size_t emit_conditional_jump(size_t pc, const Insn& insn);  // returns slots used
    void emit_compare(const Insn& insn);
    void emit_helper_call(uint32_t pc, int32_t id);
    // Around every helper call (also through callx): what a callback needs to know of the
    // call, then whether the helper faulted in a callback or asked for a tail call.
    void emit_before_helper(uint32_t pc);
    void emit_after_helper(uint32_t pc);
    void emit_local_call(uint32_t pc, size_t target);
    void emit_callx(uint32_t pc, const Insn& insn);
    size_t try_emit_cmov(size_t pc);
    size_t try_emit_bit_test(size_t pc);
    bool is_read_modify_write(size_t pc) const;
    size_t try_emit_read_modify_write(size_t pc);

    // The register whose value the flags describe after the previous instruction (test
    // against zero can then be left out), kNoReg when unknown.
    struct FlagsSource {
        Reg reg = x64::kNoReg;
        x64::Width w = x64::W64;
        bool logic = false;  // and/or/xor: CF = OF = 0, so every condition against 0 holds
    };
    void set_flags_source(Reg reg, x64::Width w, bool logic) { flags_ = {reg, w, logic}; }

    const CodegenInput& in_;
    const ProgramFacts& facts_;
    GeneratedCode out_;
    x64::Assembler a_;
    uint32_t first_pc_label_ = 0;
    // Each function (by its first slot) has two labels: its prologue and its callx landing slot.
    uint32_t first_function_label_ = 0;
    Label function_label(size_t pc) const;
    Label landing_label(size_t pc) const;
    std::vector<Stub> stubs_;
    Deferred deferred_[kRegisterCount];
    RegSet deferred_set_ = 0;
    FlagsSource flags_, flags_before_;
    Label main_entry_, unwind_zero_, fault_common_, tail_common_, landing_table_, helper_table_;
    std::optional<std::mt19937_64> rng_;  // blinding keys (seeding costs a microsecond)
    // The helper table after the code holds the helpers the program calls, in the order of
    // their first call (a few entries instead of the whole HelperTable in every program), or,
    // when callx may pick any helper id at run time, every helper by id.
    bool full_helper_table() const { return facts_.has_callx; }
    std::vector<int32_t> helper_table_ids_;  // by slot, when not full
    std::vector<int16_t> helper_slots_;      // by id: the slot, or -1
    int32_t helper_slot(int32_t id);
};

}  // namespace xbpf::jit
