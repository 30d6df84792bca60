// xbpf test-run: run a program on given input as BPF_PROG_RUN does, and print what it returned.
//
// Objects (.o): the program is verified, then run with Linux's test-run semantics for its type
// (packet in --data-in, context in --ctx-in). Raw programs (instruction bytes or assembly) have
// no program type to verify against: they run only with --unverified, in the checked
// interpreter, with r1 = the data and r2 = its length.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "object_args.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/test_run.hpp"

namespace xbpf::cli {
namespace {

struct Args {
    std::string input;
    std::string data_in, data_hex, data_out;
    std::string ctx_in, ctx_hex, ctx_out;
    uint32_t repeat = 1;
    bool unverified = false;
    ObjectArgs object;
    OutputFlags out;
};

// The bytes of --X-in FILE or --X-hex HEX (at most one of them).
Result<std::vector<uint8_t>> input_bytes(const std::string& file, const std::string& hex,
                                         const char* name) {
    if (!file.empty() && !hex.empty())
        return Error(fmt::format("give --{0}-in or --{0}-hex, not both", name));
    if (!file.empty()) return read_file(file);
    if (!hex.empty()) {
        auto bytes = parse_hex(hex);
        if (!bytes) return std::move(bytes).error().in(fmt::format("--{}-hex", name));
        return bytes;
    }
    return std::vector<uint8_t>{};
}

int run_object(const Args& args) {
    auto data = input_bytes(args.data_in, args.data_hex, "data");
    if (!data) return report(data.error());
    auto ctx = input_bytes(args.ctx_in, args.ctx_hex, "ctx");
    if (!ctx) return report(ctx.error());
    auto loaded = args.object.load(args.input);
    if (!loaded) return report(loaded.error());
    const Program& program = *loaded->program;
    TestRunOptions options;
    options.data_in = *data;
    options.ctx_in = *ctx;
    options.repeat = args.repeat;
    const auto globals = program.global_data_regions();
    options.extra_regions = globals;
    auto result = test_run(program.executable(), program.type(), options);
    if (!result)
        return report(std::move(result).error().in(fmt::format("program '{}'", program.name())));
    if (!args.data_out.empty()) {
        if (auto s = write_file(args.data_out, result->data_out); !s) return report(s.error());
    }
    if (!args.ctx_out.empty()) {
        if (auto s = write_file(args.ctx_out, result->ctx_out); !s) return report(s.error());
    }
    if (auto s = args.object.dump_maps(*loaded->object); !s) return report(s.error());
    if (args.out.wants_json()) {
        nlohmann::json doc = {{"program", program.name()},
                              {"type", program.type().name},
                              {"retval", result->retval},
                              {"duration_ns", result->duration_ns},
                              {"repeat", args.repeat},
                              {"data_out", to_hex(result->data_out)},
                              {"ctx_out", to_hex(result->ctx_out)},
                              {"maps", maps_json(*loaded->object)}};
        if (result->redirected) doc["redirect_ifindex"] = result->redirect_ifindex;
        args.out.print(doc);
        return kExitOk;
    }
    std::cout << fmt::format("retval: {} ({:#x})\nduration: {} ns\n", result->retval,
                             result->retval, result->duration_ns);
    if (args.data_out.empty() && !result->data_out.empty())
        std::cout << "data_out: " << to_hex(result->data_out) << '\n';
    if (args.ctx_out.empty() && !result->ctx_out.empty())
        std::cout << "ctx_out: " << to_hex(result->ctx_out) << '\n';
    if (result->redirected)
        std::cout << fmt::format("redirected to ifindex {}\n", result->redirect_ifindex);
    return kExitOk;
}

int run_raw(const Args& args) {
    if (!args.unverified) {
        return report(Error(
            "raw programs have no program type to verify against: pass --unverified to run them "
            "in the checked interpreter"));
    }
    auto program = read_raw_program(args.input);
    if (!program) return report(program.error());
    auto data = input_bytes(args.data_in, args.data_hex, "data");
    if (!data) return report(data.error());

    HelperTable helpers;
    PrepareOptions options;
    options.checked = true;
    auto exe = prepare_interpreter(*program, helpers, options);
    if (!exe) return report(std::move(exe).error().in(args.input));

    std::vector<uint8_t>& working = *data;
    MemoryRegion region{reinterpret_cast<uintptr_t>(working.data()), working.size(), true, "data"};
    RunOptions run_options;
    run_options.regions = std::span(&region, working.empty() ? 0 : 1);
    uint64_t r0 = 0;
    const auto start = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < args.repeat; ++i) {
        RunContext ctx;
        const uint64_t regs[2] = {reinterpret_cast<uintptr_t>(working.data()), working.size()};
        r0 = (*exe)->run(ctx, regs, run_options);
        if (ctx.fault) {
            return report(Error(ctx.fault->message, ErrorKind::Fault)
                              .in(fmt::format("instruction {}", ctx.fault->pc))
                              .in(args.input));
        }
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count() / args.repeat;
    if (!args.data_out.empty()) {
        if (auto s = write_file(args.data_out, working); !s) return report(s.error());
    }
    if (args.out.wants_json()) {
        args.out.print({{"retval", r0},
                        {"duration_ns", ns},
                        {"repeat", args.repeat},
                        {"data_out", to_hex(working)}});
    } else {
        std::cout << fmt::format("retval: {} ({:#x})\nduration: {} ns\n", r0, r0, ns);
        if (!working.empty() && args.data_out.empty())
            std::cout << "data_out: " << to_hex(working) << '\n';
    }
    return kExitOk;
}

Command add_test_run(CLI::App& app) {
    auto args = std::make_shared<Args>();
    CLI::App* sub = app.add_subcommand("test-run",
                                       "Run a program once (or --repeat times) on given input, as "
                                       "BPF_PROG_RUN does, and print its return value");
    sub->add_option("FILE", args->input,
                    "eBPF object (.o), or a raw program (instruction bytes, or assembly .s)")
        ->required();
    sub->add_option("--data-in", args->data_in, "Packet (or data) to run on, from a file");
    sub->add_option("--data-hex", args->data_hex, "The same, given as hex");
    sub->add_option("--data-out", args->data_out, "Write the packet after the run to this file");
    sub->add_option("--ctx-in", args->ctx_in,
                    "Context struct to run with (e.g. a struct __sk_buff), from a file");
    sub->add_option("--ctx-hex", args->ctx_hex, "The same, given as hex");
    sub->add_option("--ctx-out", args->ctx_out, "Write the context after the run to this file");
    sub->add_option("--repeat", args->repeat, "Run this many times; duration is the mean")
        ->check(CLI::PositiveNumber);
    sub->add_flag(
        "--unverified", args->unverified,
        "Raw programs only: run without verification, in the checked interpreter (every access is "
        "bounds-checked and the run is stopped on a fault)");
    args->object.add_to(*sub);
    args->out.add_to(*sub);
    return {sub, [args]() -> int {
                if (auto readable = read_file(args->input); !readable)
                    return report(readable.error());
                return is_elf_file(args->input) ? run_object(*args) : run_raw(*args);
            }};
}

}  // namespace

XBPF_REGISTER_COMMAND("test-run", add_test_run);

}  // namespace xbpf::cli
