// The corpus against its labels (../shared/corpus/labels.csv): every program labelled reject
// must be rejected, and every program labelled accept must be accepted unless the kernel itself
// rejects it (corpus_kernel_rejects.txt, from the kernel oracle). Those still count as failed in
// the figures, which say how many of the failures the kernel's evidence explains. A second test
// pins the accept labels that pass, so a regression fails it.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "corpus_labels.hpp"
#include "support/shared_data.hpp"

namespace xbpf::test {
namespace {

const std::vector<CorpusResult>& corpus_results() {
    static const std::vector<CorpusResult> results = run_corpus(shared_dir() / "corpus");
    return results;
}

std::string key_of(const CorpusLabel& l) {
    return fmt::format("{}/{} {} {}", l.dir, l.file, l.section, l.function);
}

// An accept label the kernel rejects here: its message, and whether the program is unsafe.
struct KernelEvidence {
    std::string message;
    bool unsafe = true;
    std::string why;
};

std::map<std::string, KernelEvidence> kernel_rejects() {
    std::map<std::string, KernelEvidence> out;
    std::ifstream in(source_dir() / "tests/unit/verifier/corpus_kernel_rejects.txt");
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> cols;
        std::istringstream ss(line);
        for (std::string c; std::getline(ss, c, '\t');)
            cols.push_back(c);
        if (cols.size() < 4) continue;
        out[cols[0]] = KernelEvidence{cols[1], cols[2] == "unsafe", cols[3]};
    }
    return out;
}

TEST(VerifierCorpus, EveryRejectLabelIsRejectedAndAcceptsAreCounted) {
    XBPF_REQUIRE_SHARED("corpus/labels.csv");
    const auto& results = corpus_results();
    const auto evidence = kernel_rejects();
    ASSERT_FALSE(evidence.empty()) << "corpus_kernel_rejects.txt is missing";
    struct Counts {
        int passed = 0, failed = 0, kernel_rejects = 0;
    };
    std::map<std::string, Counts> per_folder;
    Counts all;
    // Time is reported, never asserted (benchmarks measure speed: xbpf verify --bench).
    double seconds = 0, slowest = 0;
    const bool show = std::getenv("XBPF_CORPUS_VERBOSE") != nullptr;
    std::vector<std::string> explained, unexplained;
    for (const auto& r : results) {
        seconds += r.seconds;
        slowest = std::max(slowest, r.seconds);
        Counts& folder = per_folder[r.label.dir];
        const std::string key = key_of(r.label);
        const auto ev = evidence.find(key);
        if (r.passed()) {
            ++folder.passed;
            ++all.passed;
        } else {
            ++folder.failed;
            ++all.failed;
            if (ev != evidence.end()) {
                ++folder.kernel_rejects;
                ++all.kernel_rejects;
                explained.push_back(fmt::format("  {} ({}): Linux 6.18 here: \"{}\"; {}", key,
                                                verify_type_name(r.label), ev->second.message,
                                                ev->second.why));
            } else {
                unexplained.push_back(key);
            }
            if (show) {
                std::cout << fmt::format("MISMATCH {} ({}): expected {}, got {}\n{}\n", key,
                                         verify_type_name(r.label), r.label.expected, r.verdict,
                                         r.message);
            }
        }
        if (r.label.expected == "reject") {
            EXPECT_EQ(r.verdict, "reject") << key;
        }
        // An accept label the kernel refuses because the program is unsafe must stay rejected:
        // accepting it would make the verifier unsound.
        if (ev != evidence.end() && ev->second.unsafe) {
            EXPECT_EQ(r.verdict, "reject") << key << " is unsafe: " << ev->second.why;
        }
        // Every other accept label is a program the kernel accepts: a rejection is a precision
        // gap.
        if (r.label.expected == "accept" && ev == evidence.end()) {
            EXPECT_EQ(r.verdict, "accept") << key << " (" << verify_type_name(r.label) << ")\n"
                                           << r.message;
        }
    }
    for (const auto& [dir, c] : per_folder) {
        std::cout << fmt::format("{}: {} passed, {} failed", dir, c.passed, c.failed);
        if (c.kernel_rejects != 0) {
            std::cout << fmt::format(" ({} of them accept labels Linux 6.18 rejects here)",
                                     c.kernel_rejects);
        }
        std::cout << "\n";
    }
    std::cout << fmt::format("corpus: {} passed, {} failed ({:.2f} s, slowest program {:.3f} s)\n",
                             all.passed, all.failed, seconds, slowest);
    if (!explained.empty()) {
        std::cout << fmt::format(
            "{} of the failures are accept labels the running kernel rejects too "
            "(tests/unit/verifier/corpus_kernel_rejects.txt):\n",
            explained.size());
        for (const auto& line : explained)
            std::cout << line << "\n";
    }
    for (const auto& key : unexplained)
        std::cout << "  not explained by the kernel: " << key << "\n";
}

// Accept labels verified correctly at the time of writing: they must stay accepted.
TEST(VerifierCorpus, KnownAcceptsStayAccepted) {
    XBPF_REQUIRE_SHARED("corpus/labels.csv");
    const std::filesystem::path list = source_dir() / "tests/unit/verifier/corpus_accepted.txt";
    std::ifstream in(list);
    ASSERT_TRUE(in.good()) << list;
    std::set<std::string> expected;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line[0] != '#') expected.insert(line);
    }
    size_t checked = 0;
    for (const auto& r : corpus_results()) {
        const std::string key = key_of(r.label);
        if (!expected.count(key)) continue;
        ++checked;
        EXPECT_EQ(r.verdict, "accept") << key << "\n" << r.message;
    }
    EXPECT_EQ(checked, expected.size());
}

// `either` rows may go either way, but the outcome must say why: a rejection's message, or for
// an acceptance the notes (unreachable code, helpers some kernels lack...).
TEST(VerifierCorpus, EitherLabelsAreExplained) {
    XBPF_REQUIRE_SHARED("corpus/labels.csv");
    for (const auto& r : corpus_results()) {
        if (r.label.expected != "either") continue;
        std::string why;
        if (r.verdict == "reject") {
            EXPECT_FALSE(r.message.empty()) << key_of(r.label);
            why = r.reason.empty() ? r.message : r.reason;
        } else if (!r.notes.empty()) {
            why = r.notes.front();
        } else {
            why = "no note (label: " + r.label.why + ")";
        }
        std::cout << fmt::format("either {} ({}): {}: {}\n", key_of(r.label),
                                 verify_type_name(r.label), r.verdict, why);
    }
}

}  // namespace
}  // namespace xbpf::test
