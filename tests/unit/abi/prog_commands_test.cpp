#include <gtest/gtest.h>

#include <set>

#include "abi_support.hpp"

namespace xbpf::abi_test {
namespace {

TEST(AbiProgs, LoadReportsTheVerifiersStatsAtLogLevel1) {
    auto loaded = load(BPF_PROG_TYPE_XDP, returns(2));
    ASSERT_GE(loaded.fd, 0) << loaded.log;
    EXPECT_NE(loaded.log.find("processed"), std::string::npos) << loaded.log;
    close(static_cast<int>(loaded.fd));
}

TEST(AbiProgs, RejectedProgramIsEaccesWithTheVerifiersExplanation) {
    // r0 is read before it is written.
    std::vector<Insn> bad = {make::mov64_reg(0, 3), make::exit()};
    auto loaded = load(BPF_PROG_TYPE_XDP, bad);
    EXPECT_EQ(loaded.fd, -EACCES);
    EXPECT_NE(loaded.log.find("r3"), std::string::npos) << loaded.log;
    // Without a log the verdict is the same.
    EXPECT_EQ(load(BPF_PROG_TYPE_XDP, bad, 0, 0).fd, -EACCES);
}

TEST(AbiProgs, LogRules) {
    std::vector<Insn> bad = {make::mov64_reg(0, 3), make::exit()};
    // A log too small to hold the explanation: ENOSPC, the log truncated and terminated. It
    // keeps the end (the verdict); with BPF_LOG_FIXED (8) the start.
    auto full = load(BPF_PROG_TYPE_XDP, bad, 1, 1 << 20);
    auto truncated = load(BPF_PROG_TYPE_XDP, bad, 1, 64);
    EXPECT_EQ(truncated.fd, -ENOSPC);
    ASSERT_EQ(truncated.log.size(), 63u);
    EXPECT_EQ(truncated.log, full.log.substr(full.log.size() - 63));
    auto fixed = load(BPF_PROG_TYPE_XDP, bad, 1 | 8, 64);
    EXPECT_EQ(fixed.fd, -ENOSPC);
    EXPECT_EQ(fixed.log, full.log.substr(0, 63));
    // Unknown level bits are refused.
    EXPECT_EQ(load(BPF_PROG_TYPE_XDP, returns(2), 16, 4096).fd, -EINVAL);
    // Level 2 adds the verifier's state log.
    auto verbose = load(BPF_PROG_TYPE_XDP, returns(2), 2, 1 << 20);
    ASSERT_GE(verbose.fd, 0);
    auto terse = load(BPF_PROG_TYPE_XDP, returns(2), 1, 1 << 20);
    ASSERT_GE(terse.fd, 0);
    EXPECT_GT(verbose.log.size(), terse.log.size());
    close(static_cast<int>(verbose.fd));
    close(static_cast<int>(terse.fd));
}

TEST(AbiProgs, HelperProbesGetLinuxsWording) {
    // libbpf_probe_bpf_helper loads "call N; exit" and looks for these phrases in the log.
    auto disallowed = load(BPF_PROG_TYPE_XDP, {make::call_helper(9), make::exit()});
    EXPECT_EQ(disallowed.fd, -EACCES);
    EXPECT_NE(disallowed.log.find("unknown func bpf_skb_store_bytes#9"), std::string::npos)
        << disallowed.log;
    auto unknown = load(BPF_PROG_TYPE_XDP, {make::call_helper(100000), make::exit()});
    EXPECT_NE(unknown.log.find("invalid func unknown#100000"), std::string::npos) << unknown.log;
    // An allowed helper rejected for its arguments is not reported as missing.
    auto allowed = load(BPF_PROG_TYPE_XDP, {make::call_helper(1), make::exit()});
    EXPECT_EQ(allowed.fd, -EACCES);
    EXPECT_EQ(allowed.log.find(" func "), std::string::npos) << allowed.log;
}

TEST(AbiProgs, LoadErrors) {
    EXPECT_EQ(load(9999, returns(0)).fd, -EINVAL);                               // unknown type
    EXPECT_EQ(load(BPF_PROG_TYPE_XDP, {}).fd, -EINVAL);                          // no instructions
    EXPECT_EQ(load(BPF_PROG_TYPE_XDP, returns(0), 1, 4096, "a-b").fd, -EINVAL);  // name
    // A map reference through a descriptor that is not open.
    EXPECT_EQ(load(BPF_PROG_TYPE_XDP, bump_key_zero(4000)).fd, -EBADF);
}

TEST(AbiProgs, TestRunUsesTheProgramsMaps) {
    Fd map(create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1));
    ASSERT_GE(map, 0);
    auto loaded = load(BPF_PROG_TYPE_XDP, bump_key_zero(map));
    ASSERT_GE(loaded.fd, 0) << loaded.log;
    Fd prog(loaded.fd);
    uint8_t packet[64] = {};
    uint8_t out[64] = {};
    auto a = zeroed();
    a.test.prog_fd = static_cast<uint32_t>(prog.fd);
    a.test.data_in = reinterpret_cast<uintptr_t>(packet);
    a.test.data_size_in = sizeof packet;
    a.test.data_out = reinterpret_cast<uintptr_t>(out);
    a.test.data_size_out = sizeof out;
    a.test.repeat = 3;
    ASSERT_EQ(sys(BPF_PROG_TEST_RUN, a), 0);
    EXPECT_EQ(a.test.retval, 3u);  // the third run saw the value two runs left
    EXPECT_EQ(a.test.data_size_out, 64u);
    uint32_t key = 0;
    uint64_t value = 0;
    EXPECT_EQ(lookup(map, &key, &value), 0);
    EXPECT_EQ(value, 3u);

    // data_out too small: what fits is copied, the size reported, ENOSPC returned.
    a.test.repeat = 1;
    a.test.data_size_out = 10;
    EXPECT_EQ(sys(BPF_PROG_TEST_RUN, a), -ENOSPC);
    EXPECT_EQ(a.test.data_size_out, 64u);

    // An XDP frame shorter than an Ethernet header: EINVAL, as Linux.
    a.test.data_size_in = 4;
    a.test.data_out = 0;
    EXPECT_EQ(sys(BPF_PROG_TEST_RUN, a), -EINVAL);
    a.test.prog_fd = static_cast<uint32_t>(map.fd);
    EXPECT_EQ(sys(BPF_PROG_TEST_RUN, a), -EINVAL);
}

TEST(AbiProgs, InfoByFd) {
    Fd map(create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, "counter"));
    auto loaded = load(BPF_PROG_TYPE_XDP, bump_key_zero(map), 1, 65536, "bump");
    ASSERT_GE(loaded.fd, 0) << loaded.log;
    Fd prog(loaded.fd);

    bpf_map_info map_info{};
    auto a = zeroed();
    a.info.bpf_fd = static_cast<uint32_t>(map.fd);
    a.info.info = reinterpret_cast<uintptr_t>(&map_info);
    a.info.info_len = sizeof map_info;
    ASSERT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), 0);
    EXPECT_EQ(map_info.type, uint32_t(BPF_MAP_TYPE_ARRAY));
    EXPECT_EQ(map_info.key_size, 4u);
    EXPECT_EQ(map_info.value_size, 8u);
    EXPECT_STREQ(map_info.name, "counter");
    EXPECT_GT(map_info.id, 0u);

    uint32_t map_ids[4] = {};
    std::vector<Insn> xlated(64);
    bpf_prog_info info{};
    info.nr_map_ids = 4;
    info.map_ids = reinterpret_cast<uintptr_t>(map_ids);
    info.xlated_prog_len = static_cast<uint32_t>(xlated.size() * sizeof(Insn));
    info.xlated_prog_insns = reinterpret_cast<uintptr_t>(xlated.data());
    a = zeroed();
    a.info.bpf_fd = static_cast<uint32_t>(prog.fd);
    a.info.info = reinterpret_cast<uintptr_t>(&info);
    a.info.info_len = sizeof info;
    ASSERT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), 0);
    EXPECT_EQ(info.type, uint32_t(BPF_PROG_TYPE_XDP));
    EXPECT_STREQ(info.name, "bump");
    EXPECT_EQ(info.nr_map_ids, 1u);
    EXPECT_EQ(map_ids[0], map_info.id);
    EXPECT_TRUE(info.gpl_compatible);
    const auto program = bump_key_zero(map);
    ASSERT_EQ(info.xlated_prog_len, program.size() * sizeof(Insn));
    // The xlated lddw names the map by id, as Linux's dump does.
    EXPECT_EQ(xlated[1].opcode, op::LDDW);
    EXPECT_EQ(xlated[1].src, op::kImmMapByFd);
    EXPECT_EQ(uint32_t(xlated[1].imm), map_info.id);
    uint64_t tag = 0;
    std::memcpy(&tag, info.tag, 8);
    EXPECT_NE(tag, 0u);

    // A caller's struct longer than Linux's, with something in the extra bytes: E2BIG.
    std::vector<uint8_t> longer(sizeof(bpf_prog_info) + 8, 0);
    longer.back() = 1;
    a.info.info = reinterpret_cast<uintptr_t>(longer.data());
    a.info.info_len = static_cast<uint32_t>(longer.size());
    EXPECT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), -E2BIG);
    // A shorter one gets what fits.
    bpf_prog_info head{};
    a.info.info = reinterpret_cast<uintptr_t>(&head);
    a.info.info_len = 8;
    ASSERT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), 0);
    EXPECT_EQ(a.info.info_len, 8u);
    EXPECT_EQ(head.id, info.id);
    EXPECT_EQ(head.nr_map_ids, 0u);
}

TEST(AbiProgs, IdsListLiveObjectsAndOpenThem) {
    Fd prog(load(BPF_PROG_TYPE_XDP, returns(2)).fd);
    ASSERT_GE(prog, 0);
    bpf_prog_info info{};
    auto a = zeroed();
    a.info.bpf_fd = static_cast<uint32_t>(prog.fd);
    a.info.info = reinterpret_cast<uintptr_t>(&info);
    a.info.info_len = sizeof info;
    ASSERT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), 0);

    std::set<uint32_t> ids;
    a = zeroed();
    while (sys(BPF_PROG_GET_NEXT_ID, a) == 0) {
        ids.insert(a.next_id);
        a.start_id = a.next_id;
    }
    EXPECT_EQ(ids.count(info.id), 1u);

    a = zeroed();
    a.prog_id = info.id;
    Fd again(sys(BPF_PROG_GET_FD_BY_ID, a));
    ASSERT_GE(again, 0);
    bpf_prog_info info2{};
    a = zeroed();
    a.info.bpf_fd = static_cast<uint32_t>(again.fd);
    a.info.info = reinterpret_cast<uintptr_t>(&info2);
    a.info.info_len = sizeof info2;
    ASSERT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), 0);
    EXPECT_EQ(info2.id, info.id);

    a = zeroed();
    a.map_id = 0xfffffff0;
    EXPECT_EQ(sys(BPF_MAP_GET_FD_BY_ID, a), -ENOENT);
}

TEST(AbiProgs, ObjectsNothingRefersToAreReleased) {
    uint32_t id = 0;
    {
        Fd map(create_map(BPF_MAP_TYPE_HASH, 4, 4, 1));
        bpf_map_info info{};
        auto a = zeroed();
        a.info.bpf_fd = static_cast<uint32_t>(map.fd);
        a.info.info = reinterpret_cast<uintptr_t>(&info);
        a.info.info_len = sizeof info;
        ASSERT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), 0);
        id = info.id;
    }
    // Listing ids notices the descriptor is gone.
    auto a = zeroed();
    a.start_id = id - 1;
    const long r = sys(BPF_MAP_GET_NEXT_ID, a);
    EXPECT_TRUE(r == -ENOENT || a.next_id != id);
    a = zeroed();
    a.map_id = id;
    EXPECT_EQ(sys(BPF_MAP_GET_FD_BY_ID, a), -ENOENT);
}

TEST(AbiProgs, ProgramsKeepTheirMapsAlive) {
    long map_fd = create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
    auto loaded = load(BPF_PROG_TYPE_XDP, bump_key_zero(static_cast<int>(map_fd)));
    ASSERT_GE(loaded.fd, 0);
    Fd prog(loaded.fd);
    bpf_map_info info{};
    auto a = zeroed();
    a.info.bpf_fd = static_cast<uint32_t>(map_fd);
    a.info.info = reinterpret_cast<uintptr_t>(&info);
    a.info.info_len = sizeof info;
    ASSERT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), 0);
    close(static_cast<int>(map_fd));
    a = zeroed();
    sys(BPF_MAP_GET_NEXT_ID, a);  // a sweep
    a = zeroed();
    a.map_id = info.id;
    Fd reopened(sys(BPF_MAP_GET_FD_BY_ID, a));
    EXPECT_GE(reopened, 0);
}

TEST(AbiProgs, BindMapAndStats) {
    Fd prog(load(BPF_PROG_TYPE_XDP, returns(2)).fd);
    Fd map(create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1));
    auto a = zeroed();
    a.prog_bind_map.prog_fd = static_cast<uint32_t>(prog.fd);
    a.prog_bind_map.map_fd = static_cast<uint32_t>(map.fd);
    EXPECT_EQ(sys(BPF_PROG_BIND_MAP, a), 0);
    a.prog_bind_map.flags = 1;
    EXPECT_EQ(sys(BPF_PROG_BIND_MAP, a), -EINVAL);

    a = zeroed();
    a.enable_stats.type = BPF_STATS_RUN_TIME;
    Fd stats(sys(BPF_ENABLE_STATS, a));
    EXPECT_GE(stats, 0);
    a.enable_stats.type = 7;
    EXPECT_EQ(sys(BPF_ENABLE_STATS, a), -EINVAL);

    uint8_t packet[64] = {};
    a = zeroed();
    a.test.prog_fd = static_cast<uint32_t>(prog.fd);
    a.test.data_in = reinterpret_cast<uintptr_t>(packet);
    a.test.data_size_in = sizeof packet;
    a.test.repeat = 5;
    ASSERT_EQ(sys(BPF_PROG_TEST_RUN, a), 0);

    bpf_prog_info info{};
    a = zeroed();
    a.info.bpf_fd = static_cast<uint32_t>(prog.fd);
    a.info.info = reinterpret_cast<uintptr_t>(&info);
    a.info.info_len = sizeof info;
    ASSERT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), 0);
    EXPECT_EQ(info.nr_map_ids, 1u);
    EXPECT_EQ(info.run_cnt, 5u);
}

}  // namespace
}  // namespace xbpf::abi_test
