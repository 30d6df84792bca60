// Invocation overhead of an empty XDP program (r0 = XDP_PASS; exit): through test_run() with
// repeat, as BPF_PROG_RUN measures it, and through Executable::run() directly, as a hook
// calls it. Target: <= 5 ns per run (ebpf-for-windows measures 35 ns).
#include <benchmark/benchmark.h>
#include <linux/bpf.h>

#include <vector>

#include "xbpf/helpers.hpp"
#include "xbpf/test_run.hpp"

namespace {

using namespace xbpf;

const std::vector<Insn> kEmptyXdp = {make::mov64_imm(0, XDP_PASS), make::exit()};
constexpr uint32_t kRepeat = 100'000;

std::unique_ptr<Executable> prepare(EngineKind engine) {
    const auto& helpers = HelperCatalog::linux_helpers().table();
    auto exe = engine == EngineKind::Jit ? prepare_jit(kEmptyXdp, helpers)
                                         : prepare_interpreter(kEmptyXdp, helpers);
    return exe ? std::move(*exe) : nullptr;
}

void test_run_repeat(benchmark::State& state, EngineKind engine) {
    auto exe = prepare(engine);
    if (!exe) {
        state.SkipWithError("engine not available");
        return;
    }
    const auto& xdp = *ProgramTypeRegistry::global().find("xdp");
    std::vector<uint8_t> frame(64, 0);
    TestRunOptions options;
    options.data_in = frame;
    options.repeat = kRepeat;
    uint64_t total_ns = 0;
    for (auto _ : state) {
        auto result = test_run(*exe, xdp, options);
        benchmark::DoNotOptimize(result);
        total_ns += result->duration_ns;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kRepeat);
    // What BPF_PROG_RUN reports as duration: mean ns per run.
    state.counters["duration_ns"] =
        static_cast<double>(total_ns) / static_cast<double>(state.iterations());
}

void direct_run(benchmark::State& state, EngineKind engine) {
    auto exe = prepare(engine);
    if (!exe) {
        state.SkipWithError("engine not available");
        return;
    }
    RunContext ctx;
    uint64_t context[8] = {};
    const uint64_t args[1] = {reinterpret_cast<uintptr_t>(context)};
    for (auto _ : state)
        benchmark::DoNotOptimize(exe->run(ctx, args));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK_CAPTURE(test_run_repeat, interpreter, EngineKind::Interpreter);
BENCHMARK_CAPTURE(test_run_repeat, jit, EngineKind::Jit);
BENCHMARK_CAPTURE(direct_run, interpreter, EngineKind::Interpreter);
BENCHMARK_CAPTURE(direct_run, jit, EngineKind::Jit);

}  // namespace

BENCHMARK_MAIN();
