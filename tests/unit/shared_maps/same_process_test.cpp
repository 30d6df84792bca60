// Shared maps within one process: create, pin, open again; both Map objects see one storage,
// for every shareable type; pins, freezing, mmap of the file and the errors of pin_map.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <vector>

#include "shared_map_test_util.hpp"
#include "xbpf/linux_names.hpp"
#include "xbpf/map_ringbuf.hpp"

namespace xbpf {
namespace {

using test::make_shared;
using test::open_pinned;
using test::read_as;
using test::ScratchDir;
using test::spec_of;

TEST(SharedMap, ArrayPinnedAndOpenedSharesContents) {
    ScratchDir dir;
    auto a = make_shared(spec_of(MapType::Array, 4, 8, 16), dir);
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(is_shared_map(*a));
    uint32_t key = 3;
    uint64_t value = 0x1122334455667788;
    ASSERT_EQ(a->update_elem(&key, &value), 0);
    ASSERT_TRUE(pin_map(*a, dir / "arr").ok());

    auto b = open_pinned(dir / "arr");
    ASSERT_NE(b, nullptr);
    EXPECT_NE(b->id(), a->id());  // ids are per Map object
    EXPECT_EQ(b->type(), MapType::Array);
    EXPECT_EQ(b->max_entries(), 16u);
    EXPECT_EQ(b->spec().name, "shared");
    EXPECT_TRUE(is_shared_map(*b));
    uint64_t out = 0;
    ASSERT_EQ(b->lookup_elem(&key, &out), 0);
    EXPECT_EQ(out, value);

    // Changes through either are seen through the other, host and program side alike.
    key = 5;
    value = 42;
    ASSERT_EQ(b->update_elem(&key, &value), 0);
    ASSERT_EQ(a->lookup_elem(&key, &out), 0);
    EXPECT_EQ(out, 42u);
    __atomic_fetch_add(static_cast<uint64_t*>(a->lookup(&key)), 1, __ATOMIC_RELAXED);
    EXPECT_EQ(read_as<uint64_t>(b->lookup(&key)), 43u);
    EXPECT_NE(a->lookup(&key), b->lookup(&key));  // two mappings of one file
}

TEST(SharedMap, HashPinnedAndOpenedSharesElements) {
    ScratchDir dir;
    auto a = make_shared(spec_of(MapType::Hash, 8, 16, 1000), dir);
    ASSERT_NE(a, nullptr);
    for (uint64_t k = 0; k < 500; ++k) {
        const uint64_t v[2] = {k * 3, ~k};
        ASSERT_EQ(a->update_elem(&k, v), 0);
    }
    ASSERT_TRUE(pin_map(*a, dir / "hash").ok());
    auto b = open_pinned(dir / "hash");
    ASSERT_NE(b, nullptr);
    // The opener hashes with the creator's seed: every key is found.
    for (uint64_t k = 0; k < 500; ++k) {
        uint64_t v[2] = {};
        ASSERT_EQ(b->lookup_elem(&k, v), 0) << k;
        EXPECT_EQ(v[0], k * 3);
        EXPECT_EQ(v[1], ~k);
    }
    // Deletes and inserts through b, seen through a.
    for (uint64_t k = 0; k < 500; k += 2)
        ASSERT_EQ(b->delete_elem(&k), 0);
    for (uint64_t k = 500; k < 700; ++k) {
        const uint64_t v[2] = {k, k};
        ASSERT_EQ(b->update_elem(&k, v, update_flags::kNoExist), 0);
    }
    size_t count = 0;
    uint64_t key = 0;
    bool first = true;
    uint64_t next = 0;
    while (a->get_next_key(first ? nullptr : &key, &next) == 0) {
        first = false;
        key = next;
        ++count;
        EXPECT_TRUE(key >= 500 || key % 2 == 1) << key;
    }
    EXPECT_EQ(count, 250u + 200u);
    // The pool is shared too: filling the map up to max_entries from both sides.
    for (uint64_t k = 1000; k < 1550; ++k) {
        const uint64_t v[2] = {k, k};
        ASSERT_EQ((k % 2 ? a : b)->update_elem(&k, v), 0) << k;
    }
    const uint64_t extra = 5000;
    const uint64_t v[2] = {};
    EXPECT_EQ(a->update_elem(&extra, v), -E2BIG);
    EXPECT_EQ(b->update_elem(&extra, v), -E2BIG);
}

// One small scenario per shareable type: written through the creator, read through the opener.
TEST(SharedMap, EveryShareableTypeRoundTrips) {
    ScratchDir dir;
    const uint32_t cpus = nr_cpus();
    struct Case {
        MapSpec spec;
        std::function<void(Map&)> write;
        std::function<void(Map&)> check;
    };
    const uint32_t k1 = 1;
    std::vector<Case> cases;
    cases.push_back({spec_of(MapType::PercpuArray, 4, 8, 4),
                     [&](Map& m) {
                         std::vector<uint64_t> v(cpus);
                         for (uint32_t c = 0; c < cpus; ++c)
                             v[c] = 10 + c;
                         ASSERT_EQ(m.update_elem(&k1, v.data()), 0);
                     },
                     [&](Map& m) {
                         std::vector<uint64_t> v(cpus);
                         ASSERT_EQ(m.lookup_elem(&k1, v.data()), 0);
                         for (uint32_t c = 0; c < cpus; ++c)
                             EXPECT_EQ(v[c], 10 + c);
                         EXPECT_EQ(read_as<uint64_t>(m.lookup_percpu(&k1, 2)), 12u);
                     }});
    for (MapType t : {MapType::PercpuHash, MapType::LruPercpuHash}) {
        cases.push_back({spec_of(t, 4, 8, 8),
                         [&](Map& m) {
                             std::vector<uint64_t> v(cpus, 7);
                             ASSERT_EQ(m.update_elem(&k1, v.data()), 0);
                         },
                         [&](Map& m) {
                             std::vector<uint64_t> v(cpus);
                             ASSERT_EQ(m.lookup_elem(&k1, v.data()), 0);
                             for (uint64_t x : v)
                                 EXPECT_EQ(x, 7u);
                         }});
    }
    cases.push_back({spec_of(MapType::LruHash, 4, 8, 8),
                     [&](Map& m) {
                         for (uint32_t k = 0; k < 20; ++k) {
                             const uint64_t v = k * 2;
                             ASSERT_EQ(m.update_elem(&k, &v), 0);
                         }
                     },
                     [&](Map& m) {
                         // LRU kept at most max_entries, each with its own value.
                         uint32_t found = 0;
                         for (uint32_t k = 0; k < 20; ++k) {
                             uint64_t v = 0;
                             if (m.lookup_elem(&k, &v) == 0) {
                                 ++found;
                                 EXPECT_EQ(v, k * 2);
                             }
                         }
                         EXPECT_GE(found, 1u);
                         EXPECT_LE(found, 8u);
                     }});
    cases.push_back({spec_of(MapType::LpmTrie, 8, 8, 16, map_flags::kNoPrealloc),
                     [&](Map& m) {
                         const uint32_t key[2] = {16, 0x0000a8c0};  // 192.168.0.0/16
                         const uint64_t v = 16;
                         ASSERT_EQ(m.update_elem(key, &v), 0);
                         const uint32_t key24[2] = {24, 0x0001a8c0};  // 192.168.1.0/24
                         const uint64_t v24 = 24;
                         ASSERT_EQ(m.update_elem(key24, &v24), 0);
                     },
                     [&](Map& m) {
                         const uint32_t host[2] = {32, 0x0701a8c0};  // 192.168.1.7
                         uint64_t v = 0;
                         ASSERT_EQ(m.lookup_elem(host, &v), 0);
                         EXPECT_EQ(v, 24u);
                         const uint32_t other[2] = {32, 0x0702a8c0};  // 192.168.2.7
                         ASSERT_EQ(m.lookup_elem(other, &v), 0);
                         EXPECT_EQ(v, 16u);
                     }});
    cases.push_back({spec_of(MapType::Queue, 0, 8, 4),
                     [&](Map& m) {
                         for (uint64_t v : {1, 2, 3})
                             ASSERT_EQ(m.update_elem(nullptr, &v), 0);
                     },
                     [&](Map& m) {
                         for (uint64_t want : {1, 2, 3}) {
                             uint64_t v = 0;
                             ASSERT_EQ(m.lookup_and_delete_elem(nullptr, &v), 0);
                             EXPECT_EQ(v, want);
                         }
                     }});
    cases.push_back({spec_of(MapType::Stack, 0, 8, 4),
                     [&](Map& m) {
                         for (uint64_t v : {1, 2, 3})
                             ASSERT_EQ(m.update_elem(nullptr, &v), 0);
                     },
                     [&](Map& m) {
                         for (uint64_t want : {3, 2, 1}) {
                             uint64_t v = 0;
                             ASSERT_EQ(m.lookup_and_delete_elem(nullptr, &v), 0);
                             EXPECT_EQ(v, want);
                         }
                     }});
    cases.push_back({spec_of(MapType::BloomFilter, 0, 8, 100),
                     [&](Map& m) {
                         for (uint64_t v = 0; v < 50; ++v)
                             ASSERT_EQ(m.update_elem(nullptr, &v), 0);
                     },
                     [&](Map& m) {
                         // Same seed in both: every value pushed is found.
                         for (uint64_t v = 0; v < 50; ++v)
                             EXPECT_EQ(m.lookup_elem(nullptr, &v), 0) << v;
                     }});
    cases.push_back({spec_of(MapType::Ringbuf, 0, 0, 4 * static_cast<uint32_t>(map_page_size())),
                     [&](Map& m) {
                         auto& rb = dynamic_cast<RingBufMap&>(m);
                         ASSERT_EQ(rb.output("one", 3, 0), 0);
                         ASSERT_EQ(rb.output("two!", 4, 0), 0);
                     },
                     [&](Map& m) {
                         auto& rb = dynamic_cast<RingBufMap&>(m);
                         EXPECT_EQ(rb.query(ringbuf::kAvailData), 32u);
                         std::vector<std::string> seen;
                         RingBufferConsumer consumer;
                         std::shared_ptr<Map> self(&m, [](Map*) {});
                         ASSERT_TRUE(consumer
                                         .add(self,
                                              [&](const void* d, size_t n) {
                                                  seen.emplace_back(static_cast<const char*>(d), n);
                                                  return 0;
                                              })
                                         .ok());
                         EXPECT_EQ(consumer.consume(), 2);
                         EXPECT_EQ(seen, (std::vector<std::string>{"one", "two!"}));
                     }});
    for (size_t i = 0; i < cases.size(); ++i) {
        Case& c = cases[i];
        SCOPED_TRACE(std::string(map_type_name(c.spec.type)));
        auto a = make_shared(c.spec, dir);
        ASSERT_NE(a, nullptr);
        c.write(*a);
        const auto path = dir / ("map" + std::to_string(i));
        ASSERT_TRUE(pin_map(*a, path).ok());
        auto b = open_pinned(path);
        ASSERT_NE(b, nullptr);
        c.check(*b);
    }
}

TEST(SharedMap, ObjectMapsCannotBeShared) {
    ScratchDir dir;
    for (MapType t : {MapType::ProgArray, MapType::ArrayOfMaps, MapType::PerfEventArray}) {
        auto spec = spec_of(t, 4, 4, 4);
        if (t == MapType::ArrayOfMaps) {
            spec.inner = std::make_shared<MapSpec>(spec_of(MapType::Array, 4, 4, 1));
        }
        int error = 0;
        auto map = create_shared_map(spec, dir.options(), &error);
        ASSERT_FALSE(map.ok());
        EXPECT_EQ(error, EINVAL);
        EXPECT_NE(map.error().to_string().find("cannot be shared"), std::string::npos)
            << map.error().to_string();
        EXPECT_FALSE(shareable_map_type(t));
    }
    EXPECT_TRUE(shareable_map_type(MapType::Ringbuf));
}

TEST(SharedMap, InvalidSpecIsRejectedLikeCreateMap) {
    ScratchDir dir;
    int error = 0;
    // An array's key must be 4 bytes; a hash map's max_entries not 0 (E2BIG would be too big).
    auto map = create_shared_map(spec_of(MapType::Array, 8, 8, 4), dir.options(), &error);
    ASSERT_FALSE(map.ok());
    EXPECT_EQ(error, EINVAL);
    EXPECT_NE(map.error().to_string().find("map shared"), std::string::npos);
}

TEST(SharedMap, PinErrorsAreLinuxs) {
    ScratchDir dir;
    auto shared = make_shared(spec_of(MapType::Array, 4, 8, 1), dir);
    ASSERT_NE(shared, nullptr);
    int error = 0;
    ASSERT_TRUE(pin_map(*shared, dir / "once", &error).ok());
    EXPECT_EQ(error, 0);

    auto again = pin_map(*shared, dir / "once", &error);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(error, EEXIST);
    EXPECT_NE(again.error().to_string().find("exists"), std::string::npos);

    auto missing = pin_map(*shared, dir / "no-such-dir" / "m", &error);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(error, ENOENT);
    EXPECT_NE(missing.error().to_string().find("does not exist"), std::string::npos)
        << missing.error().to_string();

    auto private_map = create_map(spec_of(MapType::Array, 4, 8, 1));
    ASSERT_TRUE(private_map.ok());
    EXPECT_FALSE(is_shared_map(**private_map));
    auto not_shared = pin_map(**private_map, dir / "private", &error);
    ASSERT_FALSE(not_shared.ok());
    EXPECT_EQ(error, EINVAL);
    EXPECT_NE(not_shared.error().to_string().find("not in shared memory"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir / "private"));

    auto absent = open_pinned_map(dir / "absent", &error);
    ASSERT_FALSE(absent.ok());
    EXPECT_EQ(error, ENOENT);

    // A descriptor that cannot map the file writable: the map cannot be attached.
    const int read_only = open((dir / "once").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(read_only, 0);
    auto attached = open_shared_map(read_only, &error);
    close(read_only);
    ASSERT_FALSE(attached.ok());
    EXPECT_EQ(error, EACCES);
    EXPECT_NE(attached.error().to_string().find("cannot map"), std::string::npos)
        << attached.error().to_string();
}

TEST(SharedMap, PinnedFileOutlivesItsCreatorAndHasPinModes) {
    ScratchDir dir;
    {
        auto a = make_shared(spec_of(MapType::Hash, 4, 4, 8), dir);
        ASSERT_NE(a, nullptr);
        const uint32_t k = 7, v = 70;
        ASSERT_EQ(a->update_elem(&k, &v), 0);
        ASSERT_TRUE(pin_map(*a, dir / "first").ok());
        ASSERT_TRUE(pin_map(*a, dir / "second").ok());  // several names, one map
    }
    struct stat st {};
    ASSERT_EQ(stat((dir / "first").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_nlink, 2u);
    auto b = open_pinned(dir / "second");
    ASSERT_NE(b, nullptr);
    const uint32_t k = 7;
    uint32_t v = 0;
    ASSERT_EQ(b->lookup_elem(&k, &v), 0);
    EXPECT_EQ(v, 70u);
    // An opened map can be pinned again under another name.
    ASSERT_TRUE(pin_map(*b, dir / "third").ok());
    // Once every name is gone, the file cannot be named again.
    for (const char* name : {"first", "second", "third"})
        std::filesystem::remove(dir / name);
    int error = 0;
    auto lost = pin_map(*b, dir / "fourth", &error);
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(error, ENOENT);
    EXPECT_NE(lost.error().to_string().find("lost them all"), std::string::npos)
        << lost.error().to_string();
}

TEST(SharedMap, FreezeIsSharedState) {
    ScratchDir dir;
    auto a = make_shared(spec_of(MapType::Array, 4, 4, 2), dir);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(pin_map(*a, dir / "f").ok());
    auto b = open_pinned(dir / "f");
    ASSERT_NE(b, nullptr);
    EXPECT_FALSE(b->frozen());
    ASSERT_EQ(a->freeze(), 0);
    EXPECT_TRUE(b->frozen());
    const uint32_t k = 0, v = 1;
    EXPECT_EQ(b->update_elem(&k, &v), -EPERM);
    EXPECT_EQ(b->freeze(), -EBUSY);
    auto c = open_pinned(dir / "f");
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->frozen());
}

TEST(SharedMap, MmapableArrayFileMapsItsValuesAtOffsetZero) {
    ScratchDir dir;
    auto a = make_shared(spec_of(MapType::Array, 4, 8, 512, map_flags::kMmapable), dir);
    ASSERT_NE(a, nullptr);
    const MapMemory* storage = a->storage();
    ASSERT_NE(storage, nullptr);
    ASSERT_GE(storage->fd(), 0);
    ASSERT_EQ(a->mmapable_memory().data(), storage->data());
    // What a bpf() layer does for mmap() of the map's fd.
    void* p = mmap(nullptr, storage->size(), PROT_READ | PROT_WRITE, MAP_SHARED, storage->fd(), 0);
    ASSERT_NE(p, MAP_FAILED);
    auto* values = static_cast<uint64_t*>(p);
    const uint32_t k = 100;
    const uint64_t v = 99;
    ASSERT_EQ(a->update_elem(&k, &v), 0);
    EXPECT_EQ(values[100], 99u);
    values[101] = 1234;
    const uint32_t k2 = 101;
    uint64_t out = 0;
    ASSERT_EQ(a->lookup_elem(&k2, &out), 0);
    EXPECT_EQ(out, 1234u);
    munmap(p, storage->size());
}

TEST(SharedMap, InitialValueIsWrittenOnceNotOnOpen) {
    ScratchDir dir;
    auto spec = spec_of(MapType::Array, 4, 8, 1, 0, ".data");
    spec.initial_value = {1, 0, 0, 0, 0, 0, 0, 0};
    auto a = make_shared(spec, dir);
    ASSERT_NE(a, nullptr);
    const uint32_t k = 0;
    const uint64_t v = 77;
    ASSERT_EQ(a->update_elem(&k, &v), 0);
    ASSERT_TRUE(pin_map(*a, dir / "data").ok());
    auto b = open_pinned(dir / "data");
    ASSERT_NE(b, nullptr);
    uint64_t out = 0;
    ASSERT_EQ(b->lookup_elem(&k, &out), 0);
    EXPECT_EQ(out, 77u);
}

TEST(SharedMap, FilesLiveInTheGivenDirectory) {
    // Unnamed files on an ordinary file system too (the temporary directory), not only tmpfs.
    std::string pattern = (std::filesystem::temp_directory_path() / "xbpf-shared-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    const std::filesystem::path tmp = pattern;
    SharedMapOptions options;
    options.directory = tmp;
    auto a = create_shared_map(spec_of(MapType::Hash, 4, 4, 4), options);
    if (!a.ok()) {
        std::filesystem::remove_all(tmp);
        GTEST_SKIP() << "no unnamed files in " << tmp << ": " << a.error().to_string();
    }
    EXPECT_TRUE(std::filesystem::is_empty(tmp));  // unnamed until pinned
    ASSERT_TRUE(pin_map(**a, tmp / "m").ok());
    EXPECT_TRUE(std::filesystem::is_regular_file(tmp / "m"));
    auto missing = SharedMapOptions{};
    missing.directory = tmp / "absent";
    int error = 0;
    auto b = create_shared_map(spec_of(MapType::Hash, 4, 4, 4), missing, &error);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(error, ENOENT);
    EXPECT_NE(b.error().to_string().find("absent"), std::string::npos) << b.error().to_string();
    std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace xbpf

namespace xbpf {
namespace {

// Preallocated maps get their file space at creation; lazily filled pools only with
// reserve_all.
TEST(SharedMap, FileSpaceIsReservedForPreallocatedMapsAndOnRequest) {
    ScratchDir dir;
    auto allocated = [](const Map& m) {
        struct stat st {};
        EXPECT_EQ(fstat(m.storage()->fd(), &st), 0);
        return static_cast<uint64_t>(st.st_blocks) * 512;
    };
    const auto lazy_spec = spec_of(MapType::Hash, 8, 64, 100000, map_flags::kNoPrealloc);
    auto lazy = make_shared(lazy_spec, dir);
    ASSERT_NE(lazy, nullptr);
    const uint64_t region = lazy->storage()->size();
    EXPECT_LT(allocated(*lazy), region / 2);  // the pool's pages are not there yet

    SharedMapOptions reserve = dir.options();
    reserve.reserve_all = true;
    auto reserved = create_shared_map(lazy_spec, reserve);
    ASSERT_TRUE(reserved.ok()) << reserved.error().to_string();
    EXPECT_GE(allocated(**reserved), region);

    auto prealloc = make_shared(spec_of(MapType::Hash, 8, 64, 100000), dir);
    ASSERT_NE(prealloc, nullptr);
    EXPECT_GE(allocated(*prealloc), prealloc->storage()->size());
}

}  // namespace
}  // namespace xbpf

namespace xbpf {
namespace {

// A map that does not fit the file-size limit fails its creation with the errno, not a signal.
TEST(SharedMap, FileThatCannotGrowFailsCreationCleanly) {
    ScratchDir dir;
    const int code = test::in_child([&] {
        signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{1 << 20, 1 << 20};
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return 1;
        int error = 0;
        auto big = create_shared_map(spec_of(MapType::Hash, 8, 64, 1 << 20), dir.options(), &error);
        if (big.ok()) return 2;
        if (error != EFBIG) return 3;
        if (big.error().to_string().find(dir.path().string()) == std::string::npos) return 4;
        auto small = create_shared_map(spec_of(MapType::Hash, 8, 64, 64), dir.options(), &error);
        return small.ok() && error == 0 ? 0 : 5;
    });
    EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace xbpf

namespace xbpf {
namespace {

// What a bpf() layer maps for mmap() of a ring buffer's fd, Linux's layout, from the map file:
// the consumer page at region offset one page (after the ring's control page), the producer
// page after it, then the data.
TEST(SharedMap, RingBufferFileHoldsLinuxsMmapLayout) {
    ScratchDir dir;
    const size_t page = map_page_size();
    auto map = make_shared(spec_of(MapType::Ringbuf, 0, 0, 4 * static_cast<uint32_t>(page)), dir);
    ASSERT_NE(map, nullptr);
    auto& ring = dynamic_cast<RingBufMap&>(*map);
    ASSERT_EQ(ring.memory_fd(), map->storage()->fd());
    ASSERT_EQ(ring.output("abcde", 5, 0), 0);
    const int fd = map->storage()->fd();
    void* consumer = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, page);
    void* rest = mmap(nullptr, page + 4 * page, PROT_READ, MAP_SHARED, fd, 2 * page);
    ASSERT_NE(consumer, MAP_FAILED);
    ASSERT_NE(rest, MAP_FAILED);
    const auto* bytes = static_cast<const uint8_t*>(rest);
    EXPECT_EQ(read_as<uint64_t>(bytes), 16u);  // producer position: 8-byte header + 5, rounded
    EXPECT_EQ(read_as<uint32_t>(bytes + page), 5u);  // the record's length, committed
    EXPECT_EQ(std::memcmp(bytes + page + 8, "abcde", 5), 0);
    // Consuming through the file's consumer page is seen by the map.
    *static_cast<uint64_t*>(consumer) = 16;
    EXPECT_EQ(ring.query(ringbuf::kConsPos), 16u);
    EXPECT_EQ(ring.query(ringbuf::kAvailData), 0u);
    munmap(consumer, page);
    munmap(rest, 5 * page);
}

}  // namespace
}  // namespace xbpf
