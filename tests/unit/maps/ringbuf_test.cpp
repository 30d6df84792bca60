// Ring buffer: Linux's record format byte for byte, wraparound through the double mapping,
// query flags, the consumer, wakeups and many producers.
#include <atomic>
#include <thread>

#include "map_test_util.hpp"
#include "xbpf/map_ringbuf.hpp"

namespace xbpf {
namespace {

std::shared_ptr<RingBufMap> ring(uint32_t size) {
    auto map = test::make_map(MapType::Ringbuf, 0, 0, size);
    return std::dynamic_pointer_cast<RingBufMap>(map);
}

const size_t kPage = map_page_size();

TEST(RingBuf, RecordFormatIsLinuxs) {
    auto rb = ring(4 * kPage);
    ASSERT_NE(rb, nullptr);
    auto region = rb->region();
    ASSERT_EQ(region.size(), 3 * kPage + 4 * kPage);
    const std::byte* data = region.data() + 3 * kPage;

    auto* p = static_cast<uint8_t*>(rb->reserve(5, 0));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<const std::byte*>(p), data + 8);
    uint32_t header[2];
    std::memcpy(header, data, 8);
    EXPECT_EQ(header[0], 5u | ringbuf::kBusyBit);
    EXPECT_EQ(header[1], 3u);  // pages from the region start: control, consumer, producer
    EXPECT_EQ(rb->query(ringbuf::kProdPos), 16u);  // 8-byte header + 5, rounded to 8
    EXPECT_EQ(rb->query(ringbuf::kConsPos), 0u);
    EXPECT_EQ(rb->query(ringbuf::kAvailData), 16u);
    EXPECT_EQ(rb->query(ringbuf::kRingSize), 4 * kPage);
    EXPECT_EQ(rb->query(99), 0u);
    std::memcpy(p, "hello", 5);
    RingBufMap::submit(p, 0);
    std::memcpy(header, data, 8);
    EXPECT_EQ(header[0], 5u);

    auto* q = rb->reserve(3, 0);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(static_cast<const std::byte*>(q), data + 16 + 8);
    RingBufMap::discard(q, 0);
    std::memcpy(header, data + 16, 8);
    EXPECT_EQ(header[0], 3u | ringbuf::kDiscardBit);

    ASSERT_EQ(rb->output("abc", 3, 0), 0);
    std::vector<std::string> seen;
    RingBufferConsumer consumer;
    ASSERT_TRUE(consumer
                    .add(rb,
                         [&](const void* d, size_t n) {
                             seen.emplace_back(static_cast<const char*>(d), n);
                             return 0;
                         })
                    .ok());
    EXPECT_EQ(consumer.consume(), 2);  // the discarded record is skipped
    EXPECT_EQ(seen, (std::vector<std::string>{"hello", "abc"}));
    EXPECT_EQ(rb->query(ringbuf::kConsPos), rb->query(ringbuf::kProdPos));
    // Consumer position sits on its own page, producer position on the next.
    uint64_t cons, prod;
    std::memcpy(&cons, region.data() + kPage, 8);
    std::memcpy(&prod, region.data() + 2 * kPage, 8);
    EXPECT_EQ(cons, 48u);
    EXPECT_EQ(prod, 48u);
}

TEST(RingBuf, ReserveLimitsAndFlags) {
    auto rb = ring(kPage);
    EXPECT_EQ(rb->reserve(8, 1), nullptr);      // flags must be 0
    EXPECT_EQ(rb->reserve(kPage, 0), nullptr);  // larger than the ring
    EXPECT_EQ(rb->output("x", 1, 4), -EINVAL);
    EXPECT_EQ(rb->output("x", 1, ringbuf::kNoWakeup | ringbuf::kForceWakeup), 0);
    // Fill: the ring holds less than its size (a full ring would look empty).
    std::vector<uint8_t> chunk(kPage / 2 - 8);
    EXPECT_EQ(rb->output(chunk.data(), chunk.size(), 0), 0);
    EXPECT_EQ(rb->output(chunk.data(), chunk.size(), 0), -EAGAIN);
    uint32_t key = 0;
    uint8_t value[8];
    EXPECT_EQ(rb->lookup_elem(&key, value), -kENOTSUPP);
    EXPECT_EQ(rb->update_elem(&key, value), -kENOTSUPP);
    EXPECT_EQ(rb->delete_elem(&key), -kENOTSUPP);
    EXPECT_EQ(rb->get_next_key(nullptr, &key), -kENOTSUPP);
}

TEST(RingBuf, RecordsWrapContiguously) {
    auto rb = ring(kPage);
    RingBufferConsumer consumer;
    uint64_t expected_seq = 0;
    ASSERT_TRUE(consumer
                    .add(rb,
                         [&](const void* d, size_t n) {
                             EXPECT_EQ(n, 1000u);
                             const auto* b = static_cast<const uint8_t*>(d);
                             uint64_t seq;
                             std::memcpy(&seq, b, 8);
                             EXPECT_EQ(seq, expected_seq++);
                             for (size_t i = 8; i < n; ++i) {
                                 if (b[i] != static_cast<uint8_t>(seq + i)) {
                                     ADD_FAILURE() << "record " << seq << " byte " << i;
                                     return -1;
                                 }
                             }
                             return 0;
                         })
                    .ok());
    bool wrapped = false;
    for (uint64_t seq = 0; seq < 40; ++seq) {
        auto* p = static_cast<uint8_t*>(rb->reserve(1000, 0));
        ASSERT_NE(p, nullptr);
        const uint64_t pos = rb->query(ringbuf::kProdPos) - 1008;
        if ((pos % kPage) + 1008 > kPage) wrapped = true;  // crosses the end of the data
        std::memcpy(p, &seq, 8);
        for (size_t i = 8; i < 1000; ++i)
            p[i] = static_cast<uint8_t>(seq + i);
        RingBufMap::submit(p, 0);
        ASSERT_EQ(consumer.consume(), 1);
    }
    EXPECT_TRUE(wrapped);
    EXPECT_EQ(expected_seq, 40u);
}

// Found by fuzz/map_operations_fuzz: an empty output with no data copied from a null pointer
// (undefined behaviour UBSan reports). Linux allows it: the size is ARG_CONST_SIZE_OR_ZERO.
TEST(RingBuf, EmptyOutputWithoutData) {
    auto rb = ring(kPage);
    ASSERT_EQ(rb->output(nullptr, 0, 0), 0);
    std::vector<size_t> sizes;
    RingBufferConsumer consumer;
    ASSERT_TRUE(consumer
                    .add(rb,
                         [&](const void*, size_t size) {
                             sizes.push_back(size);
                             return 0;
                         })
                    .ok());
    EXPECT_EQ(consumer.consume(), 1);
    EXPECT_EQ(sizes, std::vector<size_t>{0});
}

TEST(RingBuf, ConsumerStopsAtBusyRecordAndCallbackErrors) {
    auto rb = ring(kPage);
    void* first = rb->reserve(8, 0);
    ASSERT_EQ(rb->output("later", 5, 0), 0);
    int calls = 0;
    RingBufferConsumer consumer;
    ASSERT_TRUE(consumer.add(rb, [&](const void*, size_t) { return ++calls == 2 ? -7 : 0; }).ok());
    EXPECT_EQ(consumer.consume(), 0);  // the first record is still being written
    RingBufMap::submit(first, 0);
    ASSERT_EQ(rb->output("third", 5, 0), 0);
    EXPECT_EQ(consumer.consume(), -7);  // the second callback stops consumption
    EXPECT_EQ(consumer.consume(), 1);
    EXPECT_FALSE(consumer.add(test::make_map(MapType::Array, 4, 4, 1), {}).ok());
}

TEST(RingBuf, PollWakesOnSubmit) {
    auto rb = ring(kPage);
    RingBufferConsumer consumer;
    std::atomic<int> got{0};
    ASSERT_TRUE(consumer.add(rb, [&](const void*, size_t) { return ++got, 0; }).ok());
    EXPECT_EQ(consumer.poll(10), 0);  // times out
    std::thread producer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ASSERT_EQ(rb->output("x", 1, 0), 0);
    });
    const auto start = std::chrono::steady_clock::now();
    int64_t n = 0;
    while (n == 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
        n = consumer.poll(5000);
    }
    producer.join();
    EXPECT_EQ(n, 1);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(RingBuf, ManyProducersOneConsumer) {
    auto rb = ring(16 * kPage);
    constexpr int kThreads = 4;
    constexpr uint32_t kPerThread = 20000;
    std::vector<uint32_t> next(kThreads, 0);
    std::atomic<bool> bad{false};
    RingBufferConsumer consumer;
    ASSERT_TRUE(consumer
                    .add(rb,
                         [&](const void* d, size_t n) {
                             uint32_t rec[4];
                             if (n != sizeof rec) return bad = true, -1;
                             std::memcpy(rec, d, sizeof rec);
                             // Per producer, records arrive in order; payload is consistent.
                             if (rec[0] >= kThreads || rec[1] != next[rec[0]]++ ||
                                 rec[2] != rec[1] * 3 || rec[3] != ~rec[1]) {
                                 bad = true;
                             }
                             return 0;
                         })
                    .ok());
    std::atomic<int> running{kThreads};
    std::vector<std::thread> producers;
    for (uint32_t t = 0; t < kThreads; ++t) {
        producers.emplace_back([&, t] {
            uint32_t attempt = 0;
            for (uint32_t i = 0; i < kPerThread;) {
                auto* p = static_cast<uint32_t*>(rb->reserve(16, 0));
                if (p == nullptr) {
                    std::this_thread::yield();
                    continue;
                }
                uint32_t rec[4] = {t, i, i * 3, ~i};
                std::memcpy(p, rec, sizeof rec);
                if (++attempt % 7 == 3) {
                    // Discarded records never reach the consumer, so don't count them.
                    RingBufMap::discard(p, 0);
                    continue;
                }
                RingBufMap::submit(p, 0);
                ++i;
            }
            --running;
        });
    }
    int64_t total = 0;
    while (running.load() > 0 || total < int64_t{kThreads} * kPerThread) {
        const int64_t n = consumer.poll(100);
        ASSERT_GE(n, 0);
        total += n;
        if (running.load() == 0 && n == 0) break;
    }
    for (auto& p : producers)
        p.join();
    total += consumer.consume();
    EXPECT_FALSE(bad.load());
    EXPECT_EQ(total, int64_t{kThreads} * kPerThread);
}

}  // namespace
}  // namespace xbpf
