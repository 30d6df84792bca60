// The prototype table covers every Linux helper id with Linux's facts.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "xbpf/helpers.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

TEST(HelperPrototypes, EveryLinuxHelperHasOne) {
    const auto& catalog = HelperCatalog::linux_helpers();
    for (int32_t id = 1; id < __BPF_FUNC_MAX_ID; ++id) {
        const HelperDefinition* def = catalog.find(id);
        ASSERT_NE(def, nullptr) << "helper " << id;
        EXPECT_EQ(def->prototype.name, linux_helper_name(id));
    }
    EXPECT_EQ(catalog.find(0), nullptr);
    EXPECT_EQ(catalog.find(__BPF_FUNC_MAX_ID), nullptr);
}

TEST(HelperPrototypes, SampleFactsMatchLinux) {
    const auto& c = HelperCatalog::linux_helpers();
    using A = HelperArg;
    auto args = [&](int32_t id) { return c.find(id)->prototype.args; };
    EXPECT_EQ(c.find(BPF_FUNC_map_lookup_elem)->prototype.ret, HelperRet::MapValueOrNull);
    EXPECT_EQ(args(BPF_FUNC_map_lookup_elem), (std::array<A, 5>{A::Map, A::MapKey}));
    EXPECT_EQ(args(BPF_FUNC_probe_read),
              (std::array<A, 5>{A::MemUninit, A::SizeOrZero, A::Anything}));
    EXPECT_TRUE(c.find(BPF_FUNC_probe_read)->prototype.gpl_only);
    EXPECT_EQ(args(BPF_FUNC_perf_event_output),
              (std::array<A, 5>{A::Context, A::Map, A::Scalar, A::Mem, A::SizeOrZero}));
    EXPECT_EQ(c.find(BPF_FUNC_ringbuf_reserve)->prototype.ret, HelperRet::AllocMemOrNull);
    EXPECT_EQ(args(BPF_FUNC_ringbuf_reserve),
              (std::array<A, 5>{A::Map, A::AllocSizeOrZero, A::Scalar}));
    EXPECT_TRUE(c.find(BPF_FUNC_ringbuf_submit)->prototype.releases_first_argument);
    EXPECT_EQ(args(BPF_FUNC_skb_load_bytes),
              (std::array<A, 5>{A::Context, A::Scalar, A::MemUninit, A::Size}));
    EXPECT_EQ(args(BPF_FUNC_get_current_comm), (std::array<A, 5>{A::MemUninit, A::Size}));
    EXPECT_EQ(args(BPF_FUNC_tail_call), (std::array<A, 5>{A::Context, A::Map, A::Scalar}));
    EXPECT_EQ(args(BPF_FUNC_loop),
              (std::array<A, 5>{A::Scalar, A::Func, A::StackOrNull, A::Scalar}));
    EXPECT_TRUE(c.find(BPF_FUNC_xdp_adjust_head)->prototype.changes_packet_data);
    EXPECT_TRUE(c.find(BPF_FUNC_skb_store_bytes)->prototype.changes_packet_data);
    EXPECT_FALSE(c.find(BPF_FUNC_skb_load_bytes)->prototype.changes_packet_data);
    EXPECT_TRUE(c.find(BPF_FUNC_sk_lookup_tcp)->prototype.acquires_reference);
    EXPECT_EQ(c.find(BPF_FUNC_spin_lock)->prototype.ret, HelperRet::Void);
}

TEST(HelperCatalog, EmbedderHelpersAreAddedToACopy) {
    HelperCatalog mine = HelperCatalog::linux_helpers();
    HelperDefinition def;
    def.id = 0x10000;
    def.prototype.name = "my_helper";
    def.prototype.args = {HelperArg::Scalar};
    def.function = [](uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
        return r1 * 2;
    };
    mine.add(def);
    ASSERT_NE(mine.find(0x10000), nullptr);
    EXPECT_EQ(mine.table().get(0x10000), def.function);
    EXPECT_EQ(HelperCatalog::linux_helpers().find(0x10000), nullptr);
}

}  // namespace
}  // namespace xbpf
