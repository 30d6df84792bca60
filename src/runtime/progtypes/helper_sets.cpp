// The helper families as Linux groups them (the *_func_proto functions of each program type);
// the facts are those of Linux 6.18 for a privileged load, checked against the running kernel
// by `verifier_oracle helpers` (tests/tools), which probes each type for every helper id.
#include "runtime/progtypes/helper_sets.hpp"

#include <linux/bpf.h>

#include <algorithm>

namespace xbpf::progtypes {

HelperIds join(std::initializer_list<HelperIds> sets) {
    HelperIds out;
    for (const auto& s : sets)
        out.insert(out.end(), s.begin(), s.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

HelperIds without(const HelperIds& set, std::initializer_list<int32_t> ids) {
    HelperIds out;
    for (int32_t id : set) {
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) out.push_back(id);
    }
    return out;
}

HelperIds base_helpers() {
    return join({{
        // maps, time, random numbers, CPU, tail calls, ring buffers, loops, strings
        BPF_FUNC_map_lookup_elem,
        BPF_FUNC_map_update_elem,
        BPF_FUNC_map_delete_elem,
        BPF_FUNC_map_push_elem,
        BPF_FUNC_map_pop_elem,
        BPF_FUNC_map_peek_elem,
        BPF_FUNC_map_lookup_percpu_elem,
        BPF_FUNC_get_prandom_u32,
        BPF_FUNC_get_smp_processor_id,
        BPF_FUNC_get_numa_node_id,
        BPF_FUNC_tail_call,
        BPF_FUNC_ktime_get_ns,
        BPF_FUNC_ktime_get_boot_ns,
        BPF_FUNC_ktime_get_coarse_ns,
        BPF_FUNC_ktime_get_tai_ns,
        BPF_FUNC_ringbuf_output,
        BPF_FUNC_ringbuf_reserve,
        BPF_FUNC_ringbuf_submit,
        BPF_FUNC_ringbuf_discard,
        BPF_FUNC_ringbuf_query,
        BPF_FUNC_for_each_map_elem,
        BPF_FUNC_loop,
        BPF_FUNC_strncmp,
        BPF_FUNC_strtol,
        BPF_FUNC_strtoul,
        // CAP_BPF: locks, timers, kptrs, dynptrs
        BPF_FUNC_spin_lock,
        BPF_FUNC_spin_unlock,
        BPF_FUNC_jiffies64,
        BPF_FUNC_per_cpu_ptr,
        BPF_FUNC_this_cpu_ptr,
        BPF_FUNC_timer_init,
        BPF_FUNC_timer_set_callback,
        BPF_FUNC_timer_start,
        BPF_FUNC_timer_cancel,
        BPF_FUNC_kptr_xchg,
        BPF_FUNC_dynptr_from_mem,
        BPF_FUNC_ringbuf_reserve_dynptr,
        BPF_FUNC_ringbuf_submit_dynptr,
        BPF_FUNC_ringbuf_discard_dynptr,
        BPF_FUNC_dynptr_read,
        BPF_FUNC_dynptr_write,
        BPF_FUNC_dynptr_data,
        BPF_FUNC_user_ringbuf_drain,
        // CAP_PERFMON: printing, probe reads, and (since Linux 6.x) the current task's
        // identity, signals, task storage and the other tracing helpers for every type
        BPF_FUNC_trace_printk,
        BPF_FUNC_trace_vprintk,
        BPF_FUNC_snprintf,
        BPF_FUNC_snprintf_btf,
        BPF_FUNC_probe_read_user,
        BPF_FUNC_probe_read_kernel,
        BPF_FUNC_probe_read_user_str,
        BPF_FUNC_probe_read_kernel_str,
        BPF_FUNC_get_current_task,
        BPF_FUNC_get_current_task_btf,
        BPF_FUNC_task_pt_regs,
        BPF_FUNC_get_current_pid_tgid,
        BPF_FUNC_get_current_uid_gid,
        BPF_FUNC_get_current_comm,
        BPF_FUNC_get_cgroup_classid,
        BPF_FUNC_perf_event_read,
        BPF_FUNC_perf_event_read_value,
        BPF_FUNC_current_task_under_cgroup,
        BPF_FUNC_get_current_cgroup_id,
        BPF_FUNC_get_current_ancestor_cgroup_id,
        BPF_FUNC_get_ns_current_pid_tgid,
        BPF_FUNC_send_signal,
        BPF_FUNC_send_signal_thread,
        BPF_FUNC_get_task_stack,
        BPF_FUNC_task_storage_get,
        BPF_FUNC_task_storage_delete,
        BPF_FUNC_get_branch_snapshot,
        BPF_FUNC_find_vma,
    }});
}

HelperIds socket_cast_helpers() {
    return {BPF_FUNC_skc_to_tcp6_sock,         BPF_FUNC_skc_to_tcp_sock,
            BPF_FUNC_skc_to_tcp_timewait_sock, BPF_FUNC_skc_to_tcp_request_sock,
            BPF_FUNC_skc_to_udp6_sock,         BPF_FUNC_skc_to_unix_sock,
            BPF_FUNC_skc_to_mptcp_sock};
}

HelperIds socket_base_helpers() {
    return join({base_helpers(), socket_cast_helpers()});
}

HelperIds tracing_base_helpers() {
    // Tracing types leave out ktime_get_coarse_ns (its coarse clock is not safe everywhere a
    // probe may run).
    return join({without(base_helpers(), {BPF_FUNC_ktime_get_coarse_ns}),
                 {BPF_FUNC_probe_read, BPF_FUNC_probe_read_str, BPF_FUNC_perf_event_output,
                  BPF_FUNC_get_stackid, BPF_FUNC_get_stack, BPF_FUNC_get_func_ip,
                  BPF_FUNC_get_attach_cookie},
                 sleepable_helpers(),
                 // Linux offers it unless the kernel is locked down (see config_dependent).
                 {BPF_FUNC_probe_write_user}});
}

HelperIds sleepable_helpers() {
    return {BPF_FUNC_copy_from_user, BPF_FUNC_copy_from_user_task};
}

}  // namespace xbpf::progtypes
