#include "runtime/test_run/run_loop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "xbpf/map.hpp"

namespace xbpf::test_run_detail {

Error linux_error(const char* errno_name, std::string message) {
    return Error(fmt::format("{}: {}", errno_name, message));
}

Result<std::vector<uint8_t>> context_from(std::span<const uint8_t> ctx_in, size_t size) {
    std::vector<uint8_t> ctx(size, 0);
    const size_t n = std::min(ctx_in.size(), size);
    std::copy_n(ctx_in.begin(), n, ctx.begin());
    if (std::any_of(ctx_in.begin() + static_cast<ptrdiff_t>(n), ctx_in.end(),
                    [](uint8_t b) { return b != 0; })) {
        return linux_error("E2BIG", fmt::format("ctx_in has {} bytes, more than the {}-byte "
                                                "context, and the extra bytes are not zero",
                                                ctx_in.size(), size));
    }
    return ctx;
}

Result<LoopResult> run_repeatedly(const Executable& program, helpers::RunEnvironment& env,
                                  void* context, std::span<const MemoryRegion> regions,
                                  const TestRunOptions& options, const uint8_t* legacy_packet,
                                  size_t legacy_packet_len) {
    const uint32_t repeat = options.repeat == 0 ? 1 : options.repeat;
    std::vector<MemoryRegion> all(regions.begin(), regions.end());
    all.insert(all.end(), options.extra_regions.begin(), options.extra_regions.end());
    MapReadGuard guard;
    RunContext ctx;
    ctx.host = &env;
    ctx.engine = program.engine();
    ctx.legacy_packet = legacy_packet;
    ctx.legacy_packet_len = legacy_packet_len;
    // Memory helpers hand out (map values, ring-buffer records) is recorded for checked runs;
    // the fast interpreter never looks, and the vector keeps its capacity across runs.
    std::vector<MemoryRegion> granted;
    if (program.checked()) ctx.dynamic_regions = &granted;
    RunOptions run_options;
    run_options.regions = all;
    const uint64_t args[1] = {reinterpret_cast<uintptr_t>(context)};
    LoopResult result;
    const auto start = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < repeat; ++i) {
        ctx.tail_calls_done = 0;
        granted.clear();
        result.retval = program.run(ctx, args, run_options);
        if (ctx.fault) {
            return Error(fmt::format("the program faulted at instruction {}: {}", ctx.fault->pc,
                                     ctx.fault->message),
                         ErrorKind::Fault);
        }
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
    result.duration_ns = static_cast<uint32_t>(static_cast<uint64_t>(ns) / repeat);
    return result;
}

}  // namespace xbpf::test_run_detail
