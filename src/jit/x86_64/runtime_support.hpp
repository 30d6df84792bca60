// The C++ functions JIT code calls on its rare paths: continuing a tail call and recording a
// fault. Both follow the SysV calling convention, so generated code calls them directly.
#pragma once

#include <cstdint>

#include "xbpf/engine.hpp"

namespace xbpf::jit {

// What a fault stub reports (the `what` argument of record_fault): the kind in the low byte,
// for callx the eBPF register in the next byte.
enum FaultKind : uint32_t {
    kFaultCallDepth = 0,
    kFaultCallx = 1,
};

// A helper set ctx->tail_call: clears it and returns the address at which the target's code
// continues in the current frame, or 0 after recording a fault (the target is not a JIT program).
uint64_t take_tail_call(RunContext* ctx, uint32_t pc);

// Records a fault at `pc` with the interpreter's message.
void record_fault(RunContext* ctx, uint32_t pc, uint32_t what, uint64_t value);

}  // namespace xbpf::jit
