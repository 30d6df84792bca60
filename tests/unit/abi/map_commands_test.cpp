#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "abi_support.hpp"

namespace xbpf::abi_test {
namespace {

TEST(AbiMaps, HashElementCommands) {
    Fd fd(create_map(BPF_MAP_TYPE_HASH, 4, 8, 16, 0, "counts"));
    ASSERT_GE(fd, 0);
    uint32_t key = 7;
    uint64_t value = 42, out = 0;
    EXPECT_EQ(update(fd, &key, &value), 0);
    EXPECT_EQ(update(fd, &key, &value, BPF_NOEXIST), -EEXIST);
    EXPECT_EQ(lookup(fd, &key, &out), 0);
    EXPECT_EQ(out, 42u);

    auto a = zeroed();
    uint32_t next = 0;
    a.map_fd = static_cast<uint32_t>(fd.fd);
    a.key = 0;
    a.next_key = reinterpret_cast<uintptr_t>(&next);
    EXPECT_EQ(sys(BPF_MAP_GET_NEXT_KEY, a), 0);
    EXPECT_EQ(next, 7u);
    a.key = reinterpret_cast<uintptr_t>(&next);
    EXPECT_EQ(sys(BPF_MAP_GET_NEXT_KEY, a), -ENOENT);

    a = zeroed();
    a.map_fd = static_cast<uint32_t>(fd.fd);
    a.key = reinterpret_cast<uintptr_t>(&key);
    a.value = reinterpret_cast<uintptr_t>(&out);
    out = 0;
    EXPECT_EQ(sys(BPF_MAP_LOOKUP_AND_DELETE_ELEM, a), 0);
    EXPECT_EQ(out, 42u);
    EXPECT_EQ(lookup(fd, &key, &out), -ENOENT);

    EXPECT_EQ(update(fd, &key, &value), 0);
    a = zeroed();
    a.map_fd = static_cast<uint32_t>(fd.fd);
    a.key = reinterpret_cast<uintptr_t>(&key);
    EXPECT_EQ(sys(BPF_MAP_DELETE_ELEM, a), 0);
    EXPECT_EQ(sys(BPF_MAP_DELETE_ELEM, a), -ENOENT);
}

TEST(AbiMaps, FreezeStopsHostWrites) {
    Fd fd(create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2));
    ASSERT_GE(fd, 0);
    auto a = zeroed();
    a.map_fd = static_cast<uint32_t>(fd.fd);
    EXPECT_EQ(sys(BPF_MAP_FREEZE, a), 0);
    EXPECT_EQ(sys(BPF_MAP_FREEZE, a), -EPERM);  // no longer writable: Linux says EPERM
    uint32_t key = 0;
    uint64_t value = 1;
    EXPECT_EQ(update(fd, &key, &value), -EPERM);
}

TEST(AbiMaps, BatchCommands) {
    Fd fd(create_map(BPF_MAP_TYPE_HASH, 4, 8, 16));
    ASSERT_GE(fd, 0);
    uint32_t keys[5] = {1, 2, 3, 4, 5};
    uint64_t values[5] = {10, 20, 30, 40, 50};
    auto a = zeroed();
    a.batch.map_fd = static_cast<uint32_t>(fd.fd);
    a.batch.keys = reinterpret_cast<uintptr_t>(keys);
    a.batch.values = reinterpret_cast<uintptr_t>(values);
    a.batch.count = 5;
    EXPECT_EQ(sys(BPF_MAP_UPDATE_BATCH, a), 0);
    EXPECT_EQ(a.batch.count, 5u);

    uint32_t out_keys[16] = {};
    uint64_t out_values[16] = {};
    uint32_t token = 0;
    a = zeroed();
    a.batch.map_fd = static_cast<uint32_t>(fd.fd);
    a.batch.keys = reinterpret_cast<uintptr_t>(out_keys);
    a.batch.values = reinterpret_cast<uintptr_t>(out_values);
    a.batch.out_batch = reinterpret_cast<uintptr_t>(&token);
    a.batch.count = 16;
    // The whole map at once: ENOENT says the map is exhausted, count says what came back.
    EXPECT_EQ(sys(BPF_MAP_LOOKUP_BATCH, a), -ENOENT);
    ASSERT_EQ(a.batch.count, 5u);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < 5; ++i) {
        EXPECT_EQ(out_values[i], uint64_t(out_keys[i]) * 10);
        sum += out_values[i];
    }
    EXPECT_EQ(sum, 150u);

    a = zeroed();
    a.batch.map_fd = static_cast<uint32_t>(fd.fd);
    a.batch.keys = reinterpret_cast<uintptr_t>(keys);
    a.batch.count = 2;
    EXPECT_EQ(sys(BPF_MAP_DELETE_BATCH, a), 0);
    uint64_t v = 0;
    EXPECT_EQ(lookup(fd, &keys[0], &v), -ENOENT);
    EXPECT_EQ(lookup(fd, &keys[2], &v), 0);
}

TEST(AbiMaps, CreateErrors) {
    EXPECT_EQ(create_map(9999, 4, 4, 1), -EINVAL);                // no such map type
    EXPECT_EQ(create_map(BPF_MAP_TYPE_ARRAY, 8, 4, 1), -EINVAL);  // array keys are 4 bytes
    EXPECT_EQ(create_map(BPF_MAP_TYPE_HASH, 4, 4, 0), -EINVAL);   // no entries
    EXPECT_EQ(create_map(BPF_MAP_TYPE_HASH, 4, 4, 1, 0, "bad name"), -EINVAL);
}

TEST(AbiMaps, DescriptorErrors) {
    uint32_t key = 0;
    uint64_t value = 0;
    EXPECT_EQ(lookup(-1, &key, &value), -EBADF);
    EXPECT_EQ(lookup(12345, &key, &value), -EBADF);
    // An open descriptor that is not a map.
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    EXPECT_EQ(lookup(pipe_fds[0], &key, &value), -EINVAL);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    // A program descriptor is not a map either.
    Fd prog(load(BPF_PROG_TYPE_XDP, returns(2)).fd);
    ASSERT_GE(prog, 0);
    EXPECT_EQ(lookup(prog, &key, &value), -EINVAL);
}

TEST(AbiMaps, DescriptorsAreFilesThatDupAndCloseLikeKernelOnes) {
    const int fd = static_cast<int>(create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1));
    ASSERT_GE(fd, 0);
    const int copy = dup(fd);
    ASSERT_GE(copy, 0);
    close(fd);
    uint32_t key = 0;
    uint64_t value = 99, out = 0;
    EXPECT_EQ(update(copy, &key, &value), 0);
    EXPECT_EQ(lookup(copy, &key, &out), 0);
    EXPECT_EQ(out, 99u);
    close(copy);
    EXPECT_EQ(lookup(copy, &key, &out), -EBADF);
}

// A descriptor passed over a Unix socket arrives as a new number: still the same map.
TEST(AbiMaps, DescriptorsTravelOverUnixSockets) {
    Fd fd(create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1));
    ASSERT_GE(fd, 0);
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, pair), 0);
    Fd a(pair[0]), b(pair[1]);
    char byte = 'x';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd.fd, sizeof(int));
    ASSERT_EQ(sendmsg(a, &msg, 0), 1);
    std::memset(control, 0, sizeof control);
    ASSERT_EQ(recvmsg(b, &msg, 0), 1);
    int received = -1;
    std::memcpy(&received, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
    Fd other(received);
    ASSERT_NE(other.fd, fd.fd);
    uint32_t key = 0;
    uint64_t value = 5, out = 0;
    EXPECT_EQ(update(other, &key, &value), 0);
    EXPECT_EQ(lookup(fd, &key, &out), 0);
    EXPECT_EQ(out, 5u);
}

TEST(AbiMaps, MmapableArrayMapsTheMapsValues) {
    Fd fd(create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_MMAPABLE));
    ASSERT_GE(fd, 0);
    auto mapped =
        abi::mmap_object(::mmap, nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_TRUE(mapped.has_value());
    ASSERT_NE(*mapped, MAP_FAILED);
    auto* values = static_cast<uint64_t*>(*mapped);
    values[2] = 1234;  // written through the mapping...
    uint32_t key = 2;
    uint64_t out = 0;
    EXPECT_EQ(lookup(fd, &key, &out), 0);  // ...read through bpf()
    EXPECT_EQ(out, 1234u);
    uint64_t value = 77;
    EXPECT_EQ(update(fd, &key, &value), 0);
    EXPECT_EQ(values[2], 77u);
    munmap(*mapped, 4096);

    // Not mmap-able: Linux refuses arrays without BPF_F_MMAPABLE with EINVAL.
    Fd plain(create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4));
    auto refused = abi::mmap_object(::mmap, nullptr, 4096, PROT_READ, MAP_SHARED, plain, 0);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(*refused, MAP_FAILED);
    EXPECT_EQ(errno, EINVAL);
    // Descriptors that are not xbpf's are left to the real mmap.
    EXPECT_FALSE(abi::mmap_object(::mmap, nullptr, 4096, PROT_READ, MAP_SHARED, 0, 0));
}

TEST(AbiMaps, RingBufferMapsAsLinuxDoes) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    Fd fd(create_map(BPF_MAP_TYPE_RINGBUF, 0, 0, static_cast<uint32_t>(page * 4)));
    ASSERT_GE(fd, 0);
    auto consumer =
        abi::mmap_object(::mmap, nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ASSERT_TRUE(consumer && *consumer != MAP_FAILED);
    auto producer = abi::mmap_object(::mmap, nullptr, page + 2 * page * 4, PROT_READ, MAP_SHARED,
                                     fd, static_cast<off_t>(page));
    ASSERT_TRUE(producer && *producer != MAP_FAILED);
    EXPECT_EQ(*static_cast<uint64_t*>(*consumer), 0u);
    EXPECT_EQ(*static_cast<uint64_t*>(*producer), 0u);
    // The producer part is read-only, as in Linux.
    auto writable = abi::mmap_object(::mmap, nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                                     static_cast<off_t>(page));
    ASSERT_TRUE(writable);
    EXPECT_EQ(*writable, MAP_FAILED);
    munmap(*consumer, page);
    munmap(*producer, page + 2 * page * 4);
}

}  // namespace
}  // namespace xbpf::abi_test
