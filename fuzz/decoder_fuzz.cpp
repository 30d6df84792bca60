// Fuzzes the decoder, the validator and the disassembler on arbitrary bytes, and runs every
// structurally valid program in the checked interpreter (which must stop, never crash).
#include <cstddef>
#include <cstdint>
#include <span>

#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace {
uint64_t helper(uint64_t a, uint64_t, uint64_t, uint64_t, uint64_t, xbpf::RunContext&) {
    return a + 1;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto program = xbpf::decode(std::span(data, size));
    if (!program) return 0;
    for (size_t pc = 0; pc < program->size(); ++pc) {
        (void)xbpf::validate_insn(*program, pc);
        (void)xbpf::disassemble_insn(*program, pc);
    }
    (void)xbpf::disassemble(*program);
    if (!xbpf::validate_program(*program)) return 0;
    xbpf::HelperTable helpers;
    helpers.set(1, helper);
    helpers.set(5, helper);
    xbpf::PrepareOptions options;
    options.checked = true;
    options.instruction_budget = 10000;
    auto exe = xbpf::prepare_interpreter(*program, helpers, options);
    if (!exe) return 0;
    uint8_t memory[64] = {};
    xbpf::MemoryRegion region{reinterpret_cast<uintptr_t>(memory), sizeof memory, true, "memory"};
    xbpf::RunOptions run_options;
    run_options.regions = std::span(&region, 1);
    xbpf::RunContext ctx;
    const uint64_t args[2] = {reinterpret_cast<uintptr_t>(memory), sizeof memory};
    (void)(*exe)->run(ctx, args, run_options);
    return 0;
}
