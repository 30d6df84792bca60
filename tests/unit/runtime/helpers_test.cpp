// Helper semantics and Linux's error returns, calling each helper as an engine would.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "runtime/progtypes/native_contexts.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/map.hpp"
#include "xbpf/map_ringbuf.hpp"

namespace xbpf {
namespace {

uint64_t call(int32_t id, uint64_t r1 = 0, uint64_t r2 = 0, uint64_t r3 = 0, uint64_t r4 = 0,
              uint64_t r5 = 0) {
    RunContext ctx;
    HelperFn fn = HelperCatalog::linux_helpers().table().get(id);
    EXPECT_NE(fn, nullptr) << "helper " << id << " is not implemented";
    return fn(r1, r2, r3, r4, r5, ctx);
}
template <typename T>
uint64_t addr(T* p) {
    return reinterpret_cast<uintptr_t>(p);
}
int64_t s(uint64_t v) {
    return static_cast<int64_t>(v);
}

std::shared_ptr<Map> make_map(MapType type, uint32_t key, uint32_t value, uint32_t entries) {
    MapSpec spec;
    spec.name = "test";
    spec.type = type;
    spec.key_size = key;
    spec.value_size = value;
    spec.max_entries = entries;
    auto map = create_map(spec);
    EXPECT_TRUE(map) << map.error().to_string();
    return *map;
}

TEST(MapHelpers, LookupUpdateDeleteAsLinux) {
    auto map = make_map(MapType::Hash, 4, 8, 4);
    uint32_t key = 7;
    uint64_t value = 99;
    EXPECT_EQ(call(BPF_FUNC_map_lookup_elem, addr(map.get()), addr(&key)), 0u);
    EXPECT_EQ(call(BPF_FUNC_map_update_elem, addr(map.get()), addr(&key), addr(&value), BPF_ANY),
              0u);
    EXPECT_EQ(
        s(call(BPF_FUNC_map_update_elem, addr(map.get()), addr(&key), addr(&value), BPF_NOEXIST)),
        -EEXIST);
    auto* found =
        reinterpret_cast<uint64_t*>(call(BPF_FUNC_map_lookup_elem, addr(map.get()), addr(&key)));
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(*found, 99u);
    EXPECT_EQ(call(BPF_FUNC_map_delete_elem, addr(map.get()), addr(&key)), 0u);
    EXPECT_EQ(s(call(BPF_FUNC_map_delete_elem, addr(map.get()), addr(&key))), -ENOENT);
}

TEST(MapHelpers, LookupDeclaresTheValueToCheckedRuns) {
    auto map = make_map(MapType::Array, 4, 16, 2);
    uint32_t key = 1;
    std::vector<MemoryRegion> regions;
    RunContext ctx;
    ctx.dynamic_regions = &regions;
    HelperFn lookup = HelperCatalog::linux_helpers().table().get(BPF_FUNC_map_lookup_elem);
    const uint64_t value = lookup(addr(map.get()), addr(&key), 0, 0, 0, ctx);
    ASSERT_EQ(regions.size(), 1u);
    EXPECT_EQ(regions[0].begin, value);
    EXPECT_EQ(regions[0].size, 16u);
    EXPECT_TRUE(regions[0].writable);
}

TEST(MapHelpers, QueuePushPopPeek) {
    auto queue = make_map(MapType::Queue, 0, 4, 2);
    uint32_t a = 1, b = 2, c = 3, out = 0;
    EXPECT_EQ(call(BPF_FUNC_map_push_elem, addr(queue.get()), addr(&a), 0), 0u);
    EXPECT_EQ(call(BPF_FUNC_map_push_elem, addr(queue.get()), addr(&b), 0), 0u);
    EXPECT_EQ(s(call(BPF_FUNC_map_push_elem, addr(queue.get()), addr(&c), 0)), -E2BIG);
    EXPECT_EQ(call(BPF_FUNC_map_peek_elem, addr(queue.get()), addr(&out)), 0u);
    EXPECT_EQ(out, 1u);
    EXPECT_EQ(call(BPF_FUNC_map_pop_elem, addr(queue.get()), addr(&out)), 0u);
    EXPECT_EQ(call(BPF_FUNC_map_pop_elem, addr(queue.get()), addr(&out)), 0u);
    EXPECT_EQ(out, 2u);
    EXPECT_EQ(s(call(BPF_FUNC_map_pop_elem, addr(queue.get()), addr(&out))), -ENOENT);
}

TEST(MapHelpers, SpinLockExcludesOtherHolders) {
    uint32_t lock = 0;
    EXPECT_EQ(call(BPF_FUNC_spin_lock, addr(&lock)), 0u);
    EXPECT_EQ(lock, 1u);
    EXPECT_EQ(call(BPF_FUNC_spin_unlock, addr(&lock)), 0u);
    EXPECT_EQ(lock, 0u);
}

TEST(RingbufHelpers, ReserveSubmitAndOutputReachTheConsumer) {
    auto ring = make_map(MapType::Ringbuf, 0, 0, 4096);
    auto* record =
        reinterpret_cast<uint32_t*>(call(BPF_FUNC_ringbuf_reserve, addr(ring.get()), 8, 0));
    ASSERT_NE(record, nullptr);
    record[0] = 11;
    record[1] = 22;
    call(BPF_FUNC_ringbuf_submit, addr(record), 0);
    EXPECT_EQ(call(BPF_FUNC_ringbuf_reserve, addr(ring.get()), 8, 1), 0u);  // bad flags
    uint32_t more = 33;
    EXPECT_EQ(call(BPF_FUNC_ringbuf_output, addr(ring.get()), addr(&more), 4, 0), 0u);
    EXPECT_EQ(s(call(BPF_FUNC_ringbuf_output, addr(ring.get()), addr(&more), 4, 8)), -EINVAL);
    EXPECT_GT(call(BPF_FUNC_ringbuf_query, addr(ring.get()), BPF_RB_AVAIL_DATA), 0u);
    std::vector<std::vector<uint8_t>> seen;
    RingBufferConsumer consumer;
    ASSERT_TRUE(consumer.add(ring, [&](const void* data, size_t size) {
        const auto* b = static_cast<const uint8_t*>(data);
        seen.emplace_back(b, b + size);
        return 0;
    }));
    EXPECT_EQ(consumer.consume(), 2);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].size(), 8u);
    EXPECT_EQ(seen[1].size(), 4u);
}

TEST(TimeHelpers, ClocksAdvanceAndRandomIsSeedable) {
    const uint64_t a = call(BPF_FUNC_ktime_get_ns);
    const uint64_t b = call(BPF_FUNC_ktime_get_ns);
    EXPECT_LE(a, b);
    EXPECT_GT(call(BPF_FUNC_ktime_get_boot_ns), 0u);
    EXPECT_GT(call(BPF_FUNC_ktime_get_coarse_ns), 0u);
    EXPECT_GT(call(BPF_FUNC_jiffies64), 0u);
    seed_prandom(42);
    const uint64_t r1 = call(BPF_FUNC_get_prandom_u32);
    const uint64_t r2 = call(BPF_FUNC_get_prandom_u32);
    seed_prandom(42);
    EXPECT_EQ(call(BPF_FUNC_get_prandom_u32), r1);
    EXPECT_EQ(call(BPF_FUNC_get_prandom_u32), r2);
    EXPECT_LE(r1, 0xffffffffu);
    EXPECT_LT(call(BPF_FUNC_get_smp_processor_id), nr_cpus());
    EXPECT_EQ(call(BPF_FUNC_get_numa_node_id), 0u);
}

TEST(ProcessHelpers, CurrentTaskIsTheCallingThread) {
    const uint64_t pid_tgid = call(BPF_FUNC_get_current_pid_tgid);
    EXPECT_EQ(pid_tgid >> 32, static_cast<uint64_t>(getpid()));
    EXPECT_EQ(call(BPF_FUNC_get_current_uid_gid) & 0xffffffffu, getuid());
    char comm[16];
    std::memset(comm, 'x', sizeof comm);
    EXPECT_EQ(call(BPF_FUNC_get_current_comm, addr(comm), sizeof comm), 0u);
    EXPECT_LT(strnlen(comm, sizeof comm), sizeof comm);
}

TEST(PrintHelpers, TracePrintkFollowsLinuxFormatRules) {
    TraceLog::global().take();
    const char fmt[] = "pkt %d len %u x=%x %s";
    const char name[] = "eth0";
    EXPECT_EQ(s(call(BPF_FUNC_trace_printk, addr(fmt), sizeof fmt, static_cast<uint64_t>(-5), 60,
                     addr(name))),
              -EINVAL);  // four conversions, three arguments
    const char fmt3[] = "pkt %d len %u on %s";
    const uint64_t n = call(BPF_FUNC_trace_printk, addr(fmt3), sizeof fmt3,
                            static_cast<uint64_t>(-5), 60, addr(name));
    auto lines = TraceLog::global().take();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "pkt -5 len 60 on eth0");
    EXPECT_EQ(n, lines[0].size());
    const char fmt_ll[] = "%llx %5d|%-3c|%%";
    call(BPF_FUNC_trace_printk, addr(fmt_ll), sizeof fmt_ll, 0x123456789abcull, 42, 'z');
    const char bad[] = "%o";
    EXPECT_EQ(s(call(BPF_FUNC_trace_printk, addr(bad), sizeof bad, 1)), -EINVAL);
    const char unterminated[4] = {'a', 'b', 'c', 'd'};
    EXPECT_EQ(s(call(BPF_FUNC_trace_printk, addr(unterminated), 4)), -EINVAL);
    lines = TraceLog::global().take();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "123456789abc    42|z  |%");
}

TEST(PrintHelpers, StringArgumentsAreReadWithoutTrust) {
    TraceLog::global().take();
    const char fmt[] = "[%s] %pI4";
    const uint8_t ip[4] = {10, 0, 0, 1};
    call(BPF_FUNC_trace_printk, addr(fmt), sizeof fmt, 8, addr(ip));  // 8: an unmapped address
    auto lines = TraceLog::global().take();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "[] 10.0.0.1");
}

TEST(PrintHelpers, SnprintfWritesAndReturnsLengthPlusOne) {
    char out[8];
    const char fmt[] = "%d-%d";
    const uint64_t args[2] = {12345, 678};
    EXPECT_EQ(call(BPF_FUNC_snprintf, addr(out), sizeof out, addr(fmt), addr(args), 16), 10u);
    EXPECT_STREQ(out, "12345-6");
    EXPECT_EQ(s(call(BPF_FUNC_snprintf, addr(out), sizeof out, addr(fmt), addr(args), 12)),
              -EINVAL);
}

TEST(StringHelpers, StrtolAndStrtoulAsLinux) {
    int64_t result = 0;
    const char dec[] = "  -42abc";
    EXPECT_EQ(call(BPF_FUNC_strtol, addr(dec), sizeof dec, 0, addr(&result)), 5u);
    EXPECT_EQ(result, -42);
    const char hex[] = "0x1F";
    EXPECT_EQ(call(BPF_FUNC_strtol, addr(hex), 4, 0, addr(&result)), 4u);
    EXPECT_EQ(result, 31);
    EXPECT_EQ(call(BPF_FUNC_strtol, addr(hex), 4, 16, addr(&result)), 4u);
    const char oct[] = "017";
    EXPECT_EQ(call(BPF_FUNC_strtoul, addr(oct), 3, 0, addr(&result)), 3u);
    EXPECT_EQ(result, 15);
    EXPECT_EQ(s(call(BPF_FUNC_strtoul, addr(dec), sizeof dec, 10, addr(&result))), -EINVAL);
    const char none[] = "xyz";
    EXPECT_EQ(s(call(BPF_FUNC_strtol, addr(none), 3, 10, addr(&result))), -EINVAL);
    EXPECT_EQ(s(call(BPF_FUNC_strtol, addr(hex), 4, 7, addr(&result))), -EINVAL);
    const char big[] = "99999999999999999999999";
    EXPECT_EQ(s(call(BPF_FUNC_strtoul, addr(big), sizeof big - 1, 10, addr(&result))), -ERANGE);
    const char a[] = "abc", b[] = "abd";
    EXPECT_EQ(call(BPF_FUNC_strncmp, addr(a), 3, addr(b)), static_cast<uint64_t>(-1));
    EXPECT_EQ(call(BPF_FUNC_strncmp, addr(a), 2, addr(b)), 0u);
    EXPECT_EQ(call(BPF_FUNC_strncmp, addr(b), 3, addr(a)), 1u);
}

// RFC 1071 over a header whose checksum field is zero: the value to store.
uint16_t reference_checksum(const uint8_t* h, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 2)
        sum += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    const uint16_t host = static_cast<uint16_t>(~sum);
    return static_cast<uint16_t>(host >> 8 | host << 8);  // as stored: big-endian bytes
}

struct Ipv4Packet {
    uint8_t bytes[20] = {0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    progtypes::NativeSkb skb{};
    Ipv4Packet() {
        const uint16_t c = reference_checksum(bytes, 20);
        std::memcpy(bytes + 10, &c, 2);
        skb.data = bytes;
        skb.data_end = bytes + 20;
    }
    uint16_t checksum() const {
        uint16_t c;
        std::memcpy(&c, bytes + 10, 2);
        return c;
    }
    uint16_t expected() {
        uint8_t copy[20];
        std::memcpy(copy, bytes, 20);
        copy[10] = copy[11] = 0;
        return reference_checksum(copy, 20);
    }
};

TEST(ChecksumHelpers, L3ReplaceKeepsTheHeaderValid) {
    Ipv4Packet p;
    uint32_t old_addr, new_addr;
    std::memcpy(&old_addr, p.bytes + 12, 4);
    const uint8_t replacement[4] = {192, 168, 7, 9};
    std::memcpy(&new_addr, replacement, 4);
    std::memcpy(p.bytes + 12, replacement, 4);
    EXPECT_EQ(call(BPF_FUNC_l3_csum_replace, addr(&p.skb), 10, old_addr, new_addr, 4), 0u);
    EXPECT_EQ(p.checksum(), p.expected());
    EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, addr(&p.skb), 11, 0, 0, 4)), -EFAULT);  // odd
    EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, addr(&p.skb), 20, 0, 0, 4)), -EFAULT);  // beyond
    EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, addr(&p.skb), 10, 0, 0, 3)), -EINVAL);
    EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, addr(&p.skb), 10, 0, 0, 0x100)), -EINVAL);
}

TEST(ChecksumHelpers, CsumDiffFeedsReplaceByDiff) {
    Ipv4Packet p;
    EXPECT_EQ(s(call(BPF_FUNC_csum_diff, 0, 3, 0, 0, 0)), -EINVAL);
    EXPECT_EQ(s(call(BPF_FUNC_csum_diff, 0, 0, 0, 516, 0)), -EINVAL);
    uint8_t old_bytes[4], new_bytes[4] = {172, 16, 0, 5};
    std::memcpy(old_bytes, p.bytes + 16, 4);
    const uint64_t diff = call(BPF_FUNC_csum_diff, addr(old_bytes), 4, addr(new_bytes), 4, 0);
    std::memcpy(p.bytes + 16, new_bytes, 4);
    EXPECT_EQ(call(BPF_FUNC_l3_csum_replace, addr(&p.skb), 10, 0, diff, 0), 0u);
    EXPECT_EQ(p.checksum(), p.expected());
    EXPECT_EQ(s(call(BPF_FUNC_l3_csum_replace, addr(&p.skb), 10, 1, diff, 0)), -EINVAL);
}

TEST(ChecksumHelpers, L4ReplaceLeavesAZeroUdpChecksumAlone) {
    Ipv4Packet p;
    p.bytes[10] = p.bytes[11] = 0;
    EXPECT_EQ(call(BPF_FUNC_l4_csum_replace, addr(&p.skb), 10, 1, 2, BPF_F_MARK_MANGLED_0 | 2), 0u);
    EXPECT_EQ(p.checksum(), 0u);
    EXPECT_EQ(s(call(BPF_FUNC_l4_csum_replace, addr(&p.skb), 10, 1, 2, 1u << 12)), -EINVAL);
}

TEST(PacketHelpers, SkbLoadAndStoreBytesStayInThePacket) {
    Ipv4Packet p;
    uint8_t out[4] = {1, 1, 1, 1};
    EXPECT_EQ(call(BPF_FUNC_skb_load_bytes, addr(&p.skb), 12, addr(out), 4), 0u);
    EXPECT_EQ(out[0], 10);
    EXPECT_EQ(s(call(BPF_FUNC_skb_load_bytes, addr(&p.skb), 18, addr(out), 4)), -EFAULT);
    EXPECT_EQ(out[0], 0);  // zeroed on failure, as Linux does
    const uint8_t ttl = 1;
    EXPECT_EQ(call(BPF_FUNC_skb_store_bytes, addr(&p.skb), 8, addr(&ttl), 1, 0), 0u);
    EXPECT_EQ(p.bytes[8], 1);
    EXPECT_EQ(s(call(BPF_FUNC_skb_store_bytes, addr(&p.skb), 20, addr(&ttl), 1, 0)), -EFAULT);
    EXPECT_EQ(s(call(BPF_FUNC_skb_store_bytes, addr(&p.skb), 8, addr(&ttl), 1, 4)), -EINVAL);
}

}  // namespace
}  // namespace xbpf
