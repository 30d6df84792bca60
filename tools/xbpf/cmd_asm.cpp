// xbpf asm: assemble the conformance syntax into raw instructions.
#include <fmt/format.h>

#include <iostream>

#include "cli.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::cli {

namespace {

Command add_asm(CLI::App& app) {
    struct Args {
        std::string input;
        std::string output;
        bool hex = false;
        OutputFlags out;
    };
    auto args = std::make_shared<Args>();
    CLI::App* sub =
        app.add_subcommand("asm", "Assemble a program written in the conformance-suite syntax");
    sub->add_option("FILE", args->input, "Assembly source")->required();
    sub->add_option("-o,--output", args->output, "Write the instruction bytes here");
    sub->add_flag("--hex", args->hex, "Print the bytes as hex on stdout");
    args->out.add_to(*sub);
    sub->footer("Example: xbpf asm examples/asm/checksum.s -o checksum.bin");

    return {sub, [args]() -> int {
                auto bytes = read_file(args->input);
                if (!bytes) return report(bytes.error());
                auto program = assemble(
                    std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
                if (!program) return report(std::move(program).error().in(args->input));
                // Structural validation: the assembler writes what it is told; say if it is not a
                // runnable program.
                auto status = validate_program(*program);
                const auto encoded = encode(*program);
                if (!args->output.empty()) {
                    if (auto s = write_file(args->output, encoded); !s) return report(s.error());
                }
                if (args->out.wants_json()) {
                    nlohmann::json doc = {{"instructions", program->size()},
                                          {"bytes", to_hex(encoded)},
                                          {"valid", status.ok()}};
                    if (!status) doc["error"] = status.error().to_string();
                    args->out.print(doc);
                } else {
                    if (args->hex) std::cout << to_hex(encoded) << '\n';
                    if (!args->output.empty()) {
                        std::cerr << fmt::format("{}: {} instructions -> {}\n", args->input,
                                                 program->size(), args->output);
                    }
                    if (!status)
                        std::cerr << "xbpf: warning: " << args->input << ": "
                                  << status.error().to_string() << '\n';
                }
                return status ? kExitOk : kExitFailed;
            }};
}

}  // namespace

XBPF_REGISTER_COMMAND("asm", add_asm);

}  // namespace xbpf::cli
