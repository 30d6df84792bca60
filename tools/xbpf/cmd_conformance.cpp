// xbpf conformance-plugin: the plugin protocol of the BPF conformance suite.
//
// The suite starts the plugin once per test: the input memory as the first non-empty argument
// (hex bytes), the program on stdin (hex bytes, or a hex-encoded ELF with --elf). The plugin
// prints r0 in hex and exits 0, or prints an error and exits non-zero. This is a debug path:
// programs run without the verifier, as the suite's programs have no program type.
#include <fmt/format.h>

#include <iostream>
#include <iterator>

#include "cli.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::cli {
namespace {

// The suite only needs `call 5` to reach a helper that returns a non-zero value.
uint64_t conformance_helper(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return 1;
}

Command add_conformance_plugin(CLI::App& app) {
    struct Args {
        std::string engine = jit_available() ? "jit" : "interp";
        bool elf = false;
        bool checked = false;
        std::vector<std::string> positional;
    };
    auto args = std::make_shared<Args>();
    CLI::App* sub = app.add_subcommand("conformance-plugin",
                                       "Run one conformance test (the suite's plugin protocol)");
    CLI::Option* engine =
        sub->add_option("--engine", args->engine, "Engine to run on (default: jit where available)")
            ->check(CLI::IsMember({"jit", "interp"}));
    sub->add_flag("--elf", args->elf,
                  "stdin holds a hex-encoded ELF object instead of instructions");
    sub->add_flag("--checked", args->checked,
                  "Run in the checked interpreter (implies --engine interp)");
    sub->add_option("MEMORY", args->positional,
                    "Input memory as hex bytes (empty arguments are ignored)");

    return {
        sub, [args, engine]() -> int {
            if (args->checked && engine->count() > 0 && args->engine == "jit")
                return report(Error("--checked runs in the interpreter; not with --engine jit"));
            std::string memory_hex;
            for (const auto& a : args->positional) {
                if (a.empty()) continue;
                if (!memory_hex.empty())
                    return report(Error("more than one memory argument"), kExitFailed);
                memory_hex = a;
            }
            auto memory = parse_hex(memory_hex);
            if (!memory)
                return report(std::move(memory).error().in("memory argument"), kExitFailed);
            const std::string input((std::istreambuf_iterator<char>(std::cin)),
                                    std::istreambuf_iterator<char>());
            auto bytes = parse_hex(input);
            if (!bytes) return report(std::move(bytes).error().in("program on stdin"), kExitFailed);
            if (args->elf)
                return report(Error("--elf needs the ELF loader, which is not built yet"),
                              kExitFailed);
            auto program = decode(*bytes);
            if (!program)
                return report(std::move(program).error().in("program on stdin"), kExitFailed);

            HelperTable helpers;
            helpers.set(5, conformance_helper);
            PrepareOptions options;
            options.checked = args->checked;
            // Checked mode exists only in the interpreter.
            const bool jit = args->engine == "jit" && !args->checked;
            auto exe = jit ? prepare_jit(*program, helpers, options)
                           : prepare_interpreter(*program, helpers, options);
            if (!exe) return report(exe.error(), kExitFailed);
            MemoryRegion region{reinterpret_cast<uintptr_t>(memory->data()), memory->size(), true,
                                "memory"};
            RunOptions run_options;
            run_options.regions = std::span(&region, 1);
            RunContext ctx;
            const uint64_t regs[2] = {reinterpret_cast<uintptr_t>(memory->data()), memory->size()};
            const uint64_t r0 = (*exe)->run(ctx, regs, run_options);
            if (ctx.fault) {
                return report(
                    Error(ctx.fault->message).in(fmt::format("instruction {}", ctx.fault->pc)),
                    kExitFailed);
            }
            std::cout << fmt::format("{:x}\n", r0);
            return kExitOk;
        }};
}

}  // namespace

XBPF_REGISTER_COMMAND("conformance-plugin", add_conformance_plugin);

}  // namespace xbpf::cli
