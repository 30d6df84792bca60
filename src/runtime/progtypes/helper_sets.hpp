// The helper sets Linux's func_proto functions give program types (internal). Each program
// type's list is a union of these families and its own helpers, as in Linux.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace xbpf::progtypes {

using HelperIds = std::vector<int32_t>;

// Sorted, duplicate-free union.
HelperIds join(std::initializer_list<HelperIds> sets);

// `set` without `ids`.
HelperIds without(const HelperIds& set, std::initializer_list<int32_t> ids);

// bpf_base_func_proto for a privileged load (CAP_BPF and CAP_PERFMON) in Linux 6.18: maps,
// time, random, CPU, ring buffers, loops, strings, spin locks, timers, dynptrs, printing, probe
// reads, and the current task's helpers (pid, uid, comm, cgroup, signals, task storage).
HelperIds base_helpers();
// The socket casts (skc_to_*) bpf_sk_base_func_proto adds for most networking types.
HelperIds socket_cast_helpers();
HelperIds socket_base_helpers();
// bpf_tracing_func_proto: what every tracing type (kprobe, tracepoint, perf_event, raw
// tracepoint, fentry/fexit, LSM) may call.
HelperIds tracing_base_helpers();
// Helpers that may sleep: in Linux's tables of the types that can be sleepable, callable only
// from sleepable programs (the verifier checks that).
HelperIds sleepable_helpers();

}  // namespace xbpf::progtypes
