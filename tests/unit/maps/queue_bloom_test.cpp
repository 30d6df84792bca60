// Queue, stack and bloom filter semantics.
#include "map_test_util.hpp"

namespace xbpf {
namespace {

TEST(QueueMap, FifoAndOverwrite) {
    auto map = test::make_map(MapType::Queue, 0, 4, 3);
    uint32_t v = 0;
    EXPECT_EQ(map->pop(&v), -ENOENT);
    EXPECT_EQ(map->peek(&v), -ENOENT);
    for (uint32_t i = 1; i <= 3; ++i)
        ASSERT_EQ(map->push(&i, 0), 0);
    uint32_t four = 4;
    EXPECT_EQ(map->push(&four, 0), -E2BIG);
    EXPECT_EQ(map->push(&four, update_flags::kNoExist), -EINVAL);
    EXPECT_EQ(map->push(&four, update_flags::kExist), 0);  // drops the oldest (1)
    EXPECT_EQ(map->peek(&v), 0);
    EXPECT_EQ(v, 2u);
    for (uint32_t want : {2u, 3u, 4u}) {
        ASSERT_EQ(map->pop(&v), 0);
        EXPECT_EQ(v, want);
    }
    EXPECT_EQ(map->pop(&v), -ENOENT);
    // Host side: update pushes, lookup peeks, lookup_and_delete pops.
    uint32_t x = 9;
    EXPECT_EQ(map->update_elem(nullptr, &x), 0);
    EXPECT_EQ(map->lookup_elem(nullptr, &v), 0);
    EXPECT_EQ(v, 9u);
    EXPECT_EQ(map->lookup_and_delete_elem(nullptr, &v), 0);
    EXPECT_EQ(map->lookup_and_delete_elem(nullptr, &v), -ENOENT);
    EXPECT_EQ(map->delete_elem(nullptr), -EINVAL);
    uint32_t next;
    EXPECT_EQ(map->get_next_key(nullptr, &next), -EINVAL);
}

TEST(StackMap, LifoAndOverwrite) {
    auto map = test::make_map(MapType::Stack, 0, 8, 2);
    uint64_t a = 1, b = 2, c = 3, v = 0;
    ASSERT_EQ(map->push(&a, 0), 0);
    ASSERT_EQ(map->push(&b, 0), 0);
    EXPECT_EQ(map->push(&c, 0), -E2BIG);
    ASSERT_EQ(map->push(&c, update_flags::kExist), 0);  // drops the oldest (1)
    ASSERT_EQ(map->peek(&v), 0);
    EXPECT_EQ(v, 3u);
    ASSERT_EQ(map->pop(&v), 0);
    EXPECT_EQ(v, 3u);
    ASSERT_EQ(map->pop(&v), 0);
    EXPECT_EQ(v, 2u);
    EXPECT_EQ(map->pop(&v), -ENOENT);
}

TEST(BloomFilter, NoFalseNegatives) {
    MapSpec s = test::spec_of(MapType::BloomFilter, 0, 8, 1000);
    s.map_extra = 3;
    auto map = test::make_map(s);
    for (uint64_t i = 0; i < 1000; ++i)
        ASSERT_EQ(map->push(&i, 0), 0);
    for (uint64_t i = 0; i < 1000; ++i)
        EXPECT_EQ(map->peek(&i), 0);
    uint32_t false_positives = 0;
    for (uint64_t i = 1000000; i < 1010000; ++i)
        false_positives += map->peek(&i) == 0;
    EXPECT_LT(false_positives, 2000u);  // a working filter, not an always-yes
    uint64_t x = 5;
    EXPECT_EQ(map->push(&x, update_flags::kNoExist), -EINVAL);
    EXPECT_EQ(map->pop(&x), -EOPNOTSUPP);
    // Host: update adds, lookup tests the value given.
    uint64_t y = 424242;
    ASSERT_EQ(map->update_elem(nullptr, &y), 0);
    EXPECT_EQ(map->lookup_elem(nullptr, &y), 0);
    EXPECT_EQ(map->delete_elem(nullptr), -EOPNOTSUPP);
    uint32_t next;
    EXPECT_EQ(map->get_next_key(nullptr, &next), -EOPNOTSUPP);
}

TEST(BloomFilter, EmptyFilterSaysAbsent) {
    auto map = test::make_map(MapType::BloomFilter, 0, 4, 10);
    uint32_t v = 7;
    EXPECT_EQ(map->peek(&v), -ENOENT);
}

}  // namespace
}  // namespace xbpf
