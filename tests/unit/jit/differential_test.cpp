// Differential testing: random valid programs (program_generator.hpp) run in the interpreter
// and the JIT (plain and with constant blinding) must leave the same r0 and the same memory
// (buffer, stack). Where bpf(2) is allowed, the Linux kernel runs them too as a third engine.
//
// The bounded tests run a fixed set of seeds (a few seconds). The campaign runs for
// XBPF_DIFFERENTIAL_SECONDS seconds from a random seed (scripts/differential.sh), with the
// kernel when XBPF_DIFFERENTIAL_KERNEL=1.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>

#include "differential_harness.hpp"
#include "kernel_engine.hpp"
#include "program_generator.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::test {
namespace {

struct Tally {
    uint64_t programs = 0;
    uint64_t instructions = 0;
    uint64_t mismatches = 0;
    uint64_t kernel_runs = 0;
    uint64_t kernel_rejected = 0;
    uint64_t kernel_mismatches = 0;
    std::string first_rejection;

    std::string summary() const {
        std::string s = fmt::format("{} programs ({} instructions): {} mismatches", programs,
                                    instructions, mismatches);
        if (kernel_runs + kernel_rejected > 0) {
            s += fmt::format("; kernel: {} run, {} rejected by its verifier, {} mismatches",
                             kernel_runs, kernel_rejected, kernel_mismatches);
        }
        return s;
    }
};

void report_mismatch(uint64_t seed, const std::vector<Insn>& program, const std::string& what,
                     const std::string& problem) {
    DisasmOptions options;
    options.indices = true;
    ADD_FAILURE() << "seed " << seed << ": " << what << " disagree: " << problem << "\n"
                  << disassemble(program, options);
}

// One program, every engine; counts into `tally`.
void check_seed(uint64_t seed, bool with_kernel, Tally& tally) {
    static const HelperTable helpers = differential_helpers();
    Choices choices(seed);
    GeneratorOptions options;
    options.kernel_compatible = with_kernel;
    GeneratedProgram g = ProgramGenerator(choices, options).generate();
    ++tally.programs;
    tally.instructions += g.program.size();

    // The oracle is the checked interpreter: it also proves the program stays in bounds.
    PrepareOptions checked;
    checked.checked = true;
    auto interp = prepare_interpreter(g.program, helpers, checked);
    ASSERT_TRUE(interp.ok()) << "seed " << seed << ": " << interp.error().to_string();
    PrepareOptions jit_options;
    jit_options.blind_constants = seed % 4 == 0;
    auto jit = prepare_jit(g.program, helpers, jit_options);
    ASSERT_TRUE(jit.ok()) << "seed " << seed << ": " << jit.error().to_string();

    const EngineRun expected = run_generated(**interp, g.memory);
    const EngineRun actual = run_generated(**jit, g.memory);
    if (const std::string problem = compare_runs(expected, actual); !problem.empty()) {
        ++tally.mismatches;
        report_mismatch(
            seed, g.program,
            jit_options.blind_constants ? "interpreter and blinded JIT" : "interpreter and JIT",
            problem);
        return;
    }
    if (!with_kernel) return;
    const KernelEngine::Run k = KernelEngine::run(g.kernel, g.memory);
    if (!k.loaded) {
        if (tally.first_rejection.empty())
            tally.first_rejection = fmt::format("seed {}: {}", seed, k.log);
        ++tally.kernel_rejected;
        return;
    }
    ++tally.kernel_runs;
    EngineRun kernel_run;
    kernel_run.memory = k.memory;
    // The kernel's variant returns XDP_PASS; its r0 is compared through the memory dump.
    if (const std::string problem = compare_runs(actual, kernel_run, /*compare_r0=*/false);
        !problem.empty()) {
        ++tally.kernel_mismatches;
        report_mismatch(seed, g.kernel, "JIT and Linux", problem);
    }
}

TEST(JitDifferential, GeneratedProgramsAgree) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    Tally tally;
    for (uint64_t seed = 1; seed <= 20000 && tally.mismatches < 5; ++seed)
        check_seed(seed, false, tally);
    std::cout << "interpreter vs JIT: " << tally.summary() << "\n";
    EXPECT_EQ(tally.mismatches, 0u);
}

TEST(JitDifferential, LinuxAgreesWhereAvailable) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    std::string why;
    if (!KernelEngine::available(&why)) GTEST_SKIP() << why;
    Tally tally;
    for (uint64_t seed = 1; seed <= 2000 && tally.mismatches + tally.kernel_mismatches < 5; ++seed)
        check_seed(seed, true, tally);
    std::cout << "interpreter vs JIT vs Linux: " << tally.summary() << "\n";
    if (!tally.first_rejection.empty())
        std::cout << "first program Linux rejected: " << tally.first_rejection << "\n";
    EXPECT_EQ(tally.mismatches, 0u);
    EXPECT_EQ(tally.kernel_mismatches, 0u);
    // The generator aims at what the kernel's verifier accepts; most programs must run there.
    EXPECT_GT(tally.kernel_runs, tally.kernel_rejected * 4);
}

// The long campaign: XBPF_DIFFERENTIAL_SECONDS=N [XBPF_DIFFERENTIAL_KERNEL=1]
// [XBPF_DIFFERENTIAL_SEED=S] jit_tests --gtest_filter=JitDifferential.Campaign
TEST(JitDifferential, Campaign) {
    const char* seconds_text = std::getenv("XBPF_DIFFERENTIAL_SECONDS");
    if (seconds_text == nullptr)
        GTEST_SKIP() << "set XBPF_DIFFERENTIAL_SECONDS to run the campaign";
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    const double seconds = std::atof(seconds_text);
    const char* kernel_text = std::getenv("XBPF_DIFFERENTIAL_KERNEL");
    bool with_kernel = kernel_text != nullptr && std::string(kernel_text) == "1";
    std::string why;
    if (with_kernel && !KernelEngine::available(&why)) {
        std::cout << "kernel engine unavailable, continuing without it: " << why << "\n";
        with_kernel = false;
    }
    const char* seed_text = std::getenv("XBPF_DIFFERENTIAL_SEED");
    const uint64_t first = seed_text != nullptr ? std::strtoull(seed_text, nullptr, 0)
                                                : std::random_device{}() * 1000003ull;
    std::cout << "campaign: " << seconds << " s from seed " << first
              << (with_kernel ? ", with the Linux kernel" : "") << "\n";
    Tally tally;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (uint64_t seed = first; std::chrono::steady_clock::now() < deadline; ++seed) {
        check_seed(seed, with_kernel, tally);
        if (tally.mismatches + tally.kernel_mismatches >= 10) break;
        if (tally.programs % 100000 == 0) std::cout << "  " << tally.summary() << "\n";
    }
    std::cout << "campaign: " << tally.summary() << "\n";
    if (!tally.first_rejection.empty())
        std::cout << "first program Linux rejected: " << tally.first_rejection << "\n";
    EXPECT_EQ(tally.mismatches, 0u);
    EXPECT_EQ(tally.kernel_mismatches, 0u);
}

}  // namespace
}  // namespace xbpf::test
