// Fixes nr_cpus for the whole test program before any map is created, so per-CPU layouts do not
// depend on the machine.
#include "shared_map_test_util.hpp"

namespace {
const bool kCpusSet = xbpf::set_nr_cpus(xbpf::test::kTestCpus).ok();
}  // namespace

TEST(SharedMapCpus, NrCpusIsTheTestsOwn) {
    ASSERT_TRUE(kCpusSet);
    EXPECT_EQ(xbpf::nr_cpus(), xbpf::test::kTestCpus);
}
