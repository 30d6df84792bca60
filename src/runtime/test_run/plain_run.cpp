// Test runs of plain-memory contexts: syscall programs (Linux's rules: ctx_in only, one run,
// ctx_out the memory after the run) and embedder types whose context is plain memory.
#include <fmt/format.h>
#include <linux/bpf.h>

#include "runtime/test_run/run_loop.hpp"

namespace xbpf::test_run_detail {

Result<TestRunResult> run_plain(const Executable& program, const ProgramType& type,
                                const TestRunOptions& options) {
    const bool syscall = type.id == BPF_PROG_TYPE_SYSCALL;
    if (!options.data_in.empty())
        return linux_error("EINVAL", fmt::format("{} programs take no data_in", type.name));
    if (syscall && options.repeat > 1)
        return linux_error("EINVAL", "syscall programs run once; repeat must be 0 or 1");
    if (options.ctx_in.size() > type.context_size) {
        return linux_error("EINVAL",
                           fmt::format("ctx_in has {} bytes; {} contexts have at most {}",
                                       options.ctx_in.size(), type.name, type.context_size));
    }
    // A syscall program's context is exactly what the caller passed (NULL when nothing);
    // an embedder's plain context has its declared size.
    std::vector<uint8_t> memory(options.ctx_in.begin(), options.ctx_in.end());
    if (!syscall) memory.resize(type.context_size, 0);
    void* context = memory.empty() ? nullptr : memory.data();

    helpers::RunEnvironment env;
    env.type = &type;
    env.context = context;
    env.trace = options.trace;
    const MemoryRegion regions[] = {
        {reinterpret_cast<uintptr_t>(memory.data()), memory.size(), type.plain_memory_writable,
         "context"},
    };
    auto loop = run_repeatedly(program, env, context, regions, options);
    if (!loop) return std::move(loop).error();
    TestRunResult result;
    result.retval = static_cast<uint32_t>(loop->retval);
    result.duration_ns = loop->duration_ns;
    result.ctx_out = std::move(memory);
    return result;
}

}  // namespace xbpf::test_run_detail
