// create_map() rejects specs the way Linux's BPF_MAP_CREATE does.
#include "map_test_util.hpp"

namespace xbpf {
namespace {

using test::spec_of;
namespace mf = map_flags;

int error_of(const MapSpec& s) {
    auto p = check_map_spec(s);
    return p ? p->error : 0;
}

TEST(MapSpecCheck, Arrays) {
    EXPECT_EQ(error_of(spec_of(MapType::Array, 4, 8, 10)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::Array, 8, 8, 10)), EINVAL);  // key must be u32
    EXPECT_EQ(error_of(spec_of(MapType::Array, 4, 0, 10)), EINVAL);  // value_size 0
    EXPECT_EQ(error_of(spec_of(MapType::Array, 4, 8, 0)), EINVAL);   // max_entries 0
    EXPECT_EQ(error_of(spec_of(MapType::Array, 4, 8, 1, mf::kNoPrealloc)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::Array, 4, 8, 1, mf::kMmapable)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::PercpuArray, 4, 8, 1, mf::kMmapable)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::PercpuArray, 4, 40000, 1)), E2BIG);
    EXPECT_EQ(error_of(spec_of(MapType::Array, 4, 8, 1, mf::kRdonlyProg | mf::kWronlyProg)),
              EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::Array, 4, 8, 1, mf::kRdonly | mf::kWronly)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::ProgArray, 4, 8, 1)), EINVAL);  // value is an fd
    EXPECT_EQ(error_of(spec_of(MapType::ProgArray, 4, 4, 1, mf::kRdonlyProg)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::PerfEventArray, 4, 4, 1, mf::kPreserveElems)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::Array, 4, 4, 1, mf::kPreserveElems)), EINVAL);
    MapSpec extra = spec_of(MapType::Array, 4, 4, 1);
    extra.map_extra = 1;
    EXPECT_EQ(error_of(extra), EINVAL);
}

TEST(MapSpecCheck, Hashes) {
    EXPECT_EQ(error_of(spec_of(MapType::Hash, 4, 8, 10)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::Hash, 0, 8, 10)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::Hash, 4, 0, 10)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::Hash, 4, 8, 0)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::Hash, 513, 8, 10)), E2BIG);
    EXPECT_EQ(error_of(spec_of(MapType::Hash, 4, 8, 10, mf::kNoPrealloc)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::Hash, 4, 8, 10, mf::kNoCommonLru)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::Hash, 4, 8, 10, mf::kMmapable)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::LruHash, 4, 8, 10, mf::kNoCommonLru)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::LruHash, 4, 8, 10, mf::kNoPrealloc)), kENOTSUPP);
    EXPECT_EQ(error_of(spec_of(MapType::PercpuHash, 4, 40000, 10)), E2BIG);
}

TEST(MapSpecCheck, LpmTrie) {
    EXPECT_EQ(error_of(spec_of(MapType::LpmTrie, 8, 8, 10, mf::kNoPrealloc)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::LpmTrie, 8, 8, 10)), EINVAL);  // needs NO_PREALLOC
    EXPECT_EQ(error_of(spec_of(MapType::LpmTrie, 4, 8, 10, mf::kNoPrealloc)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::LpmTrie, 261, 8, 10, mf::kNoPrealloc)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::LpmTrie, 260, 8, 10, mf::kNoPrealloc)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::LpmTrie, 8, 0, 10, mf::kNoPrealloc)), EINVAL);
}

TEST(MapSpecCheck, QueueStackBloomRingbuf) {
    EXPECT_EQ(error_of(spec_of(MapType::Queue, 0, 8, 10)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::Stack, 4, 8, 10)), EINVAL);  // no key
    EXPECT_EQ(error_of(spec_of(MapType::Queue, 0, 0, 10)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::Queue, 0, 8, 10, mf::kNoPrealloc)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::BloomFilter, 0, 8, 10)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::BloomFilter, 4, 8, 10)), EINVAL);
    MapSpec bloom = spec_of(MapType::BloomFilter, 0, 8, 10);
    bloom.map_extra = 0x13;  // beyond the 4 bits of hash-function count
    EXPECT_EQ(error_of(bloom), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::Ringbuf, 0, 0, 4096 * 4)), 0);
    EXPECT_EQ(error_of(spec_of(MapType::Ringbuf, 0, 0, 4096 * 3)), EINVAL);  // not 2^n
    EXPECT_EQ(error_of(spec_of(MapType::Ringbuf, 0, 0, 1024)), EINVAL);      // below a page
    EXPECT_EQ(error_of(spec_of(MapType::Ringbuf, 4, 0, 4096)), EINVAL);
    EXPECT_EQ(error_of(spec_of(MapType::Ringbuf, 0, 0, 4096, mf::kRdonlyProg)), EINVAL);
}

TEST(MapSpecCheck, MapsOfMaps) {
    MapSpec outer = spec_of(MapType::ArrayOfMaps, 4, 4, 4);
    EXPECT_EQ(error_of(outer), EINVAL);  // no inner definition
    outer.inner = std::make_shared<MapSpec>(spec_of(MapType::Hash, 4, 8, 16));
    EXPECT_EQ(error_of(outer), 0);
    outer.inner = std::make_shared<MapSpec>(spec_of(MapType::ArrayOfMaps, 4, 4, 1));
    EXPECT_EQ(error_of(outer), EINVAL);  // no nesting
    MapSpec hom = spec_of(MapType::HashOfMaps, 4, 4, 4);
    hom.inner = std::make_shared<MapSpec>(spec_of(MapType::Array, 4, 8, 16));
    EXPECT_EQ(error_of(hom), 0);
}

TEST(MapSpecCheck, ErrorSaysWhatIsWrong) {
    MapSpec s = spec_of(MapType::Ringbuf, 0, 0, 5000);
    s.name = "events";
    auto map = create_map(s);
    ASSERT_FALSE(map.ok());
    EXPECT_NE(map.error().to_string().find("events"), std::string::npos);
    EXPECT_NE(map.error().message().find("power-of-two"), std::string::npos);
    EXPECT_FALSE(create_map(spec_of(MapType::StackTrace, 4, 8, 1)).ok());
}

}  // namespace
}  // namespace xbpf
