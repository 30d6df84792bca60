// Array and per-CPU array semantics, host and program side.
#include "map_test_util.hpp"

namespace xbpf {
namespace {

using test::make_map;
using test::read_as;

TEST(ArrayMap, LookupUpdateAndErrors) {
    auto map = make_map(MapType::Array, 4, 12, 4);
    uint32_t key = 2;
    uint8_t value[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    auto* slot = static_cast<uint8_t*>(map->lookup(&key));
    ASSERT_NE(slot, nullptr);
    EXPECT_EQ(slot[0], 0);  // zero-initialised
    EXPECT_EQ(reinterpret_cast<uintptr_t>(slot) % 8, 0u);
    EXPECT_EQ(map->update(&key, value, update_flags::kAny), 0);
    EXPECT_EQ(std::memcmp(slot, value, 12), 0);
    uint8_t out[12] = {};
    EXPECT_EQ(map->lookup_elem(&key, out), 0);
    EXPECT_EQ(std::memcmp(out, value, 12), 0);

    uint32_t far = 4;
    EXPECT_EQ(map->lookup(&far), nullptr);
    EXPECT_EQ(map->lookup_elem(&far, out), -ENOENT);
    EXPECT_EQ(map->update(&far, value, 0), -E2BIG);
    EXPECT_EQ(map->update_elem(&key, value, update_flags::kNoExist), -EEXIST);
    EXPECT_EQ(map->update_elem(&key, value, update_flags::kExist), 0);
    EXPECT_EQ(map->update_elem(&key, value, 3), -EINVAL);
    EXPECT_EQ(map->update_elem(&key, value, update_flags::kLock), -EINVAL);
    EXPECT_EQ(map->lookup_elem(&key, out, 1), -EINVAL);
    EXPECT_EQ(map->delete_elem(&key), -EINVAL);
    EXPECT_EQ(map->lookup_and_delete_elem(&key, out), -kENOTSUPP);
}

TEST(ArrayMap, GetNextKeyWalksIndexes) {
    auto map = make_map(MapType::Array, 4, 8, 3);
    uint32_t next = 99;
    EXPECT_EQ(map->get_next_key(nullptr, &next), 0);
    EXPECT_EQ(next, 0u);
    uint32_t key = 0;
    EXPECT_EQ(map->get_next_key(&key, &next), 0);
    EXPECT_EQ(next, 1u);
    key = 2;
    EXPECT_EQ(map->get_next_key(&key, &next), -ENOENT);
    key = 77;  // out of range: start again
    EXPECT_EQ(map->get_next_key(&key, &next), 0);
    EXPECT_EQ(next, 0u);
}

TEST(ArrayMap, PermissionsAndFreeze) {
    auto ro = make_map(MapType::Array, 4, 8, 1, map_flags::kRdonly);
    uint32_t key = 0;
    uint64_t v = 1;
    EXPECT_EQ(ro->update_elem(&key, &v), -EPERM);
    EXPECT_EQ(ro->lookup_elem(&key, &v), 0);
    EXPECT_EQ(ro->freeze(), -EPERM);
    EXPECT_EQ(ro->update(&key, &v, 0), 0);  // programs still may

    auto wo = make_map(MapType::Array, 4, 8, 1, map_flags::kWronly);
    EXPECT_EQ(wo->lookup_elem(&key, &v), -EPERM);
    uint32_t next;
    EXPECT_EQ(wo->get_next_key(nullptr, &next), -EPERM);
    EXPECT_EQ(wo->update_elem(&key, &v), 0);

    auto map = make_map(MapType::Array, 4, 8, 1, map_flags::kRdonlyProg);
    EXPECT_TRUE(map->read_only_for_programs());
    EXPECT_EQ(map->freeze(), 0);
    EXPECT_TRUE(map->frozen());
    EXPECT_EQ(map->freeze(), -EBUSY);
    EXPECT_EQ(map->update_elem(&key, &v), -EPERM);
    EXPECT_EQ(map->lookup_elem(&key, &v), 0);
}

TEST(ArrayMap, MmapableValuesArePageAlignedAndContiguous) {
    auto map = make_map(MapType::Array, 4, 12, 1000, map_flags::kMmapable);
    auto memory = map->mmapable_memory();
    ASSERT_FALSE(memory.empty());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(memory.data()) % map_page_size(), 0u);
    EXPECT_GE(memory.size(), 1000u * 16);
    EXPECT_EQ(memory.size() % map_page_size(), 0u);
    uint32_t key = 7;
    EXPECT_EQ(static_cast<std::byte*>(map->lookup(&key)), memory.data() + 7 * 16);
    EXPECT_TRUE(make_map(MapType::Array, 4, 8, 1)->mmapable_memory().empty());
}

TEST(ArrayMap, InitialValueFillsElementZero) {
    MapSpec s = test::spec_of(MapType::Array, 4, 8, 1, map_flags::kRdonlyProg);
    s.origin = MapOrigin::Rodata;
    s.initial_value = {1, 2, 3};
    auto map = test::make_map(s);
    uint32_t key = 0;
    uint8_t out[8];
    ASSERT_EQ(map->lookup_elem(&key, out), 0);
    EXPECT_EQ(out[0], 1);
    EXPECT_EQ(out[2], 3);
    EXPECT_EQ(out[3], 0);
}

TEST(PercpuArray, ProgramSeesItsSlotHostSeesAll) {
    auto map = make_map(MapType::PercpuArray, 4, 4, 2);
    EXPECT_TRUE(map->is_percpu());
    ASSERT_EQ(map->host_value_size(), test::kTestCpus * 8);  // each value rounded up to 8
    uint32_t key = 1;
    std::vector<uint8_t> all(map->host_value_size());
    for (uint32_t cpu = 0; cpu < test::kTestCpus; ++cpu) {
        uint32_t v = 100 + cpu;
        std::memcpy(&all[cpu * 8], &v, 4);
    }
    ASSERT_EQ(map->update_elem(&key, all.data()), 0);
    const uint32_t me = current_cpu();
    EXPECT_EQ(read_as<uint32_t>(map->lookup(&key)), 100 + me);
    for (uint32_t cpu = 0; cpu < test::kTestCpus; ++cpu) {
        EXPECT_EQ(read_as<uint32_t>(map->lookup_percpu(&key, cpu)), 100 + cpu);
    }
    EXPECT_EQ(map->lookup_percpu(&key, test::kTestCpus), nullptr);

    uint32_t mine = 7;
    ASSERT_EQ(map->update(&key, &mine, 0), 0);  // program: own slot only
    std::vector<uint8_t> out(map->host_value_size());
    ASSERT_EQ(map->lookup_elem(&key, out.data()), 0);
    for (uint32_t cpu = 0; cpu < test::kTestCpus; ++cpu) {
        EXPECT_EQ(read_as<uint32_t>(&out[cpu * 8]), cpu == me ? 7 : 100 + cpu);
    }
}

TEST(ArrayMap, BatchLookupAndUpdate) {
    auto map = make_map(MapType::Array, 4, 8, 5);
    uint32_t keys[5] = {0, 1, 2, 3, 4};
    uint64_t values[5] = {10, 11, 12, 13, 14};
    uint32_t count = 5;
    ASSERT_EQ(map->update_batch(keys, values, count), 0);
    EXPECT_EQ(count, 5u);

    uint32_t out_keys[5];
    uint64_t out_values[5];
    uint32_t token = 0;
    count = 3;
    ASSERT_EQ(map->lookup_batch(nullptr, &token, out_keys, out_values, count), 0);
    ASSERT_EQ(count, 3u);
    EXPECT_EQ(out_keys[2], 2u);
    EXPECT_EQ(out_values[2], 12u);
    count = 3;
    EXPECT_EQ(map->lookup_batch(&token, &token, out_keys, out_values, count), -ENOENT);
    ASSERT_EQ(count, 2u);
    EXPECT_EQ(out_keys[1], 4u);
    EXPECT_EQ(out_values[1], 14u);
    count = 1;
    EXPECT_EQ(map->delete_batch(keys, count), -kENOTSUPP);
    EXPECT_EQ(map->lookup_and_delete_batch(nullptr, &token, out_keys, out_values, count),
              -kENOTSUPP);
    count = 1;
    EXPECT_EQ(map->lookup_batch(nullptr, &token, out_keys, out_values, count, 0, 1), -EINVAL);
}

}  // namespace
}  // namespace xbpf
