// xbpf test-run: run a program once or N times on given input, as BPF_PROG_RUN does.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "cli.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::cli {

namespace {

Command add_test_run(CLI::App& app) {
    struct Args {
        std::string input;
        std::string data_in;
        std::string data_hex;
        std::string data_out;
        uint64_t repeat = 1;
        bool unverified = false;
        OutputFlags out;
    };
    auto args = std::make_shared<Args>();
    CLI::App* sub =
        app.add_subcommand("test-run", "Run a program on input data and print its return value");
    sub->add_option("FILE", args->input, "Program: raw instruction bytes or assembly (.s)")
        ->required();
    sub->add_option("--data-in", args->data_in,
                    "File whose bytes the program gets in r1 (length in r2)");
    sub->add_option("--data-hex", args->data_hex, "The same, given as hex");
    sub->add_option("--data-out", args->data_out, "Write the data after the run to this file");
    sub->add_option("--repeat", args->repeat, "Run this many times; duration is the mean")
        ->check(CLI::PositiveNumber);
    sub->add_flag(
        "--unverified", args->unverified,
        "Run a raw program without verification, in the checked interpreter (every access is "
        "bounds-checked and the run is stopped on a fault)");
    args->out.add_to(*sub);

    return {sub, [args]() -> int {
                if (!args->unverified) {
                    return report(Error(
                        "raw programs have no program type to verify against: pass --unverified to "
                        "run them in the checked interpreter"));
                }
                if (!args->data_in.empty() && !args->data_hex.empty()) {
                    return report(Error("give --data-in or --data-hex, not both"));
                }
                auto program = read_raw_program(args->input);
                if (!program) return report(program.error());
                std::vector<uint8_t> data;
                if (!args->data_in.empty()) {
                    auto bytes = read_file(args->data_in);
                    if (!bytes) return report(bytes.error());
                    data = std::move(*bytes);
                } else if (!args->data_hex.empty()) {
                    auto bytes = parse_hex(args->data_hex);
                    if (!bytes) return report(std::move(bytes).error().in("--data-hex"));
                    data = std::move(*bytes);
                }

                HelperTable helpers;
                PrepareOptions options;
                options.checked = true;
                auto exe = prepare_interpreter(*program, helpers, options);
                if (!exe) return report(std::move(exe).error().in(args->input));

                std::vector<uint8_t> working = data;
                MemoryRegion region{reinterpret_cast<uintptr_t>(working.data()), working.size(),
                                    true, "data"};
                RunOptions run_options;
                run_options.regions = std::span(&region, working.empty() ? 0 : 1);
                uint64_t r0 = 0;
                const auto start = std::chrono::steady_clock::now();
                for (uint64_t i = 0; i < args->repeat; ++i) {
                    RunContext ctx;
                    const uint64_t args_regs[2] = {reinterpret_cast<uintptr_t>(working.data()),
                                                   working.size()};
                    r0 = (*exe)->run(ctx, args_regs, run_options);
                    if (ctx.fault) {
                        return report(Error(ctx.fault->message)
                                          .in(fmt::format("instruction {}", ctx.fault->pc))
                                          .in(args->input),
                                      kExitFailed);
                    }
                }
                const auto elapsed = std::chrono::steady_clock::now() - start;
                const auto ns =
                    std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count() /
                    static_cast<int64_t>(args->repeat);
                if (!args->data_out.empty()) {
                    if (auto s = write_file(args->data_out, working); !s) return report(s.error());
                }
                if (args->out.wants_json()) {
                    args->out.print({{"retval", r0},
                                     {"duration_ns", ns},
                                     {"repeat", args->repeat},
                                     {"data_out", to_hex(working)}});
                } else {
                    std::cout << fmt::format("retval: {} ({:#x})\nduration: {} ns\n", r0, r0, ns);
                    if (!working.empty() && args->data_out.empty())
                        std::cout << "data_out: " << to_hex(working) << '\n';
                }
                return kExitOk;
            }};
}

}  // namespace

XBPF_REGISTER_COMMAND("test-run", add_test_run);

}  // namespace xbpf::cli
