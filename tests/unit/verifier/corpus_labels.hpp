// The corpus of real objects (../shared/corpus) and its labels: each program verified as its
// label's program type, compared with the expected verdict.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace xbpf::test {

struct CorpusLabel {
    std::string dir, file, section, function, expected, prog_type, why;
};

struct CorpusResult {
    CorpusLabel label;
    std::string verdict;  // accept, reject (a load failure counts as reject)
    std::string message;
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
