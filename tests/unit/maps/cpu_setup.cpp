// Fixes nr_cpus for the whole test program before any map is created, so per-CPU tests do not
// depend on the machine.
#include <algorithm>
#include <atomic>
#include <thread>

#include "map_test_util.hpp"

namespace {
const bool kCpusSet = [] {
    auto status = xbpf::set_nr_cpus(xbpf::test::kTestCpus);
    return status.ok();
}();
}  // namespace

TEST(MapCpus, NrCpusIsFixedOnceMapsExist) {
    ASSERT_TRUE(kCpusSet);
    EXPECT_EQ(xbpf::nr_cpus(), xbpf::test::kTestCpus);
    auto map = xbpf::test::make_map(xbpf::MapType::Array, 4, 8, 1);
    EXPECT_FALSE(xbpf::set_nr_cpus(xbpf::test::kTestCpus + 1).ok());
    EXPECT_TRUE(xbpf::set_nr_cpus(xbpf::test::kTestCpus).ok());
}

TEST(MapCpus, LiveThreadsGetDistinctSlots) {
    // Up to nr_cpus threads alive at once (this one included) never share a slot.
    constexpr uint32_t n = xbpf::test::kTestCpus;
    std::vector<uint32_t> slots(n);
    slots[0] = xbpf::current_cpu();
    std::atomic<uint32_t> arrived{1};
    std::vector<std::thread> threads;
    for (uint32_t i = 1; i < n; ++i) {
        threads.emplace_back([&, i] {
            slots[i] = xbpf::current_cpu();
            arrived.fetch_add(1);
            while (arrived.load() < n)
                std::this_thread::yield();
        });
    }
    for (auto& t : threads)
        t.join();
    std::sort(slots.begin(), slots.end());
    for (uint32_t i = 0; i < n; ++i)
        EXPECT_EQ(slots[i], i);
}

TEST(MapIds, IncreaseAndAreUnique) {
    auto a = xbpf::test::make_map(xbpf::MapType::Array, 4, 8, 1);
    auto b = xbpf::test::make_map(xbpf::MapType::Array, 4, 8, 1);
    EXPECT_GE(a->id(), 1u);
    EXPECT_GT(b->id(), a->id());
    EXPECT_EQ(a->object_id(), a->id());
}
