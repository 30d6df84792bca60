#include <gtest/gtest.h>

#include <vector>

#include "abi_support.hpp"

namespace xbpf::abi_test {
namespace {

TEST(AbiSyscall, UnknownCommandsAreEinval) {
    auto a = zeroed();
    EXPECT_EQ(sys(9999, a), -EINVAL);
    EXPECT_EQ(sys(-1, a), -EINVAL);
    EXPECT_EQ(sys(BPF_RAW_TRACEPOINT_OPEN, a), -EINVAL);
}

TEST(AbiSyscall, AttrSizeRules) {
    // Larger than a page: E2BIG, before anything is read.
    std::vector<char> big(8192, 0);
    errno = 0;
    EXPECT_EQ(bpf_syscall(BPF_MAP_CREATE, big.data(), 8192), -1);
    EXPECT_EQ(errno, E2BIG);
    // Longer than union bpf_attr with a non-zero byte beyond it: E2BIG.
    std::vector<char> longer(sizeof(union bpf_attr) + 16, 0);
    longer.back() = 1;
    EXPECT_EQ(bpf_syscall(BPF_MAP_CREATE, longer.data(), unsigned(longer.size())), -1);
    EXPECT_EQ(errno, E2BIG);
    // Longer but zero beyond: fine.
    longer.back() = 0;
    auto* attr = reinterpret_cast<union bpf_attr*>(longer.data());
    attr->map_type = BPF_MAP_TYPE_ARRAY;
    attr->key_size = 4;
    attr->value_size = 4;
    attr->max_entries = 1;
    const long fd = bpf_syscall(BPF_MAP_CREATE, longer.data(), unsigned(longer.size()));
    EXPECT_GE(fd, 0);
    if (fd >= 0) close(static_cast<int>(fd));
    // A null attr with a size: EFAULT.
    EXPECT_EQ(bpf_syscall(BPF_MAP_CREATE, nullptr, 16), -1);
    EXPECT_EQ(errno, EFAULT);
}

TEST(AbiSyscall, BytesPastTheCommandsFieldsAreEinval) {
    // BPF_MAP_FREEZE uses only map_fd; anything after it must be zero.
    Fd fd(create_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1));
    auto a = zeroed();
    a.map_fd = static_cast<uint32_t>(fd.fd);
    a.key = 1;
    EXPECT_EQ(sys(BPF_MAP_FREEZE, a), -EINVAL);
}

TEST(AbiSyscall, ShortAttrsReadAsZeroFilled) {
    // Callers built against an older header pass a shorter attr: the rest reads as zero.
    auto a = zeroed();
    a.map_type = BPF_MAP_TYPE_HASH;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 4;
    Fd fd(sys(BPF_MAP_CREATE, a, offsetof(union bpf_attr, map_flags)));
    EXPECT_GE(fd, 0);
}

}  // namespace
}  // namespace xbpf::abi_test
