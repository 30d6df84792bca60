#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/btf.h>
#include <stdlib.h>

#include <filesystem>

#include "abi_support.hpp"

namespace xbpf::abi_test {
namespace {

// BTF with one type: int (4 bytes, signed).
std::vector<uint8_t> int_btf() {
    btf_header header{};
    header.magic = BTF_MAGIC;
    header.version = BTF_VERSION;
    header.hdr_len = sizeof header;
    header.type_off = 0;
    header.type_len = sizeof(btf_type) + 4;
    header.str_off = header.type_len;
    header.str_len = 5;
    btf_type type{};
    type.name_off = 1;
    type.info = BTF_KIND_INT << 24;
    type.size = 4;
    const uint32_t encoding = (BTF_INT_SIGNED << 24) | 32;
    std::vector<uint8_t> out(sizeof header + header.type_len + header.str_len);
    std::memcpy(out.data(), &header, sizeof header);
    std::memcpy(out.data() + sizeof header, &type, sizeof type);
    std::memcpy(out.data() + sizeof header + sizeof type, &encoding, 4);
    std::memcpy(out.data() + sizeof header + header.type_len, "\0int", 5);
    return out;
}

long load_btf(const std::vector<uint8_t>& btf, std::string* log = nullptr) {
    std::string buffer(4096, '\0');
    auto a = zeroed();
    a.btf = reinterpret_cast<uintptr_t>(btf.data());
    a.btf_size = static_cast<uint32_t>(btf.size());
    if (log != nullptr) {
        a.btf_log_buf = reinterpret_cast<uintptr_t>(buffer.data());
        a.btf_log_size = static_cast<uint32_t>(buffer.size());
        a.btf_log_level = 1;
    }
    const long r = sys(BPF_BTF_LOAD, a);
    if (log != nullptr) *log = buffer.c_str();
    return r;
}

TEST(AbiBtf, LoadInfoAndMapsWithTypes) {
    const auto btf = int_btf();
    Fd fd(load_btf(btf));
    ASSERT_GE(fd, 0);
    std::vector<uint8_t> copy(btf.size());
    bpf_btf_info info{};
    info.btf = reinterpret_cast<uintptr_t>(copy.data());
    info.btf_size = static_cast<uint32_t>(copy.size());
    auto a = zeroed();
    a.info.bpf_fd = static_cast<uint32_t>(fd.fd);
    a.info.info = reinterpret_cast<uintptr_t>(&info);
    a.info.info_len = sizeof info;
    ASSERT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, a), 0);
    EXPECT_EQ(copy, btf);
    EXPECT_GT(info.id, 0u);

    // A hash map typed int -> int with that BTF; a mismatching value size is refused.
    a = zeroed();
    a.map_type = BPF_MAP_TYPE_HASH;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 2;
    a.btf_fd = static_cast<uint32_t>(fd.fd);
    a.btf_key_type_id = 1;
    a.btf_value_type_id = 1;
    Fd map(sys(BPF_MAP_CREATE, a));
    EXPECT_GE(map, 0);
    a.value_size = 8;
    EXPECT_EQ(sys(BPF_MAP_CREATE, a), -EINVAL);

    std::string log;
    std::vector<uint8_t> garbage = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                    14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25};
    EXPECT_EQ(load_btf(garbage, &log), -EINVAL);
    EXPECT_NE(log.find("magic"), std::string::npos) << log;
}

TEST(AbiLinks, XdpLinkOnTheLoopback) {
    Fd prog(load(BPF_PROG_TYPE_XDP, returns(2)).fd);
    Fd other(load(BPF_PROG_TYPE_XDP, returns(1)).fd);
    auto a = zeroed();
    a.link_create.prog_fd = static_cast<uint32_t>(prog.fd);
    a.link_create.target_ifindex = 7;
    a.link_create.attach_type = BPF_XDP;
    EXPECT_EQ(sys(BPF_LINK_CREATE, a), -ENODEV);
    a.link_create.target_ifindex = 1;
    Fd link(sys(BPF_LINK_CREATE, a));
    ASSERT_GE(link, 0);
    a.link_create.attach_type = BPF_CGROUP_INET_INGRESS;  // wrong type for an XDP program
    EXPECT_EQ(sys(BPF_LINK_CREATE, a), -EINVAL);

    auto info_of = [&](int fd) {
        bpf_link_info info{};
        auto q = zeroed();
        q.info.bpf_fd = static_cast<uint32_t>(fd);
        q.info.info = reinterpret_cast<uintptr_t>(&info);
        q.info.info_len = sizeof info;
        EXPECT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, q), 0);
        return info;
    };
    auto prog_id = [&](int fd) {
        bpf_prog_info info{};
        auto q = zeroed();
        q.info.bpf_fd = static_cast<uint32_t>(fd);
        q.info.info = reinterpret_cast<uintptr_t>(&info);
        q.info.info_len = sizeof info;
        EXPECT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, q), 0);
        return info.id;
    };
    auto info = info_of(link);
    EXPECT_EQ(info.type, uint32_t(BPF_LINK_TYPE_XDP));
    EXPECT_EQ(info.prog_id, prog_id(prog));
    EXPECT_EQ(info.xdp.ifindex, 1u);

    a = zeroed();
    a.link_update.link_fd = static_cast<uint32_t>(link.fd);
    a.link_update.new_prog_fd = static_cast<uint32_t>(other.fd);
    a.link_update.flags = BPF_F_REPLACE;
    a.link_update.old_prog_fd = static_cast<uint32_t>(other.fd);
    EXPECT_EQ(sys(BPF_LINK_UPDATE, a), -EPERM);  // `other` is not the linked program
    a.link_update.old_prog_fd = static_cast<uint32_t>(prog.fd);
    EXPECT_EQ(sys(BPF_LINK_UPDATE, a), 0);
    EXPECT_EQ(info_of(link).prog_id, prog_id(other));

    a = zeroed();
    a.link_detach.link_fd = static_cast<uint32_t>(link.fd);
    EXPECT_EQ(sys(BPF_LINK_DETACH, a), 0);
    EXPECT_EQ(info_of(link).prog_id, 0u);
}

TEST(AbiLinks, CgroupAttachDetachQuery) {
    // A cgroup is named by a directory descriptor; any directory stands for one here.
    const int dir = open(std::filesystem::temp_directory_path().c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(dir, 0);
    Fd dir_fd(dir);
    Fd prog(load(BPF_PROG_TYPE_CGROUP_SKB, returns(1)).fd);
    ASSERT_GE(prog, 0);
    auto a = zeroed();
    a.target_fd = static_cast<uint32_t>(dir);
    a.attach_bpf_fd = static_cast<uint32_t>(prog.fd);
    a.attach_type = BPF_CGROUP_INET_EGRESS;
    a.attach_flags = BPF_F_ALLOW_MULTI;
    ASSERT_EQ(sys(BPF_PROG_ATTACH, a), 0);

    uint32_t ids[4] = {};
    auto q = zeroed();
    q.query.target_fd = static_cast<uint32_t>(dir);
    q.query.attach_type = BPF_CGROUP_INET_EGRESS;
    q.query.prog_ids = reinterpret_cast<uintptr_t>(ids);
    q.query.prog_cnt = 4;
    ASSERT_EQ(sys(BPF_PROG_QUERY, q), 0);
    EXPECT_EQ(q.query.prog_cnt, 1u);
    EXPECT_NE(ids[0], 0u);

    EXPECT_EQ(sys(BPF_PROG_DETACH, a), 0);
    EXPECT_EQ(sys(BPF_PROG_DETACH, a), -ENOENT);
    q.query.prog_cnt = 4;
    ASSERT_EQ(sys(BPF_PROG_QUERY, q), 0);
    EXPECT_EQ(q.query.prog_cnt, 0u);
}

class AbiPins : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ =
            std::filesystem::temp_directory_path() / ("xbpf-abi-pins-" + std::to_string(getpid()));
        std::filesystem::create_directories(root_);
        setenv("XBPF_PIN_ROOT", root_.c_str(), 1);
    }
    void TearDown() override {
        unsetenv("XBPF_PIN_ROOT");
        std::filesystem::remove_all(root_);
    }
    std::filesystem::path root_;
};

TEST_F(AbiPins, PinAndGetAProgram) {
    Fd prog(load(BPF_PROG_TYPE_XDP, returns(2)).fd);
    ASSERT_GE(prog, 0);
    const std::string path = "/sys/fs/bpf/my_prog";
    auto a = zeroed();
    a.pathname = reinterpret_cast<uintptr_t>(path.c_str());
    a.bpf_fd = static_cast<uint32_t>(prog.fd);
    ASSERT_EQ(sys(BPF_OBJ_PIN, a), 0);
    EXPECT_TRUE(std::filesystem::exists(root_ / "my_prog"));
    EXPECT_EQ(sys(BPF_OBJ_PIN, a), -EEXIST);
    const std::string outside = "/tmp/not-bpffs";
    a.pathname = reinterpret_cast<uintptr_t>(outside.c_str());
    EXPECT_EQ(sys(BPF_OBJ_PIN, a), -EPERM);

    a = zeroed();
    a.pathname = reinterpret_cast<uintptr_t>(path.c_str());
    Fd got(sys(BPF_OBJ_GET, a));
    ASSERT_GE(got, 0);
    // The same program: the same id.
    auto id_of = [](int fd) {
        bpf_prog_info info{};
        auto q = zeroed();
        q.info.bpf_fd = static_cast<uint32_t>(fd);
        q.info.info = reinterpret_cast<uintptr_t>(&info);
        q.info.info_len = sizeof info;
        EXPECT_EQ(sys(BPF_OBJ_GET_INFO_BY_FD, q), 0);
        return info.id;
    };
    EXPECT_EQ(id_of(got), id_of(prog));
    const std::string missing = "/sys/fs/bpf/none";
    a.pathname = reinterpret_cast<uintptr_t>(missing.c_str());
    EXPECT_EQ(sys(BPF_OBJ_GET, a), -ENOENT);
}

TEST_F(AbiPins, PinPathsMapToThePinRoot) {
    EXPECT_EQ(abi::pin_path("/sys/fs/bpf/a/b"), root_ / "a/b");
    EXPECT_EQ(abi::pin_path((root_ / "c").string()), root_ / "c");
    EXPECT_FALSE(abi::pin_path("/etc/passwd"));
    EXPECT_FALSE(abi::pin_path("/sys/fs/bpf/../x"));
}

}  // namespace
}  // namespace xbpf::abi_test
