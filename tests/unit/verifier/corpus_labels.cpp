#include "corpus_labels.hpp"

#include <chrono>
#include <fstream>
#include <map>
#include <memory>

#include "../../../tools/xbpf/csv_line.hpp"  // the CSV reader xbpf verify --labels uses
#include "xbpf/helpers.hpp"
#include "xbpf/object.hpp"
#include "xbpf/program_type.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf::test {

using cli::split_csv_line;

std::vector<CorpusLabel> read_corpus_labels(const std::filesystem::path& csv) {
    std::vector<CorpusLabel> labels;
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto f = split_csv_line(line);
        if (f.size() < 9) continue;
        CorpusLabel label{f[0], f[1], f[2], f[3], f[5], f[6], f[8], "", ""};
        if (f.size() >= 11) {
            label.prevail = f[9];
            label.linux_verdict = f[10];
        }
        labels.push_back(std::move(label));
    }
    return labels;
}

std::string verify_type_name(const CorpusLabel& label) {
    if (label.why.find("as a tc (sched_cls) program") != std::string::npos) return "sched_cls";
    return label.prog_type.empty() ? "socket_filter" : label.prog_type;
}

std::vector<CorpusResult> run_corpus(const std::filesystem::path& corpus) {
    std::vector<CorpusResult> results;
    std::map<std::string, std::shared_ptr<Result<Object>>> objects;
    for (const auto& label : read_corpus_labels(corpus / "labels.csv")) {
        CorpusResult r;
        r.label = label;
        const auto start = std::chrono::steady_clock::now();
        const std::string key = label.dir + "/" + label.file;
        auto& object = objects[key];
        if (!object) object = std::make_shared<Result<Object>>(load_object_file(corpus / key));
        auto finish = [&](std::string verdict, std::string message) {
            r.verdict = std::move(verdict);
            r.message = std::move(message);
            r.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            results.push_back(r);
        };
        if (!object->ok()) {
            finish("reject", "load error: " + object->error().to_string());
            continue;
        }
        const ProgramSpec* spec = nullptr;
        for (const auto& p : (*object)->programs) {
            if (p.section == label.section && p.name == label.function) spec = &p;
        }
        if (spec == nullptr) {
            finish("reject", "the loader does not list this program");
            continue;
        }
        const std::string type_name = verify_type_name(label);
        auto type = ProgramTypeRegistry::global().find(type_name);
        if (!type) {
            finish("reject", "no contract for program type " + type_name);
            continue;
        }
        VerifierReport report = verify(program_verifier_input(*spec, (*object)->maps, *type));
        r.notes = report.warnings;
        r.reason = report.reason;
        finish(report.accepted ? "accept" : "reject", report.message);
    }
    return results;
}

}  // namespace xbpf::test
