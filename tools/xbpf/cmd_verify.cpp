// xbpf verify: run the verifier on the programs of an object (or of every object in a
// directory, with a per-folder report), as loading would.
//
// --labels FILE gives program types per program (a corpus's labels.csv), --bench verifies each
// program in a child process of its own and reports per folder the time (loading included) and
// the peak memory of the slowest and largest programs, measured honestly by the kernel's
// accounting of each child (wait4's ru_maxrss).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "cli.hpp"
#include "csv_line.hpp"
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
    std::string labels;
    bool verbose = false;
    bool unprivileged = false;
    bool bench = false;
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
    uint64_t visits = 0;
    double peak_mib = 0;  // --bench: the child process's peak resident memory
};

double peak_rss_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Program types from a labels file (dir,file,section,function,insns,expected,prog_type,...,why),
// keyed by "dir/file|section|function" relative to the labels file's directory. Where the reason
// says Linux accepts the program "as a tc (sched_cls) program", the type is sched_cls; a label
// without a type means socket_filter (as the corpus test reads it).
class LabelTypes {
  public:
    Status read(const std::filesystem::path& csv) {
        std::ifstream in(csv);
        if (!in) return Error(fmt::format("cannot read {}", csv.string()));
        base_ = std::filesystem::absolute(csv).parent_path();
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            const auto f = split_csv_line(line);
            if (f.size() < 9) continue;
            // As the corpus test reads them: no type means socket_filter.
            const std::string type = f[8].find("as a tc (sched_cls) program") != std::string::npos
                                         ? "sched_cls"
                                     : f[6].empty() ? "socket_filter"
                                                    : f[6];
            types_[f[0] + "/" + f[1] + "|" + f[2] + "|" + f[3]] = type;
            files_.insert(f[0] + "/" + f[1]);
        }
        return {};
    }
    bool has_file(const std::filesystem::path& file) const {
        return files_.count(relative(file)) != 0;
    }
    // The label's type for a program of `file`, or "" when there is no label.
    std::string find(const std::filesystem::path& file, const ProgramSpec& p) const {
        if (types_.empty()) return "";
        auto it = types_.find(relative(file) + "|" + p.section + "|" + p.name);
        return it == types_.end() ? "" : it->second;
    }
    // Whether some label names this program (then a .text function is verified too).
    bool labelled(const std::filesystem::path& file, const ProgramSpec& p) const {
        return !find(file, p).empty();
    }

  private:
    std::string relative(const std::filesystem::path& file) const {
        std::error_code ec;
        return std::filesystem::relative(std::filesystem::absolute(file), base_, ec).string();
    }
    std::filesystem::path base_;
    std::map<std::string, std::string> types_;
    std::set<std::string> files_;
};

bool selected(const ProgramSpec& p, const VerifyArgs& args, const LabelTypes& labels,
              const std::filesystem::path& file) {
    if (!args.section.empty() && p.section != args.section) return false;
    if (!args.program.empty() && p.name != args.program) return false;
    // Functions of .text are verified only when asked for (they need a type from the user) or
    // when a label names them.
    if (p.kind == ProgramKind::TextFunction && args.section.empty() && args.program.empty() &&
        !labels.labelled(file, p)) {
        return false;
    }
    return true;
}

// The contract to verify a program against: --type, else its label, else its section's type.
std::shared_ptr<const ProgramType> type_for(const ProgramSpec& spec,
                                            const std::shared_ptr<const ProgramType>& forced,
                                            const LabelTypes& labels,
                                            const std::filesystem::path& file) {
    if (forced) return forced;
    if (const std::string name = labels.find(file, spec); !name.empty())
        return ProgramTypeRegistry::global().find(name);
    if (spec.prog_type != ProgType::Unspec)
        return ProgramTypeRegistry::global().find(static_cast<uint32_t>(spec.prog_type));
    return nullptr;
}

Outcome verify_one(const std::filesystem::path& path, const Object& object, const ProgramSpec& spec,
                   const std::shared_ptr<const ProgramType>& type, const VerifyArgs& args) {
    Outcome o;
    o.file = path.string();
    o.section = spec.section;
    o.program = spec.name;
    o.instructions = spec.instruction_count();
    if (!type) {
        o.verdict = "error";
        const auto name = prog_type_name(spec.prog_type);
        o.type = std::string(name);
        o.message = spec.prog_type == ProgType::Unspec
                        ? "the section name does not say which program type this is; give one "
                          "with --type (e.g. --type sched_cls)"
                        : fmt::format("xbpf has no contract for program type {}", name);
        return o;
    }
    o.type = type->name;
    VerifierInput input = program_verifier_input(spec, object.maps, *type);
    input.options.privileged = !args.unprivileged;
    input.options.verbose = args.verbose;
    VerifierReport report = verify(input);
    o.verdict = report.accepted ? "accept" : "reject";
    o.message = report.accepted ? "" : report.message;
    o.warnings = report.warnings;
    o.log = std::move(report.log);
    o.seconds = report.stats.seconds;
    o.visits = report.stats.visited_instructions;
    return o;
}

// The one outcome of an object that does not load.
Outcome load_error(const std::filesystem::path& path, const Error& error) {
    Outcome o;
    o.file = path.string();
    o.verdict = "error";
    o.message = error.to_string();
    return o;
}

// Verifies the selected programs of one object; a load error gives one "error" outcome.
std::vector<Outcome> verify_object(const std::filesystem::path& path, const VerifyArgs& args,
                                   std::shared_ptr<const ProgramType> forced,
                                   const LabelTypes& labels) {
    std::vector<Outcome> outcomes;
    const auto load_start = std::chrono::steady_clock::now();
    auto object = load_object_file(path);
    if (!object) return {load_error(path, object.error())};
    double load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    for (const auto& spec : object->programs) {
        if (!selected(spec, args, labels, path)) continue;
        Outcome o = verify_one(path, *object, spec, type_for(spec, forced, labels, path), args);
        o.seconds += load_seconds;
        load_seconds = 0;  // loading is counted once, with the object's first program
        outcomes.push_back(std::move(o));
    }
    return outcomes;
}

// What a child reports back through its pipe.
struct ChildResult {
    int verdict = 2;  // 0 accept, 1 reject, 2 error
    double seconds = 0;
    uint64_t visits = 0;
};

// Loads the object and verifies its `index`-th program in a child process, so that the child's
// peak memory is this program's alone.
Outcome verify_in_child(const std::filesystem::path& path, size_t index, const ProgramSpec& spec,
                        const std::shared_ptr<const ProgramType>& type, const VerifyArgs& args) {
    Outcome o;
    o.file = path.string();
    o.section = spec.section;
    o.program = spec.name;
    o.instructions = spec.instruction_count();
    o.type = type ? type->name : std::string(prog_type_name(spec.prog_type));
    int fds[2];
    if (pipe(fds) != 0) {
        o.verdict = "error";
        o.message = fmt::format("pipe: {}", std::strerror(errno));
        return o;
    }
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        ChildResult r;
        const auto start = std::chrono::steady_clock::now();
        auto object = load_object_file(path);
        if (object && index < object->programs.size()) {
            const Outcome v = verify_one(path, *object, object->programs[index], type, args);
            r.verdict = v.verdict == "accept" ? 0 : v.verdict == "reject" ? 1 : 2;
            r.visits = v.visits;
        }
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const ssize_t n = write(fds[1], &r, sizeof r);
        _exit(n == static_cast<ssize_t>(sizeof r) ? 0 : 1);
    }
    close(fds[1]);
    ChildResult r;
    const bool got = pid > 0 && read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
    close(fds[0]);
    int status = 0;
    rusage usage{};
    if (pid > 0) wait4(pid, &status, 0, &usage);
    if (!got || !WIFEXITED(status)) {
        o.verdict = "error";
        o.message = "the child process verifying this program did not finish";
        return o;
    }
    o.verdict = r.verdict == 0 ? "accept" : r.verdict == 1 ? "reject" : "error";
    o.seconds = r.seconds;
    o.visits = r.visits;
    o.peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
    return o;
}

std::vector<Outcome> bench_object(const std::filesystem::path& path, const VerifyArgs& args,
                                  const std::shared_ptr<const ProgramType>& forced,
                                  const LabelTypes& labels) {
    std::vector<Outcome> outcomes;
    auto object = load_object_file(path);
    if (!object) return {load_error(path, object.error())};
    for (size_t i = 0; i < object->programs.size(); ++i) {
        const ProgramSpec& spec = object->programs[i];
        if (!selected(spec, args, labels, path)) continue;
        outcomes.push_back(
            verify_in_child(path, i, spec, type_for(spec, forced, labels, path), args));
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

nlohmann::json to_json(const Outcome& o, bool with_file, bool bench) {
    nlohmann::json j = {
        {"section", o.section}, {"program", o.program},           {"type", o.type},
        {"verdict", o.verdict}, {"instructions", o.instructions}, {"message", o.message},
        {"seconds", o.seconds}};
    if (with_file) j["file"] = o.file;
    if (!o.warnings.empty()) j["warnings"] = o.warnings;
    if (bench) {
        j["visits"] = o.visits;
        j["peak_mib"] = o.peak_mib;
    }
    return j;
}

// Per folder (and in all): counts, time, the slowest program and the largest peak memory.
struct FolderFigures {
    size_t counts[3] = {0, 0, 0};  // accepted, rejected, errors
    double seconds = 0;
    const Outcome* slowest = nullptr;
    const Outcome* largest = nullptr;
    void add(const Outcome& o) {
        const int k = o.verdict == "accept" ? 0 : o.verdict == "reject" ? 1 : 2;
        ++counts[k];
        seconds += o.seconds;
        if (o.section.empty()) return;
        if (slowest == nullptr || o.seconds > slowest->seconds) slowest = &o;
        if (largest == nullptr || o.peak_mib > largest->peak_mib) largest = &o;
    }
};

std::string bench_line(const std::string& name, const FolderFigures& f) {
    std::string out = fmt::format(
        "{}: {} accepted, {} rejected, {} not verified; {:.3f} s in all (loading included)", name,
        f.counts[0], f.counts[1], f.counts[2], f.seconds);
    if (f.slowest != nullptr) {
        out += fmt::format("; slowest {:.3f} s ({} {})", f.slowest->seconds,
                           std::filesystem::path(f.slowest->file).filename().string(),
                           f.slowest->program);
    }
    if (f.largest != nullptr) {
        out += fmt::format("; peak memory {:.1f} MiB ({} {})", f.largest->peak_mib,
                           std::filesystem::path(f.largest->file).filename().string(),
                           f.largest->program);
    }
    return out;
}

int verify_directory(const std::filesystem::path& input, const VerifyArgs& args,
                     const std::shared_ptr<const ProgramType>& forced, const LabelTypes& labels) {
    // Every .o below (with labels: every labelled file below), grouped by folder.
    std::map<std::string, std::vector<std::filesystem::path>> folders;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(input, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        const bool wanted =
            args.labels.empty() ? it->path().extension() == ".o" : labels.has_file(it->path());
        if (wanted) folders[it->path().parent_path().string()].push_back(it->path());
    }
    nlohmann::json all = nlohmann::json::array();
    bool any_reject = false;
    std::vector<Outcome> everything;
    std::map<std::string, std::vector<Outcome>> per_folder;
    const auto start = std::chrono::steady_clock::now();
    for (auto& [folder, files] : folders) {
        std::sort(files.begin(), files.end());
        const auto folder_start = std::chrono::steady_clock::now();
        auto& outcomes = per_folder[folder];
        for (const auto& file : files) {
            auto got = args.bench ? bench_object(file, args, forced, labels)
                                  : verify_object(file, args, forced, labels);
            for (auto& o : got)
                outcomes.push_back(std::move(o));
        }
        FolderFigures figures;
        for (const auto& o : outcomes) {
            figures.add(o);
            any_reject |= o.verdict == "reject";
            if (args.out.wants_json()) {
                all.push_back(to_json(o, true, args.bench));
            } else if (!args.bench && (args.verbose || o.verdict == "reject" ||
                                       !args.section.empty() || !args.program.empty())) {
                print_outcome(o, true);
            }
        }
        if (!args.out.wants_json()) {
            if (args.bench) {
                std::cout << bench_line(folder, figures) << "\n";
            } else {
                const double seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - folder_start)
                        .count();
                std::cout << fmt::format(
                    "{}: {} accepted, {} rejected, {} not verified (no type or load error); "
                    "{:.2f} s, peak memory {:.1f} MiB\n",
                    folder, figures.counts[0], figures.counts[1], figures.counts[2], seconds,
                    peak_rss_mib());
            }
        }
    }
    if (args.out.wants_json()) {
        args.out.print(all);
    } else {
        FolderFigures total;
        for (const auto& [folder, outcomes] : per_folder) {
            for (const auto& o : outcomes)
                total.add(o);
        }
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (args.bench) {
            std::cout << bench_line("total", total)
                      << fmt::format(" ({:.2f} s of wall time with a process per program)\n", wall);
        } else {
            std::cout << fmt::format(
                "total: {} accepted, {} rejected, {} not verified; {:.2f} s, peak memory "
                "{:.1f} MiB\n",
                total.counts[0], total.counts[1], total.counts[2], wall, peak_rss_mib());
        }
    }
    return any_reject ? kExitFailed : kExitOk;
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
    sub->add_option("--labels", args->labels,
                    "A labels.csv giving each program's type (dir,file,section,function,...,"
                    "prog_type,...): labelled .text functions are verified too");
    sub->add_flag("--bench", args->bench,
                  "Verify each program in a process of its own and report time (loading "
                  "included) and peak memory per folder");
    sub->add_flag("-v,--verbose", args->verbose,
                  "Print the abstract state before every instruction");
    sub->add_flag(
        "--unprivileged", args->unprivileged,
        "Verify as an unprivileged load (no pointer leaks, no uninitialised stack reads)");
    args->out.add_to(*sub);

    return {sub, [args]() -> int {
                std::shared_ptr<const ProgramType> forced;
                if (!args->type.empty()) {
                    forced = ProgramTypeRegistry::global().find(args->type);
                    if (!forced) {
                        return report(Error(fmt::format("unknown program type '{}'", args->type)));
                    }
                }
                LabelTypes labels;
                if (!args->labels.empty()) {
                    if (auto s = labels.read(args->labels); !s) return report(s.error());
                }
                const std::filesystem::path input(args->input);
                std::error_code ec;
                if (std::filesystem::is_directory(input, ec)) {
                    return verify_directory(input, *args, forced, labels);
                }
                auto outcomes = args->bench ? bench_object(input, *args, forced, labels)
                                            : verify_object(input, *args, forced, labels);
                nlohmann::json all = nlohmann::json::array();
                bool any_reject = false, any_error = false;
                for (const auto& o : outcomes) {
                    any_reject |= o.verdict == "reject";
                    any_error |= o.verdict == "error";
                    if (args->out.wants_json()) {
                        all.push_back(to_json(o, false, args->bench));
                    } else {
                        print_outcome(o, false);
                        if (args->bench && !o.section.empty()) {
                            std::cout << fmt::format("  {} visits, peak memory {:.1f} MiB\n",
                                                     o.visits, o.peak_mib);
                        }
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
