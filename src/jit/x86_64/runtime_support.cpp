// Functions JIT code calls on rare paths (see runtime_support.hpp).
#include "jit/x86_64/runtime_support.hpp"

#include <fmt/format.h>

#include "jit/x86_64/jit_program.hpp"

namespace xbpf::jit {

uint64_t take_tail_call(RunContext* ctx, uint32_t pc) {
    const Executable* target = ctx->tail_call;
    ctx->tail_call = nullptr;
    if (target->engine() != EngineKind::Jit) {
        ctx->fault = Fault{pc, "tail call into a program prepared for another engine or mode"};
        return 0;
    }
    return static_cast<const JitProgram*>(target)->tail_entry();
}

void record_fault(RunContext* ctx, uint32_t pc, uint32_t what, uint64_t value) {
    // The interpreter's messages, word for word.
    switch (what & 0xff) {
        case kFaultCallDepth:
            ctx->fault = Fault{
                pc, fmt::format("bpf-to-bpf calls nest deeper than {} frames", kMaxCallDepth)};
            break;
        default:
            ctx->fault = Fault{
                pc, fmt::format("callx r{} = {:#x} is neither a function of the program nor a "
                                "helper id",
                                what >> 8, value)};
            break;
    }
}

}  // namespace xbpf::jit
