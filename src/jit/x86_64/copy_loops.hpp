// Copy loops: a counted loop whose body only steps induction variables and copies one element
// from a source to a destination address that both advance by the element size,
//
//     head: t = i; a = base + t; v = [a + s]; a += d; [a + s] = v; i += 8; if t < N goto head
//
// runs as one memmove when the copy is equivalent: destination at or below the source (a
// forward loop then reads every element before overwriting it) or not overlapping it at all.
// Otherwise, or when the loop is short, the loop runs as compiled. The registers the loop
// leaves behind (induction variables, temporaries, the last element copied) are set exactly as
// the loop would have left them.
//
// The analysis runs at compile time on the loop's instructions as affine functions of the
// registers at loop entry; run_copy_loop() decides at run time, when the addresses and the trip
// count are known.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "jit/x86_64/program_facts.hpp"
#include "xbpf/insn.hpp"

namespace xbpf::jit {

// constant + sum of coef[r] * r over r0..r10 at loop entry (wrapping 64-bit arithmetic).
struct Affine {
    int64_t coef[kRegisterCount] = {};
    int64_t constant = 0;
};

struct CopyLoop {
    uint8_t width = 0;  // bytes per element, 1..8
    Affine load;        // addresses in the first iteration
    Affine store;
    // The exit test `if value <op> limit goto head`, at the end of the body.
    Affine condition;
    int64_t condition_step = 0;  // how much the tested value grows per iteration (> 0)
    uint8_t condition_code = 0;  // op::JLT, op::JLE or op::JNE (unsigned, 64-bit)
    uint64_t limit = 0;
    // Registers the body writes: their value after the last iteration.
    struct Final {
        uint8_t reg = 0;
        bool loaded = false;  // the element copied last
        Affine first;         // value after the first iteration
        int64_t step = 0;     // growth per iteration
    };
    Final finals[kRegisterCount];
    uint8_t final_count = 0;
    size_t end = 0;  // slot of the backward jump; the loop exits to end + 1
};

// Below this many iterations a call to memmove does not pay; the loop runs as compiled.
inline constexpr uint64_t kMinCopyLoopIterations = 16;

// The copy loop starting at `head` (a loop head), if the loop there is one.
std::optional<CopyLoop> find_copy_loop(std::span<const Insn> program, const ProgramFacts& facts,
                                       size_t head);

// Called by generated code on loop entry with r0..r10 at [regs]: copies and updates regs and
// returns 1, or returns 0 to let the loop run (short, or overlapping the wrong way).
uint64_t run_copy_loop(uint64_t* regs, const CopyLoop* loop);

}  // namespace xbpf::jit
