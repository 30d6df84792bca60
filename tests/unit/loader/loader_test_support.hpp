// Shared pieces of the loader tests: the project's own BPF test objects (tests/bpf/loader_*.c,
// compiled by clang at build time) and byte-level helpers for building malformed objects.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "xbpf/object.hpp"

namespace xbpf::test {

inline std::filesystem::path bpf_object_path(const std::string& name) {
    return std::filesystem::path(XBPF_BPF_OBJECT_DIR) / (name + ".o");
}

// Skips the test when clang did not build the BPF test objects.
#define XBPF_REQUIRE_BPF_OBJECT(name)                                        \
    do {                                                                     \
        if (!std::filesystem::exists(::xbpf::test::bpf_object_path(name))) { \
            GTEST_SKIP() << "BPF test object " << (name)                     \
                         << ".o was not built (clang missing?); skipping";   \
        }                                                                    \
    } while (0)

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
}

// Loads one of the project's BPF test objects; fails the test when it does not load.
inline Object load_test_object(const std::string& name) {
    auto object = load_object_file(bpf_object_path(name));
    EXPECT_TRUE(object.ok()) << (object.ok() ? "" : object.error().to_string());
    return object.ok() ? std::move(*object) : Object{};
}

inline const ProgramSpec& program_named(const Object& object, const std::string& name) {
    const ProgramSpec* p = object.find_program(name);
    if (p == nullptr) {
        ADD_FAILURE() << "no program named " << name;
        static const ProgramSpec empty;
        return empty;
    }
    return *p;
}

inline const MapSpec& map_named(const Object& object, const std::string& name) {
    const MapSpec* m = object.find_map(name);
    if (m == nullptr) {
        ADD_FAILURE() << "no map named " << name;
        static const MapSpec empty;
        return empty;
    }
    return *m;
}

inline size_t map_index(const Object& object, const std::string& name) {
    for (size_t i = 0; i < object.maps.size(); ++i) {
        if (object.maps[i].name == name) return i;
    }
    ADD_FAILURE() << "no map named " << name;
    return SIZE_MAX;
}

// Little-endian field access for editing object bytes in place.
inline uint64_t get_le(const std::vector<uint8_t>& b, size_t at, int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; ++i)
        v |= uint64_t{b.at(at + i)} << (8 * i);
    return v;
}
inline void put_le(std::vector<uint8_t>& b, size_t at, int width, uint64_t v) {
    for (int i = 0; i < width; ++i)
        b.at(at + i) = static_cast<uint8_t>(v >> (8 * i));
}

// Where a section's header and contents are, read straight from the bytes (independently of
// the loader), to aim mutations.
struct RawSection {
    size_t header = 0;  // offset of its section header
    std::string name;
    uint32_t type = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    uint32_t link = 0;
    uint32_t info = 0;
};

inline std::vector<RawSection> raw_sections(const std::vector<uint8_t>& b) {
    std::vector<RawSection> out;
    const uint64_t shoff = get_le(b, 40, 8);
    const auto shnum = static_cast<size_t>(get_le(b, 60, 2));
    const auto shstrndx = static_cast<size_t>(get_le(b, 62, 2));
    const uint64_t names = get_le(b, shoff + shstrndx * 64 + 24, 8);
    for (size_t i = 0; i < shnum; ++i) {
        RawSection s;
        s.header = shoff + i * 64;
        s.name = reinterpret_cast<const char*>(b.data() + names + get_le(b, s.header, 4));
        s.type = static_cast<uint32_t>(get_le(b, s.header + 4, 4));
        s.offset = get_le(b, s.header + 24, 8);
        s.size = get_le(b, s.header + 32, 8);
        s.link = static_cast<uint32_t>(get_le(b, s.header + 40, 4));
        s.info = static_cast<uint32_t>(get_le(b, s.header + 44, 4));
        out.push_back(s);
    }
    return out;
}

inline RawSection raw_section(const std::vector<uint8_t>& b, const std::string& name) {
    for (const auto& s : raw_sections(b)) {
        if (s.name == name) return s;
    }
    ADD_FAILURE() << "no section " << name;
    return {};
}

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace xbpf::test
