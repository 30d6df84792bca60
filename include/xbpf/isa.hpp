// The instruction-set toolkit: bytes <-> instructions, structural validation, the assembler for
// the conformance-suite syntax, and the disassembler (kernel/LLVM style or conformance syntax).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "xbpf/error.hpp"
#include "xbpf/insn.hpp"

namespace xbpf {

// ---- Encoding --------------------------------------------------------------------------------

// Splits little-endian bytes into instruction slots. Fails when the length is not a multiple of 8.
Result<std::vector<Insn>> decode(std::span<const uint8_t> bytes);
// The little-endian bytes of a program.
std::vector<uint8_t> encode(std::span<const Insn> program);

// ---- Validation ------------------------------------------------------------------------------

struct ValidateOptions {
    // Reject `lddw` pseudo sources that must be resolved by a loader (map fd/idx, BTF var).
    // Set once relocation has replaced them; raw conformance programs only use plain values.
    bool require_resolved = false;
    // Largest program accepted, in slots (Linux: 1,000,000 for privileged loads).
    size_t max_instructions = 1'000'000;
};

// Checks that the instruction at `pc` is well formed: a known opcode, registers r0..r10,
// reserved fields zero, no write to r10, an lddw with both slots. The error names the
// instruction and the field.
Status validate_insn(std::span<const Insn> program, size_t pc, const ValidateOptions& options = {});

// Checks every instruction, then the program as a whole: not empty, not too long, every jump
// and local call lands on an instruction (not the second slot of an lddw) inside the
// program, and the last instruction cannot fall off the end.
Status validate_program(std::span<const Insn> program, const ValidateOptions& options = {});

// Slot index a jump or local call at `pc` goes to (may be outside the program: validate first).
// Inline: validation and the JIT compute it for every instruction.
inline int64_t branch_target(std::span<const Insn> program, size_t pc) {
    const Insn& insn = program[pc];
    return static_cast<int64_t>(pc) + 1 + (target_in_imm(insn.opcode) ? insn.imm : insn.off);
}

// ---- Assembler -------------------------------------------------------------------------------

// Assembles the conformance suite's syntax: one instruction per line, `%rN` registers,
// `[%rN+off]` memory operands, labels (`name:`), `+N`/`-N` relative offsets, `#` comments.
// Errors name the line and the problem ("line 4: unknown mnemonic 'ad'").
Result<std::vector<Insn>> assemble(std::string_view text);

// ---- Disassembler ----------------------------------------------------------------------------

enum class Syntax {
    Kernel,       // as bpftool and llvm-objdump print: r0 = *(u32 *)(r1 + 4)
    Conformance,  // the assembler's syntax: ldxw %r0, [%r1+4]; assembles back to the same bytes
};

struct DisasmOptions {
    Syntax syntax = Syntax::Kernel;
    // Print "Ln:" lines before jump targets and name targets in jumps ("goto +3 <L2>").
    bool labels = true;
    // Prefix each line with its slot index ("   4: ").
    bool indices = false;
    // Names a map referenced by an lddw pseudo instruction ("map[id:3]"); when empty the raw
    // source is printed ("map[fd:3]", "map[idx:0]").
    std::function<std::string(const Insn& lddw)> map_name;
    // Names a helper ("bpf_map_lookup_elem"); when empty, Linux's helper names are used.
    std::function<std::string(int32_t id)> helper_name;
    // Lines printed before an instruction (after its label), such as the source line it came
    // from; each is printed as given, followed by a newline. Empty: nothing.
    std::function<std::vector<std::string>(size_t pc)> annotations;
};

// One instruction (an lddw at `pc` uses the slot after it) without label lines or index.
std::string disassemble_insn(std::span<const Insn> program, size_t pc,
                             const DisasmOptions& options = {});

// The whole program, one instruction per line, with labels per the options.
std::string disassemble(std::span<const Insn> program, const DisasmOptions& options = {});

// Jump and call targets that get labels, as slot index -> label number (L0, L1, ... in
// program order).
std::vector<std::pair<size_t, int>> branch_labels(std::span<const Insn> program);

// Linux's name for a helper id ("bpf_map_lookup_elem"), or an empty view for an unknown id.
std::string_view linux_helper_name(int32_t id);

}  // namespace xbpf
