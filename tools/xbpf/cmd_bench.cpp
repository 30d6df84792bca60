// xbpf bench: the compute benchmark's runner protocol (../shared/bench/README.md).
//
//   xbpf bench [--engine jit|interp] [--reps R] PROGRAM INPUT ITERATIONS
// The default engine is the JIT where the host has one, the interpreter otherwise.
//   -> result=0x<16 hex> iterations=<N> reps=<R> best_ns=<f> median_ns=<f>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "cli.hpp"
#include "xbpf/engine.hpp"

namespace xbpf::cli {

namespace {

Command add_bench(CLI::App& app) {
    struct Args {
        std::string engine = jit_available() ? "jit" : "interp";
        int reps = 5;
        std::string program;
        std::string input;
        uint64_t iterations = 0;
    };
    auto args = std::make_shared<Args>();
    CLI::App* sub = app.add_subcommand(
        "bench", "Time a raw program over an input image (bench runner protocol)");
    sub->add_option("--engine", args->engine, "Engine to run on (default: jit where available)")
        ->check(CLI::IsMember({"jit", "interp"}));
    sub->add_option("--reps", args->reps, "Timed repetitions")->check(CLI::PositiveNumber);
    sub->add_option("PROGRAM", args->program, "Flat instruction stream (.bin), entry at slot 0")
        ->required();
    sub->add_option("INPUT", args->input,
                    "Memory image; the program gets r1 = a private copy, r2 = its length")
        ->required();
    sub->add_option("ITERATIONS", args->iterations, "Timed executions per repetition")
        ->required()
        ->check(CLI::PositiveNumber);

    return {
        sub, [args]() -> int {
            // The runner protocol asks for exit 1 on every failure.
            auto program = read_raw_program(args->program);
            if (!program) return report(program.error(), kExitFailed);
            auto input = read_file(args->input);
            if (!input) return report(input.error(), kExitFailed);

            HelperTable helpers;
            auto exe = args->engine == "jit" ? prepare_jit(*program, helpers, {})
                                             : prepare_interpreter(*program, helpers, {});
            if (!exe) return report(std::move(exe).error().in(args->program), kExitFailed);

            std::vector<uint8_t> memory = *input;
            const uint64_t regs[2] = {reinterpret_cast<uintptr_t>(memory.data()), memory.size()};
            RunContext ctx;
            const uint64_t result = (*exe)->run(ctx, regs);
            if (ctx.fault) return report(Error(ctx.fault->message).in(args->program), kExitFailed);

            std::vector<double> samples;
            for (int rep = 0; rep < args->reps; ++rep) {
                const auto start = std::chrono::steady_clock::now();
                for (uint64_t i = 0; i < args->iterations; ++i) {
                    uint64_t v = (*exe)->run(ctx, regs);
                    asm volatile("" : : "r"(v) : "memory");
                }
                const std::chrono::duration<double, std::nano> elapsed =
                    std::chrono::steady_clock::now() - start;
                samples.push_back(elapsed.count() / static_cast<double>(args->iterations));
            }
            std::sort(samples.begin(), samples.end());
            const size_t n = samples.size();
            const double median =
                n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
            std::cout << fmt::format(
                "result=0x{:016x} iterations={} reps={} best_ns={:.1f} median_ns={:.1f}\n", result,
                args->iterations, args->reps, samples.front(), median);
            return kExitOk;
        }};
}

}  // namespace

XBPF_REGISTER_COMMAND("bench", add_bench);

}  // namespace xbpf::cli
