// BPF_PROG_RUN in user space: runs a prepared program once or `repeat` times on a packet and a
// context built the way Linux's test run builds them for the program's type, and reports what
// Linux reports — the return value, the packet and context after the run, the mean duration.
//
//   xdp             data_in is the frame (XDP_PACKET_HEADROOM of headroom before it, room to
//                   grow after it); ctx_in a struct xdp_md whose data/data_end/data_meta are
//                   offsets (data > 0 declares that many bytes of data_in as metadata);
//                   data_out is metadata + frame after adjust_head/tail/meta.
//   socket_filter,  data_in is an Ethernet frame; ctx_in a struct __sk_buff with only the
//   sched_cls/act,  fields Linux accepts (mark, priority, ingress_ifindex, ifindex, cb, tstamp,
//   cgroup_skb      wire_len, gso_segs, gso_size, hwtstamp); len, protocol and pkt_type come
//                   from the frame. sched_cls/act see the frame from the Ethernet header, the
//                   others from the network header (data_out then has the Ethernet header
//                   zeroed, as Linux returns it).
//   cgroup_sock_addr ctx_in is a struct bpf_sock_addr, sock_ops a struct bpf_sock_ops (data_in,
//                   if any, is the TCP header skb_data points to); ctx_out is the struct after
//                   the program's writes. Linux has no test run for these: xbpf's follows the
//                   same rules.
//   syscall         ctx_in is plain memory the program reads and writes; ctx_out is it after
//                   the run. No data, one run.
//   embedder types  ctx_in fills the native context field by field (scalars at their offsets);
//                   packet pointer fields point into data_in.
//
// Errors are Linux's: EINVAL for a ctx_in or data_in Linux would refuse (the message says
// what), E2BIG for a ctx_in longer than the struct with non-zero bytes beyond it, ENODEV for an
// interface xbpf does not have (only the loopback, ifindex 1, exists), ENOTSUPP for a type xbpf
// cannot run.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "xbpf/engine.hpp"
#include "xbpf/error.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf {

struct TestRunOptions {
    std::span<const uint8_t> data_in;
    std::span<const uint8_t> ctx_in;
    // Runs of the program; 0 counts as 1, as in Linux. State the program changes (the packet,
    // the context, maps) carries over from one run to the next.
    uint32_t repeat = 1;
    // BPF_PROG_RUN's flags and cpu: xbpf supports none, so anything but 0 is EINVAL.
    uint32_t flags = 0;
    uint32_t cpu = 0;
    // Where bpf_trace_printk writes; null: TraceLog::global().
    TraceLog* trace = nullptr;
    // Checked runs: memory the program may access besides its context, packet and stack, such
    // as its global variables (the values of its .data/.rodata/.bss maps, which an lddw hands
    // it directly).
    std::span<const MemoryRegion> extra_regions;
};

struct TestRunResult {
    uint32_t retval = 0;  // r0 of the last run, truncated to 32 bits as Linux reports it
    std::vector<uint8_t> data_out;
    std::vector<uint8_t> ctx_out;
    uint32_t duration_ns = 0;  // mean wall time of one run
    // Where the last run redirected the packet (bpf_redirect, bpf_redirect_map), if it did.
    bool redirected = false;
    uint32_t redirect_ifindex = 0;
};

// Runs `program` (prepared for `type`, its context accesses rewritten) as BPF_PROG_RUN does.
// In the checked interpreter the context, the packet buffer and the stack are the only memory
// the program may touch besides what helpers hand it; a fault is an error naming the
// instruction.
Result<TestRunResult> test_run(const Executable& program, const ProgramType& type,
                               const TestRunOptions& options);

}  // namespace xbpf
