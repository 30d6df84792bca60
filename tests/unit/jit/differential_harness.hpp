// Runs a generated program (program_generator.hpp) on an engine and compares two runs: r0,
// faults and the whole memory block (buffer, dumped r0 and stack). Header-only: the fuzzer
// shares it.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "program_generator.hpp"
#include "xbpf/engine.hpp"

namespace xbpf::test {

struct EngineRun {
    uint64_t r0 = 0;
    std::optional<std::string> fault;
    std::vector<uint8_t> memory;
};

// Runs `exe` on a copy of `initial`. In the checked interpreter, accesses outside the memory
// block and the stack fault: a generated program that strays is a generator bug, caught here.
inline EngineRun run_generated(const Executable& exe, const std::vector<uint8_t>& initial) {
    EngineRun run;
    run.memory = initial;
    RunContext ctx;
    ctx.legacy_packet = run.memory.data();
    ctx.legacy_packet_len = kDataBytes;
    const uint64_t args[2] = {reinterpret_cast<uintptr_t>(run.memory.data()), run.memory.size()};
    const MemoryRegion region{reinterpret_cast<uintptr_t>(run.memory.data()), run.memory.size(),
                              true, "memory"};
    RunOptions options;
    options.regions = std::span(&region, 1);
    run.r0 = exe.run(ctx, args, options);
    if (ctx.fault) run.fault = fmt::format("{} at {}", ctx.fault->message, ctx.fault->pc);
    return run;
}

// Names a byte of the memory block.
inline std::string describe_offset(size_t i) {
    if (i < static_cast<size_t>(kDataBytes)) return fmt::format("buffer byte {}", i);
    if (i < static_cast<size_t>(kDumpOffset + 8)) return fmt::format("r0 byte {}", i - kDumpOffset);
    const size_t slot = (i - kDumpOffset - 8) / 8 + 1;
    return fmt::format("stack [r10-{}] byte {}", 8 * slot, (i - kDumpOffset - 8) % 8);
}

// An empty string when the runs agree, else the first difference.
inline std::string compare_runs(const EngineRun& a, const EngineRun& b, bool compare_r0 = true) {
    if (a.fault != b.fault)
        return fmt::format("fault: '{}' vs '{}'", a.fault.value_or("none"),
                           b.fault.value_or("none"));
    if (a.fault) return "";
    if (compare_r0 && a.r0 != b.r0) return fmt::format("r0: {:#x} vs {:#x}", a.r0, b.r0);
    for (size_t i = 0; i < a.memory.size() && i < b.memory.size(); ++i) {
        if (a.memory[i] != b.memory[i]) {
            return fmt::format("{}: {:#04x} vs {:#04x}", describe_offset(i), a.memory[i],
                               b.memory[i]);
        }
    }
    return "";
}

}  // namespace xbpf::test
