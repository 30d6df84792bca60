// Fixes nr_cpus for the whole test program before any map is created, so per-CPU layouts do not
// depend on the machine. A copy of this program started by a test with XBPF_TEST_CPUS set runs
// with that many slots instead (other_cpu_count_test.cpp).
#include <cstdlib>

#include "shared_map_test_util.hpp"

namespace {
uint32_t wanted_cpus() {
    const char* env = std::getenv("XBPF_TEST_CPUS");
    return env != nullptr ? static_cast<uint32_t>(std::atoi(env)) : xbpf::test::kTestCpus;
}
const uint32_t kCpus = wanted_cpus();
const bool kCpusSet = xbpf::set_nr_cpus(kCpus).ok();
}  // namespace

TEST(SharedMapCpus, NrCpusIsTheTestsOwn) {
    ASSERT_TRUE(kCpusSet);
    EXPECT_EQ(xbpf::nr_cpus(), kCpus);
}
