// prog_array, array_of_maps, hash_of_maps and perf_event_array: objects held by reference,
// inner map checks, ids on host lookups, deferred release, perf records.
#include <atomic>
#include <thread>

#include "map_test_util.hpp"
#include "xbpf/map_objects.hpp"
#include "xbpf/map_perf.hpp"

namespace xbpf {
namespace {

// Stands in for the runtime's Program.
struct FakeProgram final : MapValueObject {
    explicit FakeProgram(uint32_t id) : id(id) {}
    uint32_t object_id() const override { return id; }
    uint32_t id;
};

TEST(ProgArray, HoldsProgramsForTailCalls) {
    auto map = test::make_map(MapType::ProgArray, 4, 4, 4);
    auto* progs = dynamic_cast<ProgArrayMap*>(map.get());
    ASSERT_NE(progs, nullptr);
    auto prog = std::make_shared<FakeProgram>(77);
    std::weak_ptr<FakeProgram> watch = prog;
    uint32_t key = 2;
    EXPECT_EQ(progs->update_object(&key, prog, 5, update_flags::kNoExist), -EINVAL);
    ASSERT_EQ(progs->update_object(&key, prog, 5), 0);
    EXPECT_EQ(progs->tail_call_target(2), prog.get());
    EXPECT_EQ(progs->tail_call_target(1), nullptr);
    EXPECT_EQ(progs->tail_call_target(9), nullptr);
    EXPECT_EQ(progs->object_at(&key).second, 5u);
    uint32_t id = 0;
    EXPECT_EQ(map->lookup_elem(&key, &id), 0);
    EXPECT_EQ(id, 77u);
    uint32_t far = 4;
    EXPECT_EQ(progs->update_object(&far, prog, 5), -E2BIG);
    EXPECT_EQ(progs->update_object(&key, test::make_map(MapType::Array, 4, 4, 1), 6), -EINVAL);
    EXPECT_EQ(map->lookup(&key), nullptr);  // programs cannot look prog arrays up
    // No resolver: fd updates fail.
    uint32_t fd = 3;
    EXPECT_EQ(map->update_elem(&key, &fd), -EBADF);

    prog.reset();
    EXPECT_FALSE(watch.expired());  // the map holds it
    {
        MapReadGuard guard;  // a program running: the old target must survive its removal
        const MapValueObject* running = progs->tail_call_target(2);
        ASSERT_EQ(map->delete_elem(&key), 0);
        EXPECT_EQ(progs->tail_call_target(2), nullptr);
        EXPECT_FALSE(watch.expired());
        EXPECT_EQ(running->object_id(), 77u);
    }
    EXPECT_EQ(map->delete_elem(&key), -ENOENT);  // also reclaims what guards no longer see
    EXPECT_TRUE(watch.expired());
}

TEST(ProgArray, HostUpdatesThroughTheResolver) {
    auto prog = std::make_shared<FakeProgram>(11);
    MapOptions options;
    options.resolve_fd = [&](uint32_t fd) -> std::shared_ptr<const MapValueObject> {
        return fd == 42 ? prog : nullptr;
    };
    auto map = create_map(test::spec_of(MapType::ProgArray, 4, 4, 2), options);
    ASSERT_TRUE(map.ok());
    uint32_t key = 0, fd = 42, bad_fd = 1, id = 0;
    EXPECT_EQ((*map)->update_elem(&key, &bad_fd), -EBADF);
    ASSERT_EQ((*map)->update_elem(&key, &fd), 0);
    ASSERT_EQ((*map)->lookup_elem(&key, &id), 0);
    EXPECT_EQ(id, 11u);
    uint32_t next;
    ASSERT_EQ((*map)->get_next_key(&key, &next), 0);
    EXPECT_EQ(next, 1u);
}

TEST(ArrayOfMaps, InnerMapsMustMatch) {
    MapSpec outer = test::spec_of(MapType::ArrayOfMaps, 4, 4, 2);
    outer.inner = std::make_shared<MapSpec>(test::spec_of(MapType::Array, 4, 8, 16));
    auto map = test::make_map(outer);
    auto* objects = dynamic_cast<ObjectMap*>(map.get());
    ASSERT_NE(objects, nullptr);
    uint32_t key = 1;
    auto good = test::make_map(MapType::Array, 4, 8, 16);
    EXPECT_EQ(objects->update_object(&key, test::make_map(MapType::Array, 4, 8, 17), 0),
              -EINVAL);  // max_entries differs
    EXPECT_EQ(objects->update_object(&key, test::make_map(MapType::Hash, 4, 8, 16), 0), -EINVAL);
    EXPECT_EQ(objects->update_object(&key, test::make_map(MapType::Array, 4, 4, 16), 0), -EINVAL);
    EXPECT_EQ(objects->update_object(&key, std::make_shared<FakeProgram>(1), 0), -EINVAL);
    ASSERT_EQ(objects->update_object(&key, good, 9), 0);
    EXPECT_EQ(map->lookup(&key), good.get());  // programs get the inner map itself
    uint32_t id = 0;
    ASSERT_EQ(map->lookup_elem(&key, &id), 0);
    EXPECT_EQ(id, good->id());
    uint32_t empty = 0;
    EXPECT_EQ(map->lookup(&empty), nullptr);

    // BPF_F_INNER_MAP lets array inner maps differ in size.
    MapSpec flexible = outer;
    flexible.inner =
        std::make_shared<MapSpec>(test::spec_of(MapType::Array, 4, 8, 16, map_flags::kInnerMap));
    auto flex = test::make_map(flexible);
    EXPECT_EQ(dynamic_cast<ObjectMap*>(flex.get())
                  ->update_object(
                      &key, test::make_map(MapType::Array, 4, 8, 99, map_flags::kInnerMap), 0),
              0);
}

TEST(HashOfMaps, StoresInnerMapsByKey) {
    MapSpec outer = test::spec_of(MapType::HashOfMaps, 8, 4, 4);
    outer.inner = std::make_shared<MapSpec>(test::spec_of(MapType::Hash, 4, 4, 8));
    auto map = test::make_map(outer);
    auto* objects = dynamic_cast<ObjectMap*>(map.get());
    ASSERT_NE(objects, nullptr);
    uint64_t key = 0xabcdef;
    auto inner = test::make_map(MapType::Hash, 4, 4, 100);  // hash inner maps may differ in size
    std::weak_ptr<Map> watch = inner;
    EXPECT_EQ(objects->update_object(&key, inner, 3, update_flags::kExist), -ENOENT);
    ASSERT_EQ(objects->update_object(&key, inner, 3), 0);
    EXPECT_EQ(map->lookup(&key), inner.get());
    uint32_t id = 0;
    ASSERT_EQ(map->lookup_elem(&key, &id), 0);
    EXPECT_EQ(id, inner->id());
    uint64_t next = 0;
    ASSERT_EQ(map->get_next_key(nullptr, &next), 0);
    EXPECT_EQ(next, key);
    EXPECT_EQ(objects->object_at(&key).first.get(), inner.get());
    uint32_t v = 1;
    EXPECT_EQ(map->update(&key, &v, 0), -EINVAL);  // programs cannot write maps of maps
    inner.reset();
    ASSERT_EQ(map->delete_elem(&key), 0);
    EXPECT_EQ(map->lookup(&key), nullptr);
    EXPECT_TRUE(watch.expired());
    EXPECT_EQ(map->delete_elem(&key), -ENOENT);
}

TEST(PerfEventArray, RecordsPerCpuSlot) {
    auto map = test::make_map(MapType::PerfEventArray, 4, 4, test::kTestCpus);
    auto* perf = dynamic_cast<PerfEventArrayMap*>(map.get());
    ASSERT_NE(perf, nullptr);
    EXPECT_EQ(perf->output(0xffffffffULL, "x", 1), -ENOENT);  // no buffers yet
    std::vector<std::pair<uint32_t, std::string>> samples;
    uint64_t lost_total = 0;
    auto consumer = PerfBufferConsumer::create(
        map, 1,
        [&](uint32_t cpu, const void* data, uint32_t size) {
            samples.emplace_back(cpu, std::string(static_cast<const char*>(data), size));
        },
        [&](uint32_t, uint64_t lost) { lost_total += lost; });
    ASSERT_TRUE(consumer.ok()) << consumer.error().to_string();
    const uint32_t me = current_cpu();
    ASSERT_EQ(perf->output(0xffffffffULL, "hello", 5), 0);  // BPF_F_CURRENT_CPU
    ASSERT_EQ(perf->output(me, "abcd", 4), 0);
    EXPECT_EQ(perf->output((me + 1) % test::kTestCpus, "x", 1), -EOPNOTSUPP);
    EXPECT_EQ(perf->output(test::kTestCpus, "x", 1), -E2BIG);
    EXPECT_EQ(perf->output(1ULL << 63, "x", 1), -EINVAL);
    EXPECT_EQ((*consumer)->consume(), 2);
    ASSERT_EQ(samples.size(), 2u);
    EXPECT_EQ(samples[0].first, me);
    // Raw sizes are padded so size field + data is a multiple of 8, as Linux reports them.
    EXPECT_EQ(samples[0].second, std::string("hello\0\0\0\0\0\0\0", 12));
    EXPECT_EQ(samples[1].second.size(), 4u);

    // Overflow: samples are lost and counted, then reported before the next sample.
    std::vector<char> big(1000, 'z');
    int written = 0, dropped = 0;
    for (int i = 0; i < 10; ++i) {
        long rc = perf->output(me, big.data(), big.size());
        (rc == 0 ? written : dropped) += 1;
        if (rc != 0) {
            EXPECT_EQ(rc, -ENOSPC);
        }
    }
    EXPECT_GT(dropped, 0);
    samples.clear();
    (*consumer)->consume();
    EXPECT_EQ(samples.size(), static_cast<size_t>(written));
    ASSERT_EQ(perf->output(me, "after", 5), 0);
    (*consumer)->consume();
    EXPECT_EQ(lost_total, static_cast<uint64_t>(dropped));
    uint32_t key = 0, value = 0;
    EXPECT_EQ(map->lookup_elem(&key, &value), -kENOTSUPP);
}

TEST(PerfEventArray, PollWakesUp) {
    auto map = test::make_map(MapType::PerfEventArray, 4, 4, test::kTestCpus);
    std::atomic<int> got{0};
    auto consumer =
        PerfBufferConsumer::create(map, 1, [&](uint32_t, const void*, uint32_t) { ++got; });
    ASSERT_TRUE(consumer.ok());
    std::thread producer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        dynamic_cast<PerfEventArrayMap*>(map.get())->output(0xffffffffULL, "x", 1);
    });
    int64_t n = 0;
    for (int i = 0; i < 50 && n == 0; ++i)
        n = (*consumer)->poll(100);
    producer.join();
    EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace xbpf
