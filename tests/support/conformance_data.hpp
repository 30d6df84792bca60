// Reader for the conformance suite's .data files (../shared/conformance/README.md):
// sections introduced by "-- name" lines: asm, mem, raw, result, error, c.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xbpf/error.hpp"

namespace xbpf::test {

struct ConformanceCase {
    std::string name;                  // file name without .data
    std::string assembly;              // the -- asm section
    std::vector<uint8_t> memory;       // the -- mem section (hex bytes)
    std::optional<uint64_t> result;    // the -- result section
    std::optional<std::string> error;  // the -- error section
    std::vector<uint64_t> raw;         // the -- raw section (instruction words)
};

Result<ConformanceCase> parse_conformance_case(const std::string& name, const std::string& text);

// Every tests/*.data file of the suite, sorted by name.
Result<std::vector<ConformanceCase>> load_conformance_suite(const std::filesystem::path& dir);

}  // namespace xbpf::test
