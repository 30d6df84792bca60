// Clocks, random numbers and CPU identity.
#include <linux/bpf.h>

#include <ctime>

#include "runtime/helpers/implementations.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/map.hpp"

namespace xbpf {

namespace helpers {
namespace {

uint64_t clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t ktime_get_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return clock_ns(CLOCK_MONOTONIC);
}
uint64_t ktime_get_boot_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return clock_ns(CLOCK_BOOTTIME);
}
uint64_t ktime_get_coarse_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return clock_ns(CLOCK_MONOTONIC_COARSE);
}
uint64_t ktime_get_tai_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return clock_ns(CLOCK_TAI);
}

// User space has no kernel tick: xbpf's jiffies count milliseconds since boot (HZ = 1000).
uint64_t jiffies64(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return clock_ns(CLOCK_BOOTTIME) / 1'000'000u;
}

// splitmix64: small, fast and good enough for the statistical uses programs make of
// get_prandom_u32 (sampling, load balancing); each thread has its own state.
constexpr uint64_t kDefaultSeed = 0x9e3779b97f4a7c15ull;
thread_local uint64_t prandom_state = kDefaultSeed;

uint64_t get_prandom_u32(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    uint64_t z = (prandom_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

uint64_t get_smp_processor_id(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return current_cpu();
}

// One NUMA node: xbpf does not place memory by node.
uint64_t get_numa_node_id(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return 0;
}

}  // namespace

void add_time_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_ktime_get_ns, ktime_get_ns});
    out.push_back({BPF_FUNC_ktime_get_boot_ns, ktime_get_boot_ns});
    out.push_back({BPF_FUNC_ktime_get_coarse_ns, ktime_get_coarse_ns});
    out.push_back({BPF_FUNC_ktime_get_tai_ns, ktime_get_tai_ns});
    out.push_back({BPF_FUNC_jiffies64, jiffies64});
    out.push_back({BPF_FUNC_get_prandom_u32, get_prandom_u32});
    out.push_back({BPF_FUNC_get_smp_processor_id, get_smp_processor_id});
    out.push_back({BPF_FUNC_get_numa_node_id, get_numa_node_id});
}

}  // namespace helpers

void seed_prandom(uint64_t seed) {
    helpers::prandom_state = seed;
}

}  // namespace xbpf
