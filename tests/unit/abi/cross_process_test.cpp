// Pins seen from another process: a child process (this test program executed again, running
// one AbiCrossProcessChild test) opens what the parent pinned through bpf() alone and changes
// it; the parent sees the change. The child starts from nothing: no descriptors, no objects.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>

#include "abi_support.hpp"

namespace xbpf::abi_test {
namespace {

class AbiCrossProcess : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ =
            std::filesystem::temp_directory_path() / ("xbpf-abi-cross-" + std::to_string(getpid()));
        std::filesystem::create_directories(root_);
        setenv("XBPF_PIN_ROOT", root_.c_str(), 1);
    }
    void TearDown() override {
        unsetenv("XBPF_PIN_ROOT");
        std::filesystem::remove_all(root_);
    }
    // Runs AbiCrossProcessChild.<test> in a new process; its exit status (0: it passed).
    int in_child(const char* test) {
        const std::string filter = std::string("--gtest_filter=AbiCrossProcessChild.") + test;
        const pid_t pid = fork();
        if (pid == 0) {
            setenv("XBPF_ABI_CHILD", "1", 1);
            execl("/proc/self/exe", "abi_tests", filter.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
    }
    std::filesystem::path root_;
};

long obj_get(const char* path) {
    auto a = zeroed();
    a.pathname = reinterpret_cast<uintptr_t>(path);
    return sys(BPF_OBJ_GET, a);
}

long obj_pin(int fd, const char* path) {
    auto a = zeroed();
    a.pathname = reinterpret_cast<uintptr_t>(path);
    a.bpf_fd = static_cast<uint32_t>(fd);
    return sys(BPF_OBJ_PIN, a);
}

TEST_F(AbiCrossProcess, AnotherProcessReadsAndChangesAPinnedMap) {
    Fd map(create_map(BPF_MAP_TYPE_HASH, 4, 8, 8, 0, "shared"));
    ASSERT_GE(map, 0);
    uint32_t key = 1;
    uint64_t value = 100;
    ASSERT_EQ(update(map, &key, &value), 0);
    ASSERT_EQ(obj_pin(map, "/sys/fs/bpf/shared"), 0);

    ASSERT_EQ(in_child("ReadsAndChangesThePinnedMap"), 0);
    key = 2;
    value = 0;
    EXPECT_EQ(lookup(map, &key, &value), 0);
    EXPECT_EQ(value, 200u);
}

TEST_F(AbiCrossProcess, AnotherProcessRunsAPinnedProgramOnItsMaps) {
    Fd map(create_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1));
    auto loaded = load(BPF_PROG_TYPE_XDP, bump_key_zero(map));
    ASSERT_GE(loaded.fd, 0) << loaded.log;
    Fd prog(loaded.fd);
    ASSERT_EQ(obj_pin(prog, "/sys/fs/bpf/bump"), 0);

    // The child fetches the program (rebuilt and verified again there) and runs it twice.
    ASSERT_EQ(in_child("RunsThePinnedProgram"), 0);
    // It ran on this process's map.
    uint32_t key = 0;
    uint64_t value = 0;
    EXPECT_EQ(lookup(map, &key, &value), 0);
    EXPECT_EQ(value, 2u);
}

TEST_F(AbiCrossProcess, MapsHoldingProcessObjectsCannotBeShared) {
    Fd progs(create_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4));
    ASSERT_GE(progs, 0);
    // Pinned for this process...
    ASSERT_EQ(obj_pin(progs, "/sys/fs/bpf/progs"), 0);
    Fd again(obj_get("/sys/fs/bpf/progs"));
    EXPECT_GE(again, 0);
    // ...but another process cannot have its programs.
    EXPECT_EQ(in_child("CannotHaveThePinnedProgArray"), 0);
}

// The other process's side. Skipped unless run by in_child().
class AbiCrossProcessChild : public ::testing::Test {
  protected:
    void SetUp() override {
        if (getenv("XBPF_ABI_CHILD") == nullptr) {
            GTEST_SKIP() << "runs only as the other process of an AbiCrossProcess test";
        }
    }
};

TEST_F(AbiCrossProcessChild, ReadsAndChangesThePinnedMap) {
    Fd fd(obj_get("/sys/fs/bpf/shared"));
    ASSERT_GE(fd, 0);
    uint32_t key = 1;
    uint64_t value = 0;
    ASSERT_EQ(lookup(fd, &key, &value), 0);
    EXPECT_EQ(value, 100u);
    key = 2;
    value = 200;
    EXPECT_EQ(update(fd, &key, &value), 0);
}

TEST_F(AbiCrossProcessChild, RunsThePinnedProgram) {
    // The program is rebuilt here from the pin and verified again, with the pinned maps.
    Fd fd(obj_get("/sys/fs/bpf/bump"));
    ASSERT_GE(fd, 0);
    uint8_t packet[64] = {};
    auto a = zeroed();
    a.test.prog_fd = static_cast<uint32_t>(fd.fd);
    a.test.data_in = reinterpret_cast<uintptr_t>(packet);
    a.test.data_size_in = sizeof packet;
    a.test.repeat = 2;
    ASSERT_EQ(sys(BPF_PROG_TEST_RUN, a), 0);
    EXPECT_EQ(a.test.retval, 2u);
}

TEST_F(AbiCrossProcessChild, CannotHaveThePinnedProgArray) {
    EXPECT_EQ(obj_get("/sys/fs/bpf/progs"), -EOPNOTSUPP);
}

}  // namespace
}  // namespace xbpf::abi_test
