// The current task's identity: in user space, the calling thread and its process.
#include <linux/bpf.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "runtime/helpers/implementations.hpp"

namespace xbpf::helpers {
namespace {

// Linux's tgid is the process id and its pid the thread id.
uint64_t get_current_pid_tgid(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    const auto tgid = static_cast<uint32_t>(getpid());
    const auto tid = static_cast<uint32_t>(gettid());
    return (static_cast<uint64_t>(tgid) << 32) | tid;
}

uint64_t get_current_uid_gid(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return (static_cast<uint64_t>(getgid()) << 32) | getuid();
}

// The thread's name (16 bytes with its NUL, TASK_COMM_LEN), truncated to `size` and padded
// with zeros, as Linux's strscpy_pad does.
uint64_t get_current_comm(uint64_t buf, uint64_t size, uint64_t, uint64_t, uint64_t, RunContext&) {
    char comm[16] = {};
    prctl(PR_GET_NAME, comm, 0, 0, 0);
    auto* out = reinterpret_cast<char*>(static_cast<uintptr_t>(buf));
    if (size == 0) return 0;
    std::memset(out, 0, size);
    std::memcpy(out, comm, std::min<size_t>(strnlen(comm, sizeof comm - 1), size - 1));
    return 0;
}

}  // namespace

void add_process_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_get_current_pid_tgid, get_current_pid_tgid});
    out.push_back({BPF_FUNC_get_current_uid_gid, get_current_uid_gid});
    out.push_back({BPF_FUNC_get_current_comm, get_current_comm});
}

}  // namespace xbpf::helpers
