// The corpus against its labels (../shared/corpus/labels.csv): every program labelled reject
// must be rejected; programs labelled accept are counted per folder. A second test pins the
// accept labels that pass today, so a regression fails it.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "corpus_labels.hpp"
#include "support/shared_data.hpp"

namespace xbpf::test {
namespace {

const std::vector<CorpusResult>& corpus_results() {
    static const std::vector<CorpusResult> results = run_corpus(shared_dir() / "corpus");
    return results;
}

TEST(VerifierCorpus, EveryRejectLabelIsRejectedAndAcceptsAreCounted) {
    XBPF_REQUIRE_SHARED("corpus/labels.csv");
    const auto& results = corpus_results();
    std::map<std::string, std::pair<int, int>> per_folder;  // passed, failed
    int passed = 0, failed = 0;
    double seconds = 0;
    const bool show = std::getenv("XBPF_CORPUS_VERBOSE") != nullptr;
    for (const auto& r : results) {
        seconds += r.seconds;
        auto& [p, f] = per_folder[r.label.dir];
        if (r.passed()) {
            ++p;
            ++passed;
        } else {
            ++f;
            ++failed;
            if (show) {
                std::cout << fmt::format("MISMATCH {}/{} {} {} ({}): expected {}, got {}\n{}\n",
                                         r.label.dir, r.label.file, r.label.section,
                                         r.label.function, r.label.prog_type, r.label.expected,
                                         r.verdict, r.message);
            }
        }
        if (r.label.expected == "reject") {
            EXPECT_EQ(r.verdict, "reject")
                << r.label.dir << "/" << r.label.file << " " << r.label.section;
        }
    }
    for (const auto& [dir, counts] : per_folder) {
        std::cout << fmt::format("{}: {} passed, {} failed\n", dir, counts.first, counts.second);
    }
    std::cout << fmt::format("corpus: {} passed, {} failed ({:.2f} s)\n", passed, failed, seconds);
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
        const std::string key = fmt::format("{}/{} {} {}", r.label.dir, r.label.file,
                                            r.label.section, r.label.function);
        if (!expected.count(key)) continue;
        ++checked;
        EXPECT_EQ(r.verdict, "accept") << key << "\n" << r.message;
    }
    EXPECT_EQ(checked, expected.size());
}

TEST(VerifierCorpus, WholeCorpusWithinTimeBudget) {
    XBPF_REQUIRE_SHARED("corpus/labels.csv");
    double total = 0, slowest = 0;
    for (const auto& r : corpus_results()) {
        total += r.seconds;
        slowest = std::max(slowest, r.seconds);
    }
    EXPECT_LT(total, 10.0);
    EXPECT_LT(slowest, 0.5);
}

}  // namespace
}  // namespace xbpf::test
