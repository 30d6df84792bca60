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

// bpf_base_func_proto for a privileged load (CAP_BPF and CAP_PERFMON): maps, time, random,
// CPU, ring buffers, loops, strings, spin locks, timers, dynptrs, printing, probe reads.
HelperIds base_helpers();
// bpf_sk_base_func_proto: the base plus the socket casts (skc_to_*) networking types get.
HelperIds socket_base_helpers();
// bpf_tracing_func_proto: what every tracing type (kprobe, tracepoint, perf_event, raw
// tracepoint, fentry/fexit, LSM) may call.
HelperIds tracing_base_helpers();
// cgroup_common_func_proto and cgroup_current_func_proto: cgroup storage, return values, and
// the current task's ids for cgroup hooks.
HelperIds cgroup_helpers();

}  // namespace xbpf::progtypes
