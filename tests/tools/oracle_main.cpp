// verifier_oracle: the running kernel's verifier as a reference for xbpf's (see oracle.hpp).
//
//   verifier_oracle corpus [--corpus DIR] [--table FILE.tsv] [--check] [-v]
//       every labelled corpus program through the kernel and xbpf; a summary, and the table
//   verifier_oracle helpers [--type NAME] [--list] [-v]
//       the helpers each program type may call, kernel against xbpf's contracts
//   verifier_oracle object FILE.o [--type NAME] [--program NAME]
//       one object's programs through both
//   verifier_oracle types-doc
//       the per-type section of docs/program-types.md, from the registry (no kernel needed)
//
// Exit status 77 (CTest's "skipped") when bpf(2) is not available, or when XBPF_KERNEL_ORACLE
// is unset for `corpus --check` (the CTest run), so the default test run never needs root.
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "oracle.hpp"
#include "support/shared_data.hpp"

namespace {

constexpr int kSkipped = 77;

int usage() {
    std::cerr << "usage: verifier_oracle corpus [--corpus DIR] [--table FILE] [--check] [-v]\n"
                 "       verifier_oracle helpers [--type NAME] [--list] [-v]\n"
                 "       verifier_oracle object FILE.o [--type NAME] [--program NAME]\n"
                 "       verifier_oracle types-doc\n";
    return 2;
}

}  // namespace

namespace xbpf::oracle {

int run_object_oracle(const std::filesystem::path& file, const std::string& type_name,
                      const std::string& program) {
    auto object = load_object_file(file);
    if (!object) {
        std::cerr << object.error().to_string() << "\n";
        return 2;
    }
    std::ifstream in(file, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    const KernelObject kobj = make_kernel_object(*object, bytes);
    if (!kobj.btf_error.empty()) std::cout << "BTF not loaded: " << kobj.btf_error << "\n";
    int mismatches = 0;
    for (const auto& spec : object->programs) {
        if (!program.empty() && spec.name != program && spec.section != program) continue;
        if (program.empty() && spec.kind == ProgramKind::TextFunction) continue;
        ProgType type = spec.prog_type;
        if (!type_name.empty()) {
            auto t = prog_type_from_name(type_name);
            if (!t) {
                std::cerr << "unknown program type " << type_name << "\n";
                return 2;
            }
            type = *t;
        }
        if (type == ProgType::Unspec) {
            std::cout << fmt::format("{} {}: no program type (give --type)\n", spec.section,
                                     spec.name);
            continue;
        }
        const KernelVerdict k = kernel_verdict(*object, spec, kobj, plan_load(spec, type));
        const VerifierReport x = xbpf_verdict(*object, spec, type);
        mismatches += k.accepted != x.accepted;
        std::cout << fmt::format(
            "{} {} ({}, {} insns): kernel {} ({} insns processed, {} us){}; xbpf {} ({} visits, "
            "{:.4f} s){}\n",
            spec.section, spec.name, prog_type_name(type), spec.instruction_count(),
            k.accepted ? "accept" : "reject", k.processed, k.kernel_usec,
            k.accepted ? "" : ": " + k.first_line, x.accepted ? "accept" : "reject",
            x.stats.visited_instructions, x.stats.seconds, x.accepted ? "" : ": " + x.reason);
        if (!k.accepted && !k.log.empty()) std::cout << "kernel log:\n" << k.log;
    }
    return mismatches == 0 ? 0 : 1;
}

}  // namespace xbpf::oracle

int main(int argc, char** argv) {
    using namespace xbpf::oracle;
    if (argc < 2) return usage();
    const std::string mode = argv[1];
    std::string type, program, table, file;
    std::filesystem::path corpus;
    bool check = false, verbose = false, list = false;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        std::string dir;
        if (a == "--type") {
            if (!value(type)) return usage();
        } else if (a == "--program") {
            if (!value(program)) return usage();
        } else if (a == "--table") {
            if (!value(table)) return usage();
        } else if (a == "--corpus") {
            if (!value(dir)) return usage();
            corpus = dir;
        } else if (a == "--check") {
            check = true;
        } else if (a == "--list") {
            list = true;
        } else if (a == "-v") {
            verbose = true;
        } else if (mode == "object" && file.empty()) {
            file = a;
        } else {
            return usage();
        }
    }
    if (mode == "types-doc") return print_types_doc();
    if (check && std::getenv("XBPF_KERNEL_ORACLE") == nullptr) {
        std::cout << "kernel oracle skipped: it loads programs into the running kernel; set "
                     "XBPF_KERNEL_ORACLE=1 and run as root to compare\n";
        return kSkipped;
    }
    std::string why;
    if (!kernel_bpf_available(&why)) {
        std::cout << "kernel oracle skipped: " << why << "\n";
        return kSkipped;
    }
    if (mode == "corpus") {
        if (corpus.empty()) corpus = xbpf::test::shared_dir() / "corpus";
        if (!std::filesystem::exists(corpus / "labels.csv")) {
            std::cout << "kernel oracle skipped: no corpus at " << corpus << "\n";
            return kSkipped;
        }
        return run_corpus_oracle(CorpusOptions{corpus, table, check, verbose});
    }
    if (mode == "helpers") return run_helper_probe(HelperProbeOptions{type, verbose, list});
    if (mode == "object" && !file.empty()) return run_object_oracle(file, type, program);
    return usage();
}
