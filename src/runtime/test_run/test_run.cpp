// test_run(): checks what every type checks, then hands over to the type's own run.
#include <fmt/format.h>
#include <linux/bpf.h>

#include "runtime/test_run/run_loop.hpp"

namespace xbpf {

using namespace test_run_detail;

Result<TestRunResult> test_run(const Executable& program, const ProgramType& type,
                               const TestRunOptions& options) {
    if (options.flags != 0 || options.cpu != 0) {
        return linux_error("EINVAL",
                           "test-run flags and cpu are not supported in user space; pass 0");
    }
    switch (type.id) {
        case BPF_PROG_TYPE_XDP: return run_xdp(program, type, options);
        case BPF_PROG_TYPE_SOCKET_FILTER:
        case BPF_PROG_TYPE_SCHED_CLS:
        case BPF_PROG_TYPE_SCHED_ACT:
        case BPF_PROG_TYPE_CGROUP_SKB: return run_skb(program, type, options);
        case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: return run_sock_addr(program, type, options);
        case BPF_PROG_TYPE_SOCK_OPS: return run_sock_ops(program, type, options);
        case BPF_PROG_TYPE_SYSCALL: return run_plain(program, type, options);
        default: break;
    }
    if (type.id < 0x10000) {
        return linux_error("ENOTSUPP", fmt::format("xbpf cannot test-run {} programs; it only "
                                                   "verifies them",
                                                   type.name));
    }
    return type.context_is_plain_memory ? run_plain(program, type, options)
                                        : run_generic(program, type, options);
}

}  // namespace xbpf
