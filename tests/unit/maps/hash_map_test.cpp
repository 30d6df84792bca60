// Hash map family semantics from the host and program sides.
#include <set>

#include "map_test_util.hpp"

namespace xbpf {
namespace {

using test::make_map;
using test::read_as;

TEST(HashMap, UpdateFlagsAndErrors) {
    auto map = make_map(MapType::Hash, 4, 8, 2);
    uint32_t k1 = 1, k2 = 2, k3 = 3;
    uint64_t v = 10;
    EXPECT_EQ(map->lookup(&k1), nullptr);
    EXPECT_EQ(map->update(&k1, &v, update_flags::kExist), -ENOENT);
    EXPECT_EQ(map->update(&k1, &v, update_flags::kNoExist), 0);
    EXPECT_EQ(map->update(&k1, &v, update_flags::kNoExist), -EEXIST);
    v = 11;
    EXPECT_EQ(map->update(&k1, &v, update_flags::kExist), 0);
    EXPECT_EQ(read_as<uint64_t>(map->lookup(&k1)), 11u);
    EXPECT_EQ(map->update(&k2, &v, 0), 0);
    EXPECT_EQ(map->update(&k3, &v, 0), -E2BIG);  // full
    EXPECT_EQ(map->update(&k2, &v, 0), 0);       // replacing needs no room
    EXPECT_EQ(map->update(&k3, &v, 5), -EINVAL);
    EXPECT_EQ(map->erase(&k3), -ENOENT);
    EXPECT_EQ(map->erase(&k2), 0);
    EXPECT_EQ(map->update(&k3, &v, 0), 0);

    uint64_t out = 0;
    EXPECT_EQ(map->lookup_elem(&k1, &out), 0);
    EXPECT_EQ(out, 11u);
    EXPECT_EQ(map->lookup_elem(&k2, &out), -ENOENT);
    EXPECT_EQ(map->delete_elem(&k2), -ENOENT);
    EXPECT_EQ(map->lookup_and_delete_elem(&k1, &out), 0);
    EXPECT_EQ(out, 11u);
    EXPECT_EQ(map->lookup_elem(&k1, &out), -ENOENT);
    EXPECT_EQ(map->lookup_and_delete_elem(&k1, &out), -ENOENT);
}

TEST(HashMap, OddKeyAndValueSizes) {
    auto map = make_map(MapType::Hash, 13, 5, 64, map_flags::kNoPrealloc);
    for (uint8_t i = 0; i < 64; ++i) {
        uint8_t key[13] = {};
        key[12] = i;
        key[0] = 0xab;
        uint8_t value[5] = {i, i, i, i, static_cast<uint8_t>(i + 1)};
        ASSERT_EQ(map->update_elem(key, value), 0);
    }
    for (uint8_t i = 0; i < 64; ++i) {
        uint8_t key[13] = {};
        key[12] = i;
        key[0] = 0xab;
        auto* v = static_cast<uint8_t*>(map->lookup(key));
        ASSERT_NE(v, nullptr);
        EXPECT_EQ(v[4], i + 1);
    }
    uint8_t missing[13] = {};
    EXPECT_EQ(map->lookup(missing), nullptr);
}

TEST(HashMap, GetNextKeyVisitsEveryKeyOnce) {
    auto map = make_map(MapType::Hash, 4, 4, 1000);
    for (uint32_t k = 0; k < 1000; ++k)
        ASSERT_EQ(map->update_elem(&k, &k), 0);
    std::set<uint32_t> seen;
    uint32_t key = 0, next = 0;
    const void* prev = nullptr;
    while (map->get_next_key(prev, &next) == 0) {
        EXPECT_TRUE(seen.insert(next).second) << "key " << next << " visited twice";
        key = next;
        prev = &key;
    }
    EXPECT_EQ(seen.size(), 1000u);
    // A key that is not in the map restarts at the first key.
    uint32_t absent = 5000, first = 0, again = 0;
    ASSERT_EQ(map->get_next_key(nullptr, &first), 0);
    ASSERT_EQ(map->get_next_key(&absent, &again), 0);
    EXPECT_EQ(first, again);
}

TEST(HashMap, GetNextKeyWhileOtherKeysAreDeleted) {
    auto map = make_map(MapType::Hash, 4, 4, 2000);
    for (uint32_t k = 0; k < 2000; ++k)
        ASSERT_EQ(map->update_elem(&k, &k), 0);
    // Odd keys stay; even keys are deleted as the walk goes. Every odd key is seen once.
    std::set<uint32_t> seen;
    uint32_t key = 0, next = 0;
    const void* prev = nullptr;
    uint32_t to_delete = 0;
    while (map->get_next_key(prev, &next) == 0) {
        if (next % 2 == 1) {
            EXPECT_TRUE(seen.insert(next).second) << next;
        }
        // Delete a few other even keys (never the one the walk stands on).
        for (int i = 0; i < 2 && to_delete < 2000; ++i, to_delete += 2) {
            if (to_delete != next) map->delete_elem(&to_delete);
        }
        key = next;
        prev = &key;
    }
    for (uint32_t k = 1; k < 2000; k += 2)
        EXPECT_TRUE(seen.count(k)) << k;
}

TEST(HashMap, BatchOperations) {
    auto map = make_map(MapType::Hash, 4, 8, 100);
    std::vector<uint32_t> keys(100);
    std::vector<uint64_t> values(100);
    for (uint32_t i = 0; i < 100; ++i) {
        keys[i] = i * 3;
        values[i] = i * 7;
    }
    uint32_t count = 100;
    ASSERT_EQ(map->update_batch(keys.data(), values.data(), count), 0);
    EXPECT_EQ(count, 100u);
    EXPECT_EQ(map->batch_token_size(), 4u);

    // Walk in chunks of 7; everything comes back once, ending with -ENOENT.
    std::set<uint32_t> seen;
    uint32_t token = 0;
    const void* in = nullptr;
    int rc = 0;
    do {
        uint32_t out_keys[7];
        uint64_t out_values[7];
        count = 7;
        rc = map->lookup_batch(in, &token, out_keys, out_values, count);
        ASSERT_TRUE(rc == 0 || rc == -ENOENT) << rc;
        for (uint32_t i = 0; i < count; ++i) {
            EXPECT_EQ(out_values[i], out_keys[i] / 3 * 7);
            EXPECT_TRUE(seen.insert(out_keys[i]).second);
        }
        in = &token;
    } while (rc == 0);
    EXPECT_EQ(seen.size(), 100u);

    // Delete a batch of keys; a missing key stops it.
    count = 10;
    ASSERT_EQ(map->delete_batch(keys.data(), count), 0);
    count = 2;
    EXPECT_EQ(map->delete_batch(keys.data(), count), -ENOENT);
    EXPECT_EQ(count, 0u);

    // Lookup-and-delete everything left.
    std::vector<uint32_t> out_keys(100);
    std::vector<uint64_t> out_values(100);
    count = 100;
    EXPECT_EQ(
        map->lookup_and_delete_batch(nullptr, &token, out_keys.data(), out_values.data(), count),
        -ENOENT);
    EXPECT_EQ(count, 90u);
    uint32_t first;
    EXPECT_EQ(map->get_next_key(nullptr, &first), -ENOENT);
}

TEST(HashMap, BatchLookupSaysNoSpaceWhenABucketDoesNotFit) {
    // Two keys in one bucket of a 2-bucket table, fetched one at a time.
    auto map = make_map(MapType::Hash, 4, 4, 2, map_flags::kZeroSeed);
    uint32_t a = 0, v = 0;
    ASSERT_EQ(map->update_elem(&a, &v), 0);
    bool found = false;
    for (uint32_t b = 1; b < 64 && !found; ++b) {
        ASSERT_EQ(map->update_elem(&b, &v), 0);
        uint32_t keys[1], values[1], token, count = 1;
        int rc = map->lookup_batch(nullptr, &token, keys, values, count);
        if (rc == -ENOSPC) {
            found = true;
            EXPECT_EQ(count, 0u);
        } else {
            ASSERT_EQ(map->delete_elem(&b), 0);
        }
    }
    EXPECT_TRUE(found);
}

TEST(PercpuHash, ProgramSlotAndHostView) {
    auto map = make_map(MapType::PercpuHash, 4, 8, 16);
    uint32_t key = 5;
    uint64_t mine = 42;
    ASSERT_EQ(map->update(&key, &mine, 0), 0);  // new element: other slots zero
    const uint32_t me = current_cpu();
    std::vector<uint64_t> all(test::kTestCpus);
    ASSERT_EQ(map->host_value_size(), test::kTestCpus * 8);
    ASSERT_EQ(map->lookup_elem(&key, all.data()), 0);
    for (uint32_t cpu = 0; cpu < test::kTestCpus; ++cpu) {
        EXPECT_EQ(all[cpu], cpu == me ? 42u : 0u);
    }
    for (uint32_t cpu = 0; cpu < test::kTestCpus; ++cpu)
        all[cpu] = cpu * 10;
    ASSERT_EQ(map->update_elem(&key, all.data()), 0);
    EXPECT_EQ(read_as<uint64_t>(map->lookup(&key)), me * 10u);
    EXPECT_EQ(read_as<uint64_t>(map->lookup_percpu(&key, 3)), 30u);
    EXPECT_EQ(map->update(&key, &mine, update_flags::kNoExist), -EEXIST);
    uint32_t other = 6;
    EXPECT_EQ(map->update(&other, &mine, update_flags::kExist), -ENOENT);
    std::vector<uint64_t> taken(test::kTestCpus);
    ASSERT_EQ(map->lookup_and_delete_elem(&key, taken.data()), 0);
    EXPECT_EQ(taken[3], 30u);
    EXPECT_EQ(map->lookup(&key), nullptr);
}

TEST(LruHash, EvictsLeastRecentlyUsedWhenFull) {
    auto map = make_map(MapType::LruHash, 4, 4, 100);
    for (uint32_t k = 0; k < 100; ++k)
        ASSERT_EQ(map->update_elem(&k, &k), 0);
    for (uint32_t k = 0; k < 50; ++k)
        ASSERT_NE(map->lookup(&k), nullptr);  // recently used
    for (uint32_t k = 100; k < 150; ++k)
        ASSERT_EQ(map->update_elem(&k, &k), 0);  // no E2BIG
    uint32_t present = 0;
    for (uint32_t k = 0; k < 50; ++k)
        present += map->lookup(&k) != nullptr;
    EXPECT_EQ(present, 50u) << "recently used keys were evicted";
    uint32_t old_present = 0;
    for (uint32_t k = 50; k < 100; ++k)
        old_present += map->lookup(&k) != nullptr;
    EXPECT_EQ(old_present, 0u);
    for (uint32_t k = 100; k < 150; ++k)
        EXPECT_NE(map->lookup(&k), nullptr) << k;
    uint32_t n = 0, key, *prev = nullptr;
    while (map->get_next_key(prev, &key) == 0) {
        ++n;
        prev = &key;
    }
    EXPECT_EQ(n, 100u);
}

TEST(LruPercpuHash, WorksAsPercpuAndEvicts) {
    auto map = make_map(MapType::LruPercpuHash, 4, 4, 8, map_flags::kNoCommonLru);
    for (uint32_t k = 0; k < 32; ++k) {
        uint32_t v = k;
        ASSERT_EQ(map->update(&k, &v, 0), 0);
    }
    uint32_t k = 31;
    ASSERT_NE(map->lookup(&k), nullptr);
    EXPECT_EQ(read_as<uint32_t>(map->lookup(&k)), 31u);
    EXPECT_EQ(map->host_value_size(), test::kTestCpus * 8);
}

}  // namespace
}  // namespace xbpf

namespace xbpf {
namespace {

TEST(HashMap, FrozenAndReadOnlyMapsRefuseHostWrites) {
    auto map = test::make_map(MapType::Hash, 4, 4, 8);
    uint32_t k = 1, v = 2, count = 1, token = 0;
    ASSERT_EQ(map->update_elem(&k, &v), 0);
    ASSERT_EQ(map->freeze(), 0);
    EXPECT_EQ(map->update_elem(&k, &v), -EPERM);
    EXPECT_EQ(map->delete_elem(&k), -EPERM);
    EXPECT_EQ(map->lookup_and_delete_elem(&k, &v), -EPERM);
    EXPECT_EQ(map->update_batch(&k, &v, count), -EPERM);
    EXPECT_EQ(map->delete_batch(&k, count), -EPERM);
    EXPECT_EQ(map->lookup_and_delete_batch(nullptr, &token, &k, &v, count), -EPERM);
    EXPECT_EQ(map->lookup_elem(&k, &v), 0);
    EXPECT_EQ(map->update(&k, &v, 0), 0);  // programs may still write
}

TEST(HashMap, LargeMapWithoutPreallocIsCheapToCreate) {
    // 4M entries of 64-byte values: the pool is reserved, not committed, until used.
    auto map = test::make_map(MapType::Hash, 8, 64, 4u << 20, map_flags::kNoPrealloc);
    ASSERT_NE(map, nullptr);
    uint64_t k = 42;
    uint8_t v[64] = {7};
    ASSERT_EQ(map->update_elem(&k, v), 0);
    EXPECT_EQ(test::read_as<uint8_t>(map->lookup(&k)), 7);
}

}  // namespace
}  // namespace xbpf
