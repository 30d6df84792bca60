// Linux's helper prototypes as data: for each helper id, what its arguments must be, what it
// returns, and its flags. These are the facts of each helper's Linux `struct bpf_func_proto`
// (argument and return types, gpl_only, whether it changes packet data, which references it
// acquires and releases), expressed in xbpf's simplified kinds (helpers.hpp). The same helper
// may have several protos in Linux (one per program type family); where they differ only in
// the context argument's form, the row describes the common shape.
//
// The ids come from the uapi header, so a row can never drift from Linux's numbering; a test
// checks that every id of `__BPF_FUNC_MAPPER` has a row.
#include "runtime/helpers/linux_prototypes.hpp"

#include <linux/bpf.h>

#include <algorithm>

#include "xbpf/isa.hpp"

namespace xbpf::helpers {
namespace {

using A = HelperArg;
using R = HelperRet;

// Row flags.
constexpr uint8_t kPkt = 1;      // changes packet data
constexpr uint8_t kGpl = 2;      // GPL-only
constexpr uint8_t kAcquire = 4;  // r0 is a reference to release
constexpr uint8_t kRelease = 8;  // releases the reference in argument 1

struct Row {
    int32_t id;
    R ret;
    std::array<A, 5> args;
    uint8_t flags = 0;
};

// clang-format off
const Row kRows[] = {
    {BPF_FUNC_map_lookup_elem,         R::MapValueOrNull, {A::Map, A::MapKey}},
    {BPF_FUNC_map_update_elem,         R::Integer, {A::Map, A::MapKey, A::MapValue, A::Scalar}},
    {BPF_FUNC_map_delete_elem,         R::Integer, {A::Map, A::MapKey}},
    {BPF_FUNC_probe_read,              R::Integer, {A::MemUninit, A::SizeOrZero, A::Anything}, kGpl},
    {BPF_FUNC_ktime_get_ns,            R::Integer, {}},
    {BPF_FUNC_trace_printk,            R::Integer, {A::Mem, A::Size, A::Anything, A::Anything, A::Anything}, kGpl},
    {BPF_FUNC_get_prandom_u32,         R::Integer, {}},
    {BPF_FUNC_get_smp_processor_id,    R::Integer, {}},
    {BPF_FUNC_skb_store_bytes,         R::Integer, {A::Context, A::Scalar, A::Mem, A::Size, A::Scalar}, kPkt},
    {BPF_FUNC_l3_csum_replace,         R::Integer, {A::Context, A::Scalar, A::Scalar, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_l4_csum_replace,         R::Integer, {A::Context, A::Scalar, A::Scalar, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_tail_call,               R::Void,    {A::Context, A::Map, A::Scalar}},  // r0 unreadable after, as in Linux
    {BPF_FUNC_clone_redirect,          R::Integer, {A::Context, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_get_current_pid_tgid,    R::Integer, {}},
    {BPF_FUNC_get_current_uid_gid,     R::Integer, {}},
    {BPF_FUNC_get_current_comm,        R::Integer, {A::MemUninit, A::Size}},
    {BPF_FUNC_get_cgroup_classid,      R::Integer, {A::Context}},
    {BPF_FUNC_skb_vlan_push,           R::Integer, {A::Context, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_skb_vlan_pop,            R::Integer, {A::Context}, kPkt},
    {BPF_FUNC_skb_get_tunnel_key,      R::Integer, {A::Context, A::MemUninit, A::Size, A::Scalar}},
    {BPF_FUNC_skb_set_tunnel_key,      R::Integer, {A::Context, A::Mem, A::Size, A::Scalar}},
    {BPF_FUNC_perf_event_read,         R::Integer, {A::Map, A::Scalar}, kGpl},
    {BPF_FUNC_redirect,                R::Integer, {A::Scalar, A::Scalar}},
    {BPF_FUNC_get_route_realm,         R::Integer, {A::Context}},
    {BPF_FUNC_perf_event_output,       R::Integer, {A::Context, A::Map, A::Scalar, A::Mem, A::SizeOrZero}, kGpl},
    {BPF_FUNC_skb_load_bytes,          R::Integer, {A::Context, A::Scalar, A::MemUninit, A::Size}},
    {BPF_FUNC_get_stackid,             R::Integer, {A::Context, A::Map, A::Scalar}, kGpl},
    {BPF_FUNC_csum_diff,               R::Integer, {A::MemOrNull, A::SizeOrZero, A::MemOrNull, A::SizeOrZero, A::Scalar}},
    {BPF_FUNC_skb_get_tunnel_opt,      R::Integer, {A::Context, A::MemUninit, A::Size}},
    {BPF_FUNC_skb_set_tunnel_opt,      R::Integer, {A::Context, A::Mem, A::Size}},
    {BPF_FUNC_skb_change_proto,        R::Integer, {A::Context, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_skb_change_type,         R::Integer, {A::Context, A::Scalar}},
    {BPF_FUNC_skb_under_cgroup,        R::Integer, {A::Context, A::Map, A::Scalar}},
    {BPF_FUNC_get_hash_recalc,         R::Integer, {A::Context}},
    {BPF_FUNC_get_current_task,        R::Integer, {}, kGpl},
    {BPF_FUNC_probe_write_user,        R::Integer, {A::Anything, A::Mem, A::Size}, kGpl},
    {BPF_FUNC_current_task_under_cgroup, R::Integer, {A::Map, A::Scalar}},
    {BPF_FUNC_skb_change_tail,         R::Integer, {A::Context, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_skb_pull_data,           R::Integer, {A::Context, A::Scalar}, kPkt},
    {BPF_FUNC_csum_update,             R::Integer, {A::Context, A::Scalar}},
    {BPF_FUNC_set_hash_invalid,        R::Void,    {A::Context}},
    {BPF_FUNC_get_numa_node_id,        R::Integer, {}},
    {BPF_FUNC_skb_change_head,         R::Integer, {A::Context, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_xdp_adjust_head,         R::Integer, {A::Context, A::Scalar}, kPkt},
    {BPF_FUNC_probe_read_str,          R::Integer, {A::MemUninit, A::SizeOrZero, A::Anything}, kGpl},
    {BPF_FUNC_get_socket_cookie,       R::Integer, {A::Context}},
    {BPF_FUNC_get_socket_uid,          R::Integer, {A::Context}},
    {BPF_FUNC_set_hash,                R::Integer, {A::Context, A::Scalar}},
    {BPF_FUNC_setsockopt,              R::Integer, {A::Context, A::Scalar, A::Scalar, A::Mem, A::Size}},
    {BPF_FUNC_skb_adjust_room,         R::Integer, {A::Context, A::Scalar, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_redirect_map,            R::Integer, {A::Map, A::Scalar, A::Scalar}},
    {BPF_FUNC_sk_redirect_map,         R::Integer, {A::Context, A::Map, A::Scalar, A::Scalar}},
    {BPF_FUNC_sock_map_update,         R::Integer, {A::Context, A::Map, A::MapKey, A::Scalar}},
    {BPF_FUNC_xdp_adjust_meta,         R::Integer, {A::Context, A::Scalar}, kPkt},
    {BPF_FUNC_perf_event_read_value,   R::Integer, {A::Map, A::Scalar, A::MemUninit, A::Size}, kGpl},
    {BPF_FUNC_perf_prog_read_value,    R::Integer, {A::Context, A::MemUninit, A::Size}, kGpl},
    {BPF_FUNC_getsockopt,              R::Integer, {A::Context, A::Scalar, A::Scalar, A::MemUninit, A::Size}},
    {BPF_FUNC_override_return,         R::Integer, {A::Context, A::Scalar}, kGpl},
    {BPF_FUNC_sock_ops_cb_flags_set,   R::Integer, {A::Context, A::Scalar}},
    {BPF_FUNC_msg_redirect_map,        R::Integer, {A::Context, A::Map, A::Scalar, A::Scalar}},
    {BPF_FUNC_msg_apply_bytes,         R::Integer, {A::Context, A::Scalar}},
    {BPF_FUNC_msg_cork_bytes,          R::Integer, {A::Context, A::Scalar}},
    {BPF_FUNC_msg_pull_data,           R::Integer, {A::Context, A::Scalar, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_bind,                    R::Integer, {A::Context, A::Mem, A::SizeOrZero}},
    {BPF_FUNC_xdp_adjust_tail,         R::Integer, {A::Context, A::Scalar}, kPkt},
    {BPF_FUNC_skb_get_xfrm_state,      R::Integer, {A::Context, A::Scalar, A::MemUninit, A::Size, A::Scalar}},
    {BPF_FUNC_get_stack,               R::Integer, {A::Context, A::MemUninit, A::SizeOrZero, A::Scalar}, kGpl},
    {BPF_FUNC_skb_load_bytes_relative, R::Integer, {A::Context, A::Scalar, A::MemUninit, A::Size, A::Scalar}},
    {BPF_FUNC_fib_lookup,              R::Integer, {A::Context, A::Mem, A::Size, A::Scalar}},
    {BPF_FUNC_sock_hash_update,        R::Integer, {A::Context, A::Map, A::MapKey, A::Scalar}},
    {BPF_FUNC_msg_redirect_hash,       R::Integer, {A::Context, A::Map, A::MapKey, A::Scalar}},
    {BPF_FUNC_sk_redirect_hash,        R::Integer, {A::Context, A::Map, A::MapKey, A::Scalar}},
    {BPF_FUNC_lwt_push_encap,          R::Integer, {A::Context, A::Scalar, A::Mem, A::Size}, kPkt},
    {BPF_FUNC_lwt_seg6_store_bytes,    R::Integer, {A::Context, A::Scalar, A::Mem, A::Size}, kPkt},
    {BPF_FUNC_lwt_seg6_adjust_srh,     R::Integer, {A::Context, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_lwt_seg6_action,         R::Integer, {A::Context, A::Scalar, A::Mem, A::Size}, kPkt},
    {BPF_FUNC_rc_repeat,               R::Integer, {A::Context}, kGpl},
    {BPF_FUNC_rc_keydown,              R::Integer, {A::Context, A::Scalar, A::Scalar, A::Scalar}, kGpl},
    {BPF_FUNC_skb_cgroup_id,           R::Integer, {A::Context}},
    {BPF_FUNC_get_current_cgroup_id,   R::Integer, {}},
    {BPF_FUNC_get_local_storage,       R::MapValue, {A::Map, A::Scalar}},
    {BPF_FUNC_sk_select_reuseport,     R::Integer, {A::Context, A::Map, A::MapKey, A::Scalar}},
    {BPF_FUNC_skb_ancestor_cgroup_id,  R::Integer, {A::Context, A::Scalar}},
    {BPF_FUNC_sk_lookup_tcp,           R::KernelObjectOrNull, {A::Context, A::Mem, A::Size, A::Scalar, A::Scalar}, kAcquire},
    {BPF_FUNC_sk_lookup_udp,           R::KernelObjectOrNull, {A::Context, A::Mem, A::Size, A::Scalar, A::Scalar}, kAcquire},
    {BPF_FUNC_sk_release,              R::Integer, {A::KernelObject}, kRelease},
    {BPF_FUNC_map_push_elem,           R::Integer, {A::Map, A::MapValue, A::Scalar}},
    {BPF_FUNC_map_pop_elem,            R::Integer, {A::Map, A::MapValueUninit}},
    {BPF_FUNC_map_peek_elem,           R::Integer, {A::Map, A::MapValueUninit}},
    {BPF_FUNC_msg_push_data,           R::Integer, {A::Context, A::Scalar, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_msg_pop_data,            R::Integer, {A::Context, A::Scalar, A::Scalar, A::Scalar}, kPkt},
    {BPF_FUNC_rc_pointer_rel,          R::Integer, {A::Context, A::Scalar, A::Scalar}, kGpl},
    {BPF_FUNC_spin_lock,               R::Void,    {A::SpinLock}},
    {BPF_FUNC_spin_unlock,             R::Void,    {A::SpinLock}},
    {BPF_FUNC_sk_fullsock,             R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_tcp_sock,                R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_skb_ecn_set_ce,          R::Integer, {A::Context}},
    {BPF_FUNC_get_listener_sock,       R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_skc_lookup_tcp,          R::KernelObjectOrNull, {A::Context, A::Mem, A::Size, A::Scalar, A::Scalar}, kAcquire},
    {BPF_FUNC_tcp_check_syncookie,     R::Integer, {A::KernelObject, A::Mem, A::Size, A::Mem, A::Size}},
    {BPF_FUNC_sysctl_get_name,         R::Integer, {A::Context, A::MemUninit, A::Size, A::Scalar}},
    {BPF_FUNC_sysctl_get_current_value, R::Integer, {A::Context, A::MemUninit, A::Size}},
    {BPF_FUNC_sysctl_get_new_value,    R::Integer, {A::Context, A::MemUninit, A::Size}},
    {BPF_FUNC_sysctl_set_new_value,    R::Integer, {A::Context, A::Mem, A::Size}},
    {BPF_FUNC_strtol,                  R::Integer, {A::Mem, A::Size, A::Scalar, A::LongOut}},
    {BPF_FUNC_strtoul,                 R::Integer, {A::Mem, A::Size, A::Scalar, A::LongOut}},
    {BPF_FUNC_sk_storage_get,          R::MapValueOrNull, {A::Map, A::KernelObject, A::MapValueOrNull, A::Scalar}},
    {BPF_FUNC_sk_storage_delete,       R::Integer, {A::Map, A::KernelObject}},
    {BPF_FUNC_send_signal,             R::Integer, {A::Scalar}},
    {BPF_FUNC_tcp_gen_syncookie,       R::Integer, {A::KernelObject, A::Mem, A::Size, A::Mem, A::Size}},
    {BPF_FUNC_skb_output,              R::Integer, {A::KernelObject, A::Map, A::Scalar, A::Mem, A::SizeOrZero}, kGpl},
    {BPF_FUNC_probe_read_user,         R::Integer, {A::MemUninit, A::SizeOrZero, A::Anything}, kGpl},
    {BPF_FUNC_probe_read_kernel,       R::Integer, {A::MemUninit, A::SizeOrZero, A::Anything}, kGpl},
    {BPF_FUNC_probe_read_user_str,     R::Integer, {A::MemUninit, A::SizeOrZero, A::Anything}, kGpl},
    {BPF_FUNC_probe_read_kernel_str,   R::Integer, {A::MemUninit, A::SizeOrZero, A::Anything}, kGpl},
    {BPF_FUNC_tcp_send_ack,            R::Integer, {A::KernelObject, A::Scalar}},
    {BPF_FUNC_send_signal_thread,      R::Integer, {A::Scalar}},
    {BPF_FUNC_jiffies64,               R::Integer, {}},
    {BPF_FUNC_read_branch_records,     R::Integer, {A::Context, A::MemOrNull, A::SizeOrZero, A::Scalar}, kGpl},
    {BPF_FUNC_get_ns_current_pid_tgid, R::Integer, {A::Scalar, A::Scalar, A::MemUninit, A::Size}},
    {BPF_FUNC_xdp_output,              R::Integer, {A::KernelObject, A::Map, A::Scalar, A::Mem, A::SizeOrZero}, kGpl},
    {BPF_FUNC_get_netns_cookie,        R::Integer, {A::ContextOrNull}},
    {BPF_FUNC_get_current_ancestor_cgroup_id, R::Integer, {A::Scalar}},
    {BPF_FUNC_sk_assign,               R::Integer, {A::Context, A::KernelObject, A::Scalar}},
    {BPF_FUNC_ktime_get_boot_ns,       R::Integer, {}},
    {BPF_FUNC_seq_printf,              R::Integer, {A::KernelObject, A::Mem, A::Size, A::MemOrNull, A::SizeOrZero}, kGpl},
    {BPF_FUNC_seq_write,               R::Integer, {A::KernelObject, A::Mem, A::SizeOrZero}, kGpl},
    {BPF_FUNC_sk_cgroup_id,            R::Integer, {A::KernelObject}},
    {BPF_FUNC_sk_ancestor_cgroup_id,   R::Integer, {A::KernelObject, A::Scalar}},
    {BPF_FUNC_ringbuf_output,          R::Integer, {A::Map, A::Mem, A::SizeOrZero, A::Scalar}},
    {BPF_FUNC_ringbuf_reserve,         R::AllocMemOrNull, {A::Map, A::AllocSizeOrZero, A::Scalar}, kAcquire},
    {BPF_FUNC_ringbuf_submit,          R::Void,    {A::AllocMem, A::Scalar}, kRelease},
    {BPF_FUNC_ringbuf_discard,         R::Void,    {A::AllocMem, A::Scalar}, kRelease},
    {BPF_FUNC_ringbuf_query,           R::Integer, {A::Map, A::Scalar}},
    {BPF_FUNC_csum_level,              R::Integer, {A::Context, A::Scalar}},
    {BPF_FUNC_skc_to_tcp6_sock,        R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_skc_to_tcp_sock,         R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_skc_to_tcp_timewait_sock, R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_skc_to_tcp_request_sock, R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_skc_to_udp6_sock,        R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_get_task_stack,          R::Integer, {A::KernelObject, A::MemUninit, A::SizeOrZero, A::Scalar}},
    {BPF_FUNC_load_hdr_opt,            R::Integer, {A::Context, A::Mem, A::Size, A::Scalar}},
    {BPF_FUNC_store_hdr_opt,           R::Integer, {A::Context, A::Mem, A::Size, A::Scalar}, kPkt},
    {BPF_FUNC_reserve_hdr_opt,         R::Integer, {A::Context, A::Scalar, A::Scalar}},
    {BPF_FUNC_inode_storage_get,       R::MapValueOrNull, {A::Map, A::KernelObject, A::MapValueOrNull, A::Scalar}},
    {BPF_FUNC_inode_storage_delete,    R::Integer, {A::Map, A::KernelObject}},
    {BPF_FUNC_d_path,                  R::Integer, {A::KernelObject, A::MemUninit, A::Size}},
    {BPF_FUNC_copy_from_user,          R::Integer, {A::MemUninit, A::SizeOrZero, A::Anything}, kGpl},
    {BPF_FUNC_snprintf_btf,            R::Integer, {A::MemUninit, A::Size, A::Mem, A::Size, A::Scalar}},
    {BPF_FUNC_seq_printf_btf,          R::Integer, {A::KernelObject, A::Mem, A::SizeOrZero, A::Scalar}},
    {BPF_FUNC_skb_cgroup_classid,      R::Integer, {A::Context}},
    {BPF_FUNC_redirect_neigh,          R::Integer, {A::Scalar, A::MemOrNull, A::SizeOrZero, A::Scalar}},
    {BPF_FUNC_per_cpu_ptr,             R::KernelObjectOrNull, {A::KernelObject, A::Scalar}},
    {BPF_FUNC_this_cpu_ptr,            R::KernelObject, {A::KernelObject}},
    {BPF_FUNC_redirect_peer,           R::Integer, {A::Scalar, A::Scalar}},
    {BPF_FUNC_task_storage_get,        R::MapValueOrNull, {A::Map, A::KernelObject, A::MapValueOrNull, A::Scalar}},
    {BPF_FUNC_task_storage_delete,     R::Integer, {A::Map, A::KernelObject}},
    {BPF_FUNC_get_current_task_btf,    R::KernelObject, {}, kGpl},
    {BPF_FUNC_bprm_opts_set,           R::Integer, {A::KernelObject, A::Scalar}},
    {BPF_FUNC_ktime_get_coarse_ns,     R::Integer, {}},
    {BPF_FUNC_ima_inode_hash,          R::Integer, {A::KernelObject, A::MemUninit, A::Size}},
    {BPF_FUNC_sock_from_file,          R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_check_mtu,               R::Integer, {A::Context, A::Scalar, A::IntOut, A::Scalar, A::Scalar}},
    {BPF_FUNC_for_each_map_elem,       R::Integer, {A::Map, A::Func, A::StackOrNull, A::Scalar}},
    {BPF_FUNC_snprintf,                R::Integer, {A::MemOrNull, A::SizeOrZero, A::ConstString, A::MemOrNull, A::SizeOrZero}},
    {BPF_FUNC_sys_bpf,                 R::Integer, {A::Scalar, A::Mem, A::Size}},
    {BPF_FUNC_btf_find_by_name_kind,   R::Integer, {A::Mem, A::Size, A::Scalar, A::Scalar}},
    {BPF_FUNC_sys_close,               R::Integer, {A::Scalar}},
    {BPF_FUNC_timer_init,              R::Integer, {A::KernelObject, A::Map, A::Scalar}, kGpl},
    {BPF_FUNC_timer_set_callback,      R::Integer, {A::KernelObject, A::Func}, kGpl},
    {BPF_FUNC_timer_start,             R::Integer, {A::KernelObject, A::Scalar, A::Scalar}, kGpl},
    {BPF_FUNC_timer_cancel,            R::Integer, {A::KernelObject}, kGpl},
    {BPF_FUNC_get_func_ip,             R::Integer, {A::Context}},
    {BPF_FUNC_get_attach_cookie,       R::Integer, {A::Context}},
    {BPF_FUNC_task_pt_regs,            R::KernelObject, {A::KernelObject}},
    {BPF_FUNC_get_branch_snapshot,     R::Integer, {A::MemUninit, A::SizeOrZero, A::Scalar}, kGpl},
    {BPF_FUNC_trace_vprintk,           R::Integer, {A::Mem, A::Size, A::MemOrNull, A::SizeOrZero}, kGpl},
    {BPF_FUNC_skc_to_unix_sock,        R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_kallsyms_lookup_name,    R::Integer, {A::Mem, A::Size, A::Scalar, A::LongOut}},
    {BPF_FUNC_find_vma,                R::Integer, {A::KernelObject, A::Scalar, A::Func, A::StackOrNull, A::Scalar}},
    {BPF_FUNC_loop,                    R::Integer, {A::Scalar, A::Func, A::StackOrNull, A::Scalar}},
    {BPF_FUNC_strncmp,                 R::Integer, {A::Mem, A::Size, A::ConstString}},
    {BPF_FUNC_get_func_arg,            R::Integer, {A::Context, A::Scalar, A::LongOut}},
    {BPF_FUNC_get_func_ret,            R::Integer, {A::Context, A::LongOut}},
    {BPF_FUNC_get_func_arg_cnt,        R::Integer, {A::Context}},
    {BPF_FUNC_get_retval,              R::Integer, {}},
    {BPF_FUNC_set_retval,              R::Integer, {A::Scalar}},
    {BPF_FUNC_xdp_get_buff_len,        R::Integer, {A::Context}},
    {BPF_FUNC_xdp_load_bytes,          R::Integer, {A::Context, A::Scalar, A::MemUninit, A::Size}},
    {BPF_FUNC_xdp_store_bytes,         R::Integer, {A::Context, A::Scalar, A::Mem, A::Size}},
    {BPF_FUNC_copy_from_user_task,     R::Integer, {A::MemUninit, A::SizeOrZero, A::Anything, A::KernelObject, A::Scalar}, kGpl},
    {BPF_FUNC_skb_set_tstamp,          R::Integer, {A::Context, A::Scalar, A::Scalar}},
    {BPF_FUNC_ima_file_hash,           R::Integer, {A::KernelObject, A::MemUninit, A::Size}},
    {BPF_FUNC_kptr_xchg,               R::KernelObjectOrNull, {A::KernelObject, A::KernelObject}},
    {BPF_FUNC_map_lookup_percpu_elem,  R::MapValueOrNull, {A::Map, A::MapKey, A::Scalar}},
    {BPF_FUNC_skc_to_mptcp_sock,       R::KernelObjectOrNull, {A::KernelObject}},
    {BPF_FUNC_dynptr_from_mem,         R::Integer, {A::MemUninit, A::SizeOrZero, A::Scalar, A::KernelObject}},
    {BPF_FUNC_ringbuf_reserve_dynptr,  R::Integer, {A::Map, A::Scalar, A::Scalar, A::KernelObject}},
    {BPF_FUNC_ringbuf_submit_dynptr,   R::Void,    {A::KernelObject, A::Scalar}},
    {BPF_FUNC_ringbuf_discard_dynptr,  R::Void,    {A::KernelObject, A::Scalar}},
    {BPF_FUNC_dynptr_read,             R::Integer, {A::MemUninit, A::SizeOrZero, A::KernelObject, A::Scalar, A::Scalar}},
    {BPF_FUNC_dynptr_write,            R::Integer, {A::KernelObject, A::Scalar, A::Mem, A::SizeOrZero, A::Scalar}},
    {BPF_FUNC_dynptr_data,             R::KernelObjectOrNull, {A::KernelObject, A::Scalar, A::AllocSizeOrZero}},
    // The raw syncookie helpers take fixed-size header pointers (struct iphdr/ipv6hdr, tcphdr)
    // that xbpf's kinds cannot size; Anything keeps them verifiable, run nowhere.
    {BPF_FUNC_tcp_raw_gen_syncookie_ipv4,   R::Integer, {A::Anything, A::Mem, A::Size}},
    {BPF_FUNC_tcp_raw_gen_syncookie_ipv6,   R::Integer, {A::Anything, A::Mem, A::Size}},
    {BPF_FUNC_tcp_raw_check_syncookie_ipv4, R::Integer, {A::Anything, A::Anything}},
    {BPF_FUNC_tcp_raw_check_syncookie_ipv6, R::Integer, {A::Anything, A::Anything}},
    {BPF_FUNC_ktime_get_tai_ns,        R::Integer, {}},
    {BPF_FUNC_user_ringbuf_drain,      R::Integer, {A::Map, A::Func, A::StackOrNull, A::Scalar}},
};
// clang-format on

}  // namespace

std::vector<HelperDefinition> linux_prototypes() {
    std::vector<HelperDefinition> out;
    out.reserve(std::size(kRows));
    for (const Row& row : kRows) {
        HelperDefinition def;
        def.id = row.id;
        def.prototype.name = std::string(linux_helper_name(row.id));
        def.prototype.ret = row.ret;
        def.prototype.args = row.args;
        def.prototype.changes_packet_data = (row.flags & kPkt) != 0;
        def.prototype.gpl_only = (row.flags & kGpl) != 0;
        def.prototype.acquires_reference = (row.flags & kAcquire) != 0;
        def.prototype.releases_first_argument = (row.flags & kRelease) != 0;
        out.push_back(std::move(def));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
}

}  // namespace xbpf::helpers
