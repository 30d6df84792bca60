#include "support/conformance_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace xbpf::test {
namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

Result<uint64_t> parse_u64(const std::string& text) {
    std::string s = trim(text);
    int base = 10;
    if (s.starts_with("0x") || s.starts_with("0X")) {
        base = 16;
        s = s.substr(2);
    }
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc{} || p != s.data() + s.size())
        return Error(fmt::format("'{}' is not a number", text));
    return v;
}

}  // namespace

Result<ConformanceCase> parse_conformance_case(const std::string& name, const std::string& text) {
    ConformanceCase c;
    c.name = name;
    std::map<std::string, std::string> sections;
    std::string current;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("-- ")) {
            current = trim(line.substr(3));
            sections[current];
            continue;
        }
        if (current.empty()) continue;  // header comments
        sections[current] += line;
        sections[current] += '\n';
    }
    if (!sections.contains("asm")) return Error("no -- asm section").in(name);
    c.assembly = sections["asm"];
    if (auto it = sections.find("mem"); it != sections.end()) {
        std::istringstream bytes(it->second);
        std::string byte;
        while (bytes >> byte) {
            auto v = parse_u64("0x" + byte);
            if (!v || *v > 0xff) return Error(fmt::format("bad memory byte '{}'", byte)).in(name);
            c.memory.push_back(static_cast<uint8_t>(*v));
        }
    }
    if (auto it = sections.find("result"); it != sections.end()) {
        auto v = parse_u64(it->second);
        if (!v) return std::move(v).error().in(name);
        c.result = *v;
    }
    if (auto it = sections.find("error"); it != sections.end()) c.error = trim(it->second);
    if (auto it = sections.find("raw"); it != sections.end()) {
        std::istringstream words(it->second);
        std::string word;
        while (words >> word) {
            auto v = parse_u64(word);
            if (!v) return std::move(v).error().in(name);
            c.raw.push_back(*v);
        }
    }
    if (!c.result && !c.error) return Error("neither -- result nor -- error").in(name);
    return c;
}

Result<std::vector<ConformanceCase>> load_conformance_suite(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".data") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<ConformanceCase> cases;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        auto c = parse_conformance_case(f.stem().string(), ss.str());
        if (!c) return std::move(c).error();
        cases.push_back(std::move(*c));
    }
    return cases;
}

}  // namespace xbpf::test
