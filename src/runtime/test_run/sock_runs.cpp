// Test runs of the socket hooks xbpf runs, cgroup_sock_addr and sock_ops. Linux has no
// BPF_PROG_RUN for them; xbpf's takes the uapi struct as ctx_in and returns it after the
// program's writes, with the same checks as the other types (pointer fields must be 0 in
// ctx_in: the runtime supplies them).
#include <fmt/format.h>
#include <linux/bpf.h>

#include <cstring>

#include "runtime/test_run/run_loop.hpp"

namespace xbpf::test_run_detail {

Result<TestRunResult> run_sock_addr(const Executable& program, const ProgramType& type,
                                    const TestRunOptions& options) {
    if (!options.data_in.empty())
        return linux_error("EINVAL", "cgroup_sock_addr programs take no data_in");
    auto bytes = context_from(options.ctx_in, sizeof(bpf_sock_addr));
    if (!bytes) return std::move(bytes).error();
    bpf_sock_addr addr;
    std::memcpy(&addr, bytes->data(), sizeof addr);
    if (addr.sk != nullptr) return linux_error("EINVAL", "ctx_in.sk must be 0");
    // The socket being bound or connected, as the program may read it through ctx->sk.
    bpf_sock sock{};
    sock.family = addr.family;
    sock.type = addr.type;
    sock.protocol = addr.protocol;
    addr.sk = &sock;

    helpers::RunEnvironment env;
    env.type = &type;
    env.context = &addr;
    env.trace = options.trace;
    const MemoryRegion regions[] = {
        {reinterpret_cast<uintptr_t>(&addr), sizeof addr, true, "context"},
        {reinterpret_cast<uintptr_t>(&sock), sizeof sock, false, "socket"},
    };
    auto loop = run_repeatedly(program, env, &addr, regions, options);
    if (!loop) return std::move(loop).error();
    TestRunResult result;
    result.retval = static_cast<uint32_t>(loop->retval);
    result.duration_ns = loop->duration_ns;
    addr.sk = nullptr;
    result.ctx_out.resize(sizeof addr);
    std::memcpy(result.ctx_out.data(), &addr, sizeof addr);
    return result;
}

Result<TestRunResult> run_sock_ops(const Executable& program, const ProgramType& type,
                                   const TestRunOptions& options) {
    auto bytes = context_from(options.ctx_in, sizeof(bpf_sock_ops));
    if (!bytes) return std::move(bytes).error();
    bpf_sock_ops ops;
    std::memcpy(&ops, bytes->data(), sizeof ops);
    if (ops.sk != nullptr || ops.skb_data != nullptr || ops.skb_data_end != nullptr)
        return linux_error("EINVAL", "ctx_in.sk, skb_data and skb_data_end must be 0");
    // data_in, if any, is the TCP header (and options) skb_data covers.
    std::vector<uint8_t> header(options.data_in.begin(), options.data_in.end());
    ops.skb_data = header.data();
    ops.skb_data_end = header.data() + header.size();
    if (ops.skb_len == 0) ops.skb_len = static_cast<uint32_t>(header.size());

    helpers::RunEnvironment env;
    env.type = &type;
    env.context = &ops;
    env.trace = options.trace;
    const MemoryRegion regions[] = {
        {reinterpret_cast<uintptr_t>(&ops), sizeof ops, true, "context"},
        {reinterpret_cast<uintptr_t>(header.data()), header.size(), true, "packet"},
    };
    auto loop = run_repeatedly(program, env, &ops, regions, options);
    if (!loop) return std::move(loop).error();
    TestRunResult result;
    result.retval = static_cast<uint32_t>(loop->retval);
    result.duration_ns = loop->duration_ns;
    result.data_out = std::move(header);
    ops.sk = nullptr;
    ops.skb_data = nullptr;
    ops.skb_data_end = nullptr;
    result.ctx_out.resize(sizeof ops);
    std::memcpy(result.ctx_out.data(), &ops, sizeof ops);
    return result;
}

}  // namespace xbpf::test_run_detail
