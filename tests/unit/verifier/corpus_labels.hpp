// The corpus of real objects (../shared/corpus) and its labels: each program verified as its
// label's program type, compared with the expected verdict.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace xbpf::test {

struct CorpusLabel {
    std::string dir, file, section, function, expected, prog_type, why;
    std::string prevail, linux_verdict;  // what PREVAIL and Linux 6.18 said, for reference
};

// The program type a label's program is verified as: its prog_type column, except where the
// label says Linux accepts it "as a tc (sched_cls) program" (then sched_cls, as Linux did).
std::string verify_type_name(const CorpusLabel& label);

struct CorpusResult {
    CorpusLabel label;
    std::string verdict;  // accept, reject (a load failure counts as reject)
    std::string message;
    std::string reason;              // the rejection in one sentence
    std::vector<std::string> notes;  // the verifier's notes on an accepted program
    double seconds = 0;
    bool passed() const {
        if (label.expected == "accept") return verdict == "accept";
        if (label.expected == "reject") return verdict == "reject";
        return true;  // either / unknown
    }
};

std::vector<CorpusLabel> read_corpus_labels(const std::filesystem::path& csv);
// Verifies every labelled program (privileged, as Linux's root loads).
std::vector<CorpusResult> run_corpus(const std::filesystem::path& corpus);

}  // namespace xbpf::test
