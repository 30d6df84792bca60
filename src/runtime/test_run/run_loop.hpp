// What every test run shares (internal): Linux's errors, the zero-tail check of ctx_in, and
// the timed loop that runs the program `repeat` times.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/helpers/run_environment.hpp"
#include "xbpf/test_run.hpp"

namespace xbpf::test_run_detail {

// An Error naming the errno Linux returns ("EINVAL: ctx_in.data_meta must be 0").
Error linux_error(const char* errno_name, std::string message);

// Copies ctx_in into a struct of `size` bytes: shorter input leaves the rest zero; longer
// input is allowed only if the bytes beyond are zero (else E2BIG), as bpf_ctx_init checks.
Result<std::vector<uint8_t>> context_from(std::span<const uint8_t> ctx_in, size_t size);

struct LoopResult {
    uint64_t retval = 0;
    uint32_t duration_ns = 0;
};

// Runs the program options.repeat times (0 counts as 1) with r1 = context and the environment
// as RunContext::host, holding a MapReadGuard so tail-call targets stay alive. Checked runs
// may access `regions` and options.extra_regions. Fails if a run faults.
Result<LoopResult> run_repeatedly(const Executable& program, helpers::RunEnvironment& env,
                                  void* context, std::span<const MemoryRegion> regions,
                                  const TestRunOptions& options,
                                  const uint8_t* legacy_packet = nullptr,
                                  size_t legacy_packet_len = 0);

// Per family of types.
Result<TestRunResult> run_xdp(const Executable& program, const ProgramType& type,
                              const TestRunOptions& options);
Result<TestRunResult> run_skb(const Executable& program, const ProgramType& type,
                              const TestRunOptions& options);
Result<TestRunResult> run_sock_addr(const Executable& program, const ProgramType& type,
                                    const TestRunOptions& options);
Result<TestRunResult> run_sock_ops(const Executable& program, const ProgramType& type,
                                   const TestRunOptions& options);
Result<TestRunResult> run_plain(const Executable& program, const ProgramType& type,
                                const TestRunOptions& options);
Result<TestRunResult> run_generic(const Executable& program, const ProgramType& type,
                                  const TestRunOptions& options);

}  // namespace xbpf::test_run_detail
