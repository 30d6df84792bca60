// xbpf verify: run the verifier on the programs of an object (or of every object in a
// directory, with a per-folder report), as loading would.
#include <sys/resource.h>

#include <fmt/format.h>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/linux_names.hpp"
#include "xbpf/object.hpp"
#include "xbpf/program_type.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf::cli {

namespace {

struct VerifyArgs {
    std::string input;
    std::string section;
    std::string program;
    std::string type;
    bool verbose = false;
    bool unprivileged = false;
    OutputFlags out;
};

struct Outcome {
    std::string file;
    std::string section;
    std::string program;
    std::string type;
    std::string verdict;  // accept, reject, error (no type, load failure)
    size_t instructions = 0;
    std::string message;
    std::vector<std::string> warnings;
    std::string log;
    double seconds = 0;
};

double peak_rss_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

bool selected(const ProgramSpec& p, const VerifyArgs& args) {
    if (!args.section.empty() && p.section != args.section) return false;
    if (!args.program.empty() && p.name != args.program) return false;
    // Functions of .text are verified only when asked for (they need a type from the user).
    if (p.kind == ProgramKind::TextFunction && args.section.empty() && args.program.empty())
        return false;
    return true;
}

// Verifies the selected programs of one object; a load error gives one "error" outcome.
std::vector<Outcome> verify_object(const std::filesystem::path& path, const VerifyArgs& args,
                                   std::shared_ptr<const ProgramType> forced_type) {
    std::vector<Outcome> outcomes;
    const auto load_start = std::chrono::steady_clock::now();
    auto object = load_object_file(path);
    if (!object) {
        Outcome o;
        o.file = path.string();
        o.verdict = "error";
        o.message = object.error().to_string();
        outcomes.push_back(o);
        return outcomes;
    }
    double load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    for (const auto& spec : object->programs) {
        if (!selected(spec, args)) continue;
        Outcome o;
        o.file = path.string();
        o.section = spec.section;
        o.program = spec.name;
        o.instructions = spec.instruction_count();
        std::shared_ptr<const ProgramType> type = forced_type;
        if (!type && spec.prog_type != ProgType::Unspec) {
            type = ProgramTypeRegistry::global().find(static_cast<uint32_t>(spec.prog_type));
        }
        if (!type) {
            o.verdict = "error";
            const auto name = prog_type_name(spec.prog_type);
            o.type = std::string(name);
            o.message = spec.prog_type == ProgType::Unspec
                            ? "the section name does not say which program type this is; give one "
                              "with --type (e.g. --type sched_cls)"
                            : fmt::format("xbpf has no contract for program type {}", name);
            outcomes.push_back(o);
            continue;
        }
        o.type = type->name;
        VerifierInput input;
        input.program = spec.insns;
        input.type = type.get();
        input.maps = object->maps;
        input.helpers = &HelperCatalog::linux_helpers();
        input.origin = &spec;
        input.options.privileged = !args.unprivileged;
        input.options.verbose = args.verbose;
        VerifierReport report = verify(input);
        o.verdict = report.accepted ? "accept" : "reject";
        o.message = report.accepted ? "" : report.message;
        o.warnings = report.warnings;
        o.log = std::move(report.log);
        o.seconds = report.stats.seconds + load_seconds;
        load_seconds = 0;  // loading is counted once, with the object's first program
        outcomes.push_back(std::move(o));
    }
    return outcomes;
}

void print_outcome(const Outcome& o, bool with_file) {
    if (!o.log.empty()) std::cout << o.log;
    const std::string where = with_file ? fmt::format("{}: ", o.file) : "";
    if (o.section.empty()) {
        // The object could not be loaded: an input error, reported like every other one.
        std::cerr << fmt::format("xbpf: {}\n", o.message);
        return;
    }
    std::cout << fmt::format("{}{} {} ({}): {}", where, o.section, o.program,
                             o.type.empty() ? "no type" : o.type, o.verdict);
    if (o.verdict != "error") {
        std::cout << fmt::format(" ({} instructions, {:.3f} s)", o.instructions, o.seconds);
    }
    std::cout << "\n";
    for (const auto& w : o.warnings)
        std::cout << "  note: " << w << "\n";
    if (!o.message.empty()) {
        std::string indented = "  ";
        for (char c : o.message) {
            indented += c;
            if (c == '\n') indented += "  ";
        }
        while (!indented.empty() && (indented.back() == ' ' || indented.back() == '\n'))
            indented.pop_back();
        std::cout << indented << "\n";
    }
}

nlohmann::json to_json(const Outcome& o, bool with_file) {
    nlohmann::json j = {
        {"section", o.section}, {"program", o.program},           {"type", o.type},
        {"verdict", o.verdict}, {"instructions", o.instructions}, {"message", o.message},
        {"seconds", o.seconds}};
    if (with_file) j["file"] = o.file;
    if (!o.warnings.empty()) j["warnings"] = o.warnings;
    return j;
}

Command add_verify(CLI::App& app) {
    auto args = std::make_shared<VerifyArgs>();
    CLI::App* sub = app.add_subcommand(
        "verify", "Verify the programs of an object (or of every .o in a directory)");
    sub->add_option("FILE", args->input, "ELF object, or a directory of objects")->required();
    sub->add_option("--section", args->section, "Only the programs of this section");
    sub->add_option("--program", args->program,
                    "Only the program with this function name (or section name)");
    sub->add_option("--type", args->type,
                    "Program type to verify as (bpftool names: xdp, sched_cls, ...)");
    sub->add_flag("-v,--verbose", args->verbose,
                  "Print the abstract state before every instruction");
    sub->add_flag(
        "--unprivileged", args->unprivileged,
        "Verify as an unprivileged load (no pointer leaks, no uninitialised stack reads)");
    args->out.add_to(*sub);

    return {
        sub, [args]() -> int {
            std::shared_ptr<const ProgramType> forced;
            if (!args->type.empty()) {
                forced = ProgramTypeRegistry::global().find(args->type);
                if (!forced) {
                    return report(Error(fmt::format("unknown program type '{}'", args->type)));
                }
            }
            const std::filesystem::path input(args->input);
            std::error_code ec;
            if (std::filesystem::is_directory(input, ec)) {
                // Every .o below, grouped by folder; a report per folder.
                std::map<std::string, std::vector<std::filesystem::path>> folders;
                for (auto it = std::filesystem::recursive_directory_iterator(input, ec);
                     !ec && it != std::filesystem::recursive_directory_iterator();
                     it.increment(ec)) {
                    if (it->is_regular_file() && it->path().extension() == ".o") {
                        folders[it->path().parent_path().string()].push_back(it->path());
                    }
                }
                nlohmann::json all = nlohmann::json::array();
                bool any_reject = false;
                size_t total[3] = {0, 0, 0};
                double total_seconds = 0;
                for (auto& [folder, files] : folders) {
                    std::sort(files.begin(), files.end());
                    size_t counts[3] = {0, 0, 0};  // accepted, rejected, errors
                    const auto start = std::chrono::steady_clock::now();
                    for (const auto& file : files) {
                        for (const auto& o : verify_object(file, *args, forced)) {
                            const int k = o.verdict == "accept" ? 0 : o.verdict == "reject" ? 1 : 2;
                            ++counts[k];
                            any_reject |= k == 1;
                            if (args->out.wants_json()) {
                                all.push_back(to_json(o, true));
                            } else if (args->verbose || k == 1 || !args->section.empty() ||
                                       !args->program.empty()) {
                                print_outcome(o, true);
                            }
                        }
                    }
                    const double seconds =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                            .count();
                    total_seconds += seconds;
                    for (int k = 0; k < 3; ++k)
                        total[k] += counts[k];
                    if (!args->out.wants_json()) {
                        std::cout << fmt::format(
                            "{}: {} accepted, {} rejected, {} not verified (no type or load "
                            "error); "
                            "{:.2f} s, peak memory {:.1f} MiB\n",
                            folder, counts[0], counts[1], counts[2], seconds, peak_rss_mib());
                    }
                }
                if (args->out.wants_json()) {
                    args->out.print(all);
                } else {
                    std::cout << fmt::format(
                        "total: {} accepted, {} rejected, {} not verified; {:.2f} s, peak memory "
                        "{:.1f} MiB\n",
                        total[0], total[1], total[2], total_seconds, peak_rss_mib());
                }
                return any_reject ? kExitFailed : kExitOk;
            }
            auto outcomes = verify_object(input, *args, forced);
            nlohmann::json all = nlohmann::json::array();
            bool any_reject = false, any_error = false;
            for (const auto& o : outcomes) {
                any_reject |= o.verdict == "reject";
                any_error |= o.verdict == "error";
                if (args->out.wants_json()) {
                    all.push_back(to_json(o, false));
                } else {
                    print_outcome(o, false);
                }
            }
            if (args->out.wants_json()) args->out.print(all);
            if (outcomes.empty()) {
                return report(Error("no program matches the selection (functions of .text are "
                                    "verified only when named with --program or --section)")
                                  .in(args->input));
            }
            if (any_reject) return kExitFailed;
            return any_error ? kExitUsage : kExitOk;
        }};
}

}  // namespace

XBPF_REGISTER_COMMAND("verify", add_verify);

}  // namespace xbpf::cli
