// JIT compile time (target: <= 50 us per 1,000 instructions) and the cost of one invocation of
// an empty program, for the JIT and the interpreter.
//
//   build/bench/jit_compile [--benchmark_filter=...]
//
// Programs: the differential tests' random generator (a realistic mix: ALU, memory, branches,
// loops, calls), scaled to about 1,000 instructions, and the compute benchmark's workloads when
// ../shared/bench has been built (scripts/bench-compute.sh).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "../tests/unit/jit/program_generator.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/object.hpp"

namespace {

using namespace xbpf;

// The differential tests' generator with seed `seed`, aiming at about `size` instructions (the
// stack set-up and dumps make a program larger than its body budget).
std::vector<Insn> generate(uint64_t seed, size_t size) {
    test::Choices choices(seed);
    test::GeneratorOptions options;
    options.body_budget = std::max(20, static_cast<int>(size) * 2 / 5);
    return test::ProgramGenerator(choices, options).generate().program;
}

// A generated program of about `size` instructions: the closest of a few seeds
// (deterministic).
std::vector<Insn> generated_program(size_t size) {
    std::vector<Insn> best;
    const auto distance = [size](size_t n) { return n > size ? n - size : size - n; };
    for (uint64_t seed = 1; seed <= 200; ++seed) {
        auto program = generate(seed, size);
        if (best.empty() || distance(program.size()) < distance(best.size()))
            best = std::move(program);
    }
    return best;
}

// `count` distinct generated programs of about `size` instructions each (deterministic).
std::vector<std::vector<Insn>> generated_programs(size_t size, size_t count) {
    std::vector<std::vector<Insn>> programs;
    for (uint64_t seed = 1; programs.size() < count && seed <= 100 * count; ++seed) {
        auto program = generate(seed, size);
        if (program.size() * 10 >= size * 8 && program.size() * 10 <= size * 12)
            programs.push_back(std::move(program));
    }
    return programs;
}

// Times preparation only: the executables are freed outside the timed region, in batches
// (freeing JIT code is an munmap, a cost of unloading, not of compiling).
void prepare(benchmark::State& state, bool jit, const std::vector<Insn>& program) {
    static const HelperTable helpers = test::differential_helpers();
    std::vector<std::unique_ptr<Executable>> batch;
    batch.reserve(64);
    for (auto _ : state) {
        auto exe = jit ? prepare_jit(program, helpers) : prepare_interpreter(program, helpers);
        if (!exe) {
            state.SkipWithError(exe.error().to_string().c_str());
            return;
        }
        batch.push_back(std::move(*exe));
        if (batch.size() == 64) {
            state.PauseTiming();
            batch.clear();
            state.ResumeTiming();
        }
    }
    state.counters["insns"] = static_cast<double>(program.size());
    // Time per 1,000 instructions, the unit of the target.
    state.counters["per_1k_insns"] = benchmark::Counter(
        static_cast<double>(state.iterations()) * static_cast<double>(program.size()) / 1000.0,
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_PrepareJitGenerated(benchmark::State& state) {
    static const auto program = generated_program(static_cast<size_t>(state.range(0)));
    prepare(state, true, program);
}
BENCHMARK(BM_PrepareJitGenerated)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_PrepareJitGenerated10k(benchmark::State& state) {
    static const auto program = generated_program(10000);
    prepare(state, true, program);
}
BENCHMARK(BM_PrepareJitGenerated10k)->Unit(benchmark::kMicrosecond);

// Distinct programs in turn: a compiler meets each program once, while repeating one program
// lets the CPU's branch predictors learn its instruction sequence and flatters the figure.
void BM_PrepareJitGeneratedDistinct(benchmark::State& state) {
    static const HelperTable helpers = test::differential_helpers();
    static const auto programs = generated_programs(1000, 64);
    std::vector<std::unique_ptr<Executable>> batch;
    batch.reserve(programs.size());
    size_t next = 0, insns = 0;
    for (auto _ : state) {
        const auto& program = programs[next];
        auto exe = prepare_jit(program, helpers);
        if (!exe) {
            state.SkipWithError(exe.error().to_string().c_str());
            return;
        }
        insns += program.size();
        batch.push_back(std::move(*exe));
        if (++next == programs.size()) {
            next = 0;
            state.PauseTiming();
            batch.clear();
            state.ResumeTiming();
        }
    }
    state.counters["programs"] = static_cast<double>(programs.size());
    state.counters["per_1k_insns"] =
        benchmark::Counter(static_cast<double>(insns) / 1000.0,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PrepareJitGeneratedDistinct)->Unit(benchmark::kMicrosecond);

void BM_PrepareInterpreterGenerated(benchmark::State& state) {
    static const auto program = generated_program(1000);
    prepare(state, false, program);
}
BENCHMARK(BM_PrepareInterpreterGenerated)->Unit(benchmark::kMicrosecond);

// The compute benchmark's programs, when scripts/bench-compute.sh has built them (in
// build/bench-compute of the source tree, or $XBPF_BENCH_COMPUTE_DIR).
std::filesystem::path workload_dir() {
    if (const char* dir = std::getenv("XBPF_BENCH_COMPUTE_DIR")) return dir;
    return std::filesystem::path(__FILE__).parent_path().parent_path() / "build/bench-compute";
}

void BM_PrepareJitWorkload(benchmark::State& state, const char* name) {
    const std::filesystem::path path = workload_dir() / "build/bpf" / (std::string(name) + ".bin");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        state.SkipWithError(("not built: " + path.string()).c_str());
        return;
    }
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    auto program = decode(bytes);
    if (!program) {
        state.SkipWithError(program.error().to_string().c_str());
        return;
    }
    prepare(state, true, *program);
}
BENCHMARK_CAPTURE(BM_PrepareJitWorkload, parse, "parse")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PrepareJitWorkload, sieve, "sieve")->Unit(benchmark::kMicrosecond);

// Real programs: every program of the objects in ../shared/corpus (or $XBPF_SHARED_DIR/corpus)
// as the loader relocates them, subprograms appended; lddw of maps resolve to a dummy address
// (their values do not change the work). Only compiled, never run: the verifier's verdict does
// not matter here. Programs the JIT refuses (kfunc calls) are left out.
PrepareOptions corpus_prepare_options() {
    PrepareOptions options;
    options.resolve_lddw = [](const Insn&, const Insn&) -> Result<uint64_t> { return 0x10000; };
    return options;
}

std::vector<std::vector<Insn>> corpus_programs() {
    const char* shared = std::getenv("XBPF_SHARED_DIR");
    const std::filesystem::path root =
        shared != nullptr
            ? std::filesystem::path(shared)
            : std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "shared";
    const HelperTable& helpers = HelperCatalog::linux_helpers().table();
    std::vector<std::vector<Insn>> programs;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(root / "corpus", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->path().extension() != ".o" ||
            it->path().string().find("/invalid/") != std::string::npos)
            continue;
        auto object = load_object_file(it->path());
        if (!object) continue;
        for (const ProgramSpec& program : object->programs) {
            if (program.kind != ProgramKind::Entry) continue;
            if (prepare_jit(program.insns, helpers, corpus_prepare_options()))
                programs.push_back(program.insns);
        }
    }
    return programs;
}

// One iteration compiles every corpus program once. Besides the time per 1,000 instructions,
// reports a least-squares fit of each program's median time against its size: a fixed cost
// per program (fit_fixed_us: the mprotect that seals the code, tables, allocations) plus a cost
// per 1,000 instructions (fit_per_1k_us). Real programs are small (a median of a few dozen
// instructions), so the fixed cost dominates their average.
void BM_PrepareJitCorpus(benchmark::State& state) {
    static const auto programs = corpus_programs();
    if (programs.empty()) {
        state.SkipWithError("../shared/corpus not found or nothing in it loads");
        return;
    }
    static const HelperTable& helpers = HelperCatalog::linux_helpers().table();
    const PrepareOptions options = corpus_prepare_options();
    std::vector<std::vector<double>> times(programs.size());
    std::vector<std::unique_ptr<Executable>> batch;
    batch.reserve(programs.size());
    size_t total = 0;
    for (const auto& program : programs)
        total += program.size();
    for (auto _ : state) {
        for (size_t i = 0; i < programs.size(); ++i) {
            const auto start = std::chrono::steady_clock::now();
            auto exe = prepare_jit(programs[i], helpers, options);
            times[i].push_back(
                std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                    .count());
            if (!exe) {
                state.SkipWithError(exe.error().to_string().c_str());
                return;
            }
            batch.push_back(std::move(*exe));
        }
        state.PauseTiming();
        batch.clear();
        state.ResumeTiming();
    }
    // Least squares over (instructions, median microseconds).
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const auto n = static_cast<double>(programs.size());
    for (size_t i = 0; i < programs.size(); ++i) {
        auto& t = times[i];
        std::nth_element(t.begin(), t.begin() + static_cast<ptrdiff_t>(t.size() / 2), t.end());
        const double x = static_cast<double>(programs[i].size()), y = t[t.size() / 2];
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    state.counters["programs"] = n;
    state.counters["insns"] = static_cast<double>(total);
    state.counters["fit_fixed_us"] = (sy - slope * sx) / n;
    state.counters["fit_per_1k_us"] = slope * 1000;
    state.counters["per_1k_insns"] = benchmark::Counter(
        static_cast<double>(state.iterations()) * static_cast<double>(total) / 1000.0,
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PrepareJitCorpus)->Unit(benchmark::kMicrosecond);

// One run of `mov r0, 0; exit`: the engine's entry and exit path.
void run_empty(benchmark::State& state, bool jit) {
    const std::vector<Insn> program = {make::mov64_imm(0, 0), make::exit()};
    auto exe = jit ? prepare_jit(program, {}) : prepare_interpreter(program, {});
    if (!exe) {
        state.SkipWithError(exe.error().to_string().c_str());
        return;
    }
    RunContext ctx;
    const uint64_t args[1] = {0};
    for (auto _ : state)
        benchmark::DoNotOptimize((*exe)->run(ctx, args));
}
void BM_RunEmptyProgramJit(benchmark::State& state) {
    run_empty(state, true);
}
void BM_RunEmptyProgramInterpreter(benchmark::State& state) {
    run_empty(state, false);
}
BENCHMARK(BM_RunEmptyProgramJit);
BENCHMARK(BM_RunEmptyProgramInterpreter);

}  // namespace

BENCHMARK_MAIN();
