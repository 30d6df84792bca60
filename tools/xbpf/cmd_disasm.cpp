// xbpf disasm: print a program's instructions: of an object's programs (with the source lines
// they came from, from BTF line info), or of a raw program.
#include <fmt/format.h>

#include <iostream>

#include "object_args.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/object.hpp"

namespace xbpf::cli {
namespace {

struct Args {
    std::string input;
    std::string section;
    std::string program;
    std::string syntax = "kernel";
    bool no_labels = false;
    bool indices = false;
    bool no_source = false;
    OutputFlags out;
};

DisasmOptions options_for(const Args& args) {
    DisasmOptions options;
    options.syntax = args.syntax == "kernel" ? Syntax::Kernel : Syntax::Conformance;
    options.labels = !args.no_labels;
    options.indices = args.indices;
    return options;
}

nlohmann::json instructions_json(std::span<const Insn> program, const DisasmOptions& options,
                                 const ProgramSpec* spec) {
    nlohmann::json insns = nlohmann::json::array();
    for (size_t pc = 0; pc < program.size(); ++pc) {
        nlohmann::json insn = {{"index", pc}, {"text", disassemble_insn(program, pc, options)}};
        if (spec != nullptr) {
            if (const LineInfo* line = spec->line_at(pc)) {
                insn["source"] = {
                    {"file", line->file}, {"line", line->line}, {"text", line->source}};
            }
        }
        insns.push_back(std::move(insn));
        if (is_lddw(program[pc])) ++pc;
    }
    return insns;
}

int disasm_object(const Args& args) {
    auto object = load_object_file(args.input);
    if (!object) return report(object.error());
    std::vector<const ProgramSpec*> selected;
    for (const auto& p : object->programs) {
        if (!args.section.empty() && p.section != args.section) continue;
        if (!args.program.empty() && p.name != args.program) continue;
        if (args.section.empty() && args.program.empty() && p.kind != ProgramKind::Entry) continue;
        selected.push_back(&p);
    }
    if (selected.empty())
        return report(Error("no program matches --section/--program").in(args.input));

    nlohmann::json programs = nlohmann::json::array();
    for (const ProgramSpec* spec : selected) {
        DisasmOptions options = options_for(args);
        options.map_name = [&object](const Insn& insn) -> std::string {
            const auto index = static_cast<size_t>(insn.imm);
            if ((insn.src != op::kImmMapByIdx && insn.src != op::kImmMapValueByIdx) ||
                index >= object->maps.size()) {
                return {};
            }
            return fmt::format("map[{}]", object->maps[index].name);
        };
        if (!args.no_source) {
            // A comment line whenever the instruction comes from a different source line.
            options.annotations =
                [spec, last = static_cast<const LineInfo*>(nullptr)](size_t pc) mutable {
                    std::vector<std::string> lines;
                    const LineInfo* line = spec->line_at(pc);
                    if (line != nullptr && line != last &&
                        (last == nullptr || line->line != last->line || line->file != last->file)) {
                        std::string_view text = line->source;
                        text.remove_prefix(std::min(text.find_first_not_of(" \t"), text.size()));
                        lines.push_back(fmt::format("; {} @ {}:{}", text, line->file, line->line));
                    }
                    last = line;
                    return lines;
                };
        }
        if (args.out.wants_json()) {
            programs.push_back({{"section", spec->section},
                                {"name", spec->name},
                                {"instructions", instructions_json(spec->insns, options, spec)}});
        } else {
            std::cout << fmt::format("{}{} ({}):\n",
                                     selected.size() > 1 && spec != selected.front() ? "\n" : "",
                                     spec->name, spec->section);
            std::cout << disassemble(spec->insns, options);
        }
    }
    if (args.out.wants_json()) args.out.print({{"programs", programs}});
    return kExitOk;
}

int disasm_raw(const Args& args) {
    auto program = read_raw_program(args.input);
    if (!program) return report(program.error());
    const DisasmOptions options = options_for(args);
    if (args.out.wants_json()) {
        args.out.print({{"instructions", instructions_json(*program, options, nullptr)}});
    } else {
        std::cout << disassemble(*program, options);
    }
    return kExitOk;
}

Command add_disasm(CLI::App& app) {
    auto args = std::make_shared<Args>();
    CLI::App* sub = app.add_subcommand(
        "disasm",
        "Disassemble the programs of an object (with their source lines), or a raw program");
    sub->add_option("FILE", args->input,
                    "eBPF object (.o), or a raw program (instruction bytes, or assembly .s)")
        ->required();
    sub->add_option("--section", args->section, "Objects: only the programs of this section");
    sub->add_option("--program", args->program, "Objects: only the program with this name");
    sub->add_option("--syntax", args->syntax,
                    "kernel (as bpftool prints) or conformance (as xbpf asm reads)")
        ->check(CLI::IsMember({"kernel", "conformance"}));
    sub->add_flag("--no-labels", args->no_labels, "Do not label jump targets");
    sub->add_flag("--no-source", args->no_source, "Objects: do not interleave the source lines");
    sub->add_flag("--indices", args->indices, "Prefix each instruction with its index");
    args->out.add_to(*sub);
    return {sub, [args]() -> int {
                if (auto readable = read_file(args->input); !readable)
                    return report(readable.error());
                return is_elf_file(args->input) ? disasm_object(*args) : disasm_raw(*args);
            }};
}

}  // namespace

XBPF_REGISTER_COMMAND("disasm", add_disasm);

}  // namespace xbpf::cli
