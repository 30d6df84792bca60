// Helpers shared by the map tests.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "xbpf/map.hpp"

namespace xbpf::test {

// nr_cpus used by every map test (set once, before any map exists; see cpu_setup.cpp).
inline constexpr uint32_t kTestCpus = 4;

inline MapSpec spec_of(MapType type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                       uint32_t flags = 0) {
    MapSpec s;
    s.name = "test";
    s.type = type;
    s.key_size = key_size;
    s.value_size = value_size;
    s.max_entries = max_entries;
    s.flags = flags;
    return s;
}

inline std::shared_ptr<Map> make_map(const MapSpec& spec) {
    auto map = create_map(spec);
    EXPECT_TRUE(map.ok()) << (map.ok() ? "" : map.error().to_string());
    return map.ok() ? *map : nullptr;
}

inline std::shared_ptr<Map> make_map(MapType type, uint32_t key_size, uint32_t value_size,
                                     uint32_t max_entries, uint32_t flags = 0) {
    return make_map(spec_of(type, key_size, value_size, max_entries, flags));
}

template <typename T>
T read_as(const void* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

}  // namespace xbpf::test
