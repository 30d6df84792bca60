// xbpf disasm: print a program's instructions.
#include <iostream>

#include "cli.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::cli {

namespace {

Command add_disasm(CLI::App& app) {
    struct Args {
        std::string input;
        std::string syntax = "kernel";
        bool no_labels = false;
        bool indices = false;
        OutputFlags out;
    };
    auto args = std::make_shared<Args>();
    CLI::App* sub =
        app.add_subcommand("disasm", "Disassemble a program (raw instructions or assembly)");
    sub->add_option("FILE", args->input, "Program: raw instruction bytes, or assembly (.s)")
        ->required();
    sub->add_option("--syntax", args->syntax,
                    "kernel (as bpftool prints) or conformance (as xbpf asm reads)")
        ->check(CLI::IsMember({"kernel", "conformance"}));
    sub->add_flag("--no-labels", args->no_labels, "Do not label jump targets");
    sub->add_flag("--indices", args->indices, "Prefix each instruction with its index");
    args->out.add_to(*sub);

    return {sub, [args]() -> int {
                auto program = read_raw_program(args->input);
                if (!program) return report(program.error());
                DisasmOptions options;
                options.syntax = args->syntax == "kernel" ? Syntax::Kernel : Syntax::Conformance;
                options.labels = !args->no_labels;
                options.indices = args->indices;
                if (args->out.wants_json()) {
                    nlohmann::json insns = nlohmann::json::array();
                    for (size_t pc = 0; pc < program->size(); ++pc) {
                        insns.push_back(
                            {{"index", pc}, {"text", disassemble_insn(*program, pc, options)}});
                        if (is_lddw((*program)[pc])) ++pc;
                    }
                    args->out.print({{"instructions", insns}});
                } else {
                    std::cout << disassemble(*program, options);
                }
                return kExitOk;
            }};
}

}  // namespace

XBPF_REGISTER_COMMAND("disasm", add_disasm);

}  // namespace xbpf::cli
