// Where the tests find ../shared (the conformance suite, the corpus) and the project's own files.
#pragma once

#include <filesystem>
#include <string>

namespace xbpf::test {

// The shared data directory, or an empty path when it is not present (tests then skip with a
// message saying so). XBPF_SHARED_DIR in the environment overrides the configured location.
std::filesystem::path shared_dir();

// Skips the current test, naming what is missing, when ../shared or a part of it is absent.
#define XBPF_REQUIRE_SHARED(subdir)                                                     \
    do {                                                                                \
        if (::xbpf::test::shared_dir().empty() ||                                       \
            !std::filesystem::exists(::xbpf::test::shared_dir() / (subdir))) {          \
            GTEST_SKIP() << "shared data not found: " << (subdir)                       \
                         << " (expected beside the repository in ../shared); skipping"; \
        }                                                                               \
    } while (0)

std::filesystem::path source_dir();
std::filesystem::path binary_dir();

// Reads a whole file; fails the current test when it cannot.
std::string read_text(const std::filesystem::path& path);

}  // namespace xbpf::test
