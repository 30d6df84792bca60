// A process with another nr_cpus than the map's creator: non-per-CPU maps are shared all the same
// (a hash table's free lists are the creator's, used modulo); per-CPU maps are refused. The test
// starts this test program again with XBPF_TEST_CPUS=2 and runs the helper test below in it.
#include <unistd.h>

#include <thread>
#include <vector>

#include "shared_map_test_util.hpp"

namespace xbpf {
namespace {

using test::make_shared;
using test::ScratchDir;
using test::spec_of;

constexpr uint32_t kOtherCpus = 2;
constexpr uint32_t kKeys = 1000;

// Runs in the copy started below: XBPF_TEST_MAP_DIR names the directory of the pinned maps.
TEST(SharedMapOtherCpus, HelperWorksOnTheParentsMaps) {
    const char* dir = std::getenv("XBPF_TEST_MAP_DIR");
    if (dir == nullptr) GTEST_SKIP() << "run by SharedMapOtherCpus.HashSharedPercpuRefused";
    ASSERT_EQ(nr_cpus(), kOtherCpus);
    auto hash = open_pinned_map(std::filesystem::path(dir) / "hash");
    ASSERT_TRUE(hash.ok()) << hash.error().to_string();
    // Three threads (more than this process's slots) insert and delete through the program side.
    std::vector<std::thread> threads;
    for (uint32_t t = 0; t < 3; ++t) {
        threads.emplace_back([&, t] {
            for (uint32_t k = kKeys + t; k < 2 * kKeys; k += 3) {
                const uint64_t v = k;
                EXPECT_EQ((*hash)->update(&k, &v, update_flags::kNoExist), 0);
                const uint32_t gone = k - kKeys;
                if (gone % 2 == 0) {
                    EXPECT_EQ((*hash)->erase(&gone), 0);
                }
            }
        });
    }
    for (auto& t : threads)
        t.join();
    int error = 0;
    auto percpu = open_pinned_map(std::filesystem::path(dir) / "percpu", &error);
    ASSERT_FALSE(percpu.ok());
    EXPECT_EQ(error, EINVAL);
    EXPECT_NE(percpu.error().to_string().find("laid out for 4 CPU slots; this process has 2"),
              std::string::npos)
        << percpu.error().to_string();
}

TEST(SharedMapOtherCpus, HashSharedPercpuRefused) {
    if (std::getenv("XBPF_TEST_MAP_DIR") != nullptr) GTEST_SKIP() << "the helper's own copy";
    ScratchDir dir;
    auto hash = make_shared(spec_of(MapType::Hash, 4, 8, 2 * kKeys), dir);
    auto percpu = make_shared(spec_of(MapType::PercpuArray, 4, 8, 1), dir);
    ASSERT_NE(hash, nullptr);
    ASSERT_NE(percpu, nullptr);
    for (uint32_t k = 0; k < kKeys; ++k) {
        const uint64_t v = k;
        ASSERT_EQ(hash->update_elem(&k, &v), 0);
    }
    ASSERT_TRUE(pin_map(*hash, dir / "hash").ok());
    ASSERT_TRUE(pin_map(*percpu, dir / "percpu").ok());

    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    const std::string dir_env = dir.path().string();
    const int code = test::in_child([&] {
        setenv("XBPF_TEST_CPUS", std::to_string(kOtherCpus).c_str(), 1);
        setenv("XBPF_TEST_MAP_DIR", dir_env.c_str(), 1);
        execl(self.c_str(), self.c_str(),
              "--gtest_filter=SharedMapOtherCpus.HelperWorksOnTheParentsMaps", "--gtest_brief=1",
              static_cast<char*>(nullptr));
        return 127;
    });
    ASSERT_EQ(code, 0) << "the helper process failed (its output is above)";
    for (uint32_t k = 0; k < 2 * kKeys; ++k) {
        uint64_t v = 0;
        const bool deleted = k < kKeys && k % 2 == 0;
        ASSERT_EQ(hash->lookup_elem(&k, &v), deleted ? -ENOENT : 0) << k;
        if (!deleted) {
            EXPECT_EQ(v, k);
        }
    }
}

}  // namespace
}  // namespace xbpf
