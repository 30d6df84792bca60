// Cgroup hooks: cgroup_sock (struct bpf_sock), cgroup_sock_addr (struct bpf_sock_addr),
// cgroup_sysctl (struct bpf_sysctl), cgroup_sockopt (struct bpf_sockopt) and cgroup_device
// (struct bpf_cgroup_dev_ctx). All return a verdict in [0, 1].
//
// Linux narrows some fields to particular attach types (user_ip4 only for IPv4 hooks,
// optname writes only for setsockopt...). xbpf verifies without an attach type, so each field
// is allowed as for the most permissive attach type of its program type.
#include <linux/bpf.h>

#include "runtime/progtypes/context_builder.hpp"
#include "runtime/progtypes/helper_sets.hpp"
#include "runtime/progtypes/linux_types.hpp"

namespace xbpf::progtypes {
namespace {

std::shared_ptr<ProgramType> cgroup_type(uint32_t id, const char* name,
                                         const char* context_btf_name) {
    auto t = std::make_shared<ProgramType>();
    t->id = id;
    t->name = name;
    t->context_btf_name = context_btf_name;
    t->return_range = ReturnRange{0, 1};
    return t;
}

std::shared_ptr<ProgramType> cgroup_sock_type() {
    auto t = cgroup_type(BPF_PROG_TYPE_CGROUP_SOCK, "cgroup_sock", "bpf_sock");
    ContextBuilder(80)
        .scalar("bound_dev_if", 0, 4, w::k4, w::k4)
        .scalar("family", 4, 4, w::kUpTo4)
        .scalar("type", 8, 4, w::kUpTo4)
        .scalar("protocol", 12, 4, w::kUpTo4)
        .scalar("mark", 16, 4, w::k4, w::k4)
        .scalar("priority", 20, 4, w::k4, w::k4)
        .scalar("src_ip4", 24, 4, w::kUpTo4)
        .scalar("src_ip6", 28, 16, w::kUpTo4)
        .scalar("src_port", 44, 4, w::kUpTo4)
        .scalar("dst_port", 48, 4, w::kUpTo4)  // be16 + padding; 4-byte loads allowed
        .scalar("dst_ip4", 52, 4, w::kUpTo4)
        .scalar("dst_ip6", 56, 16, w::kUpTo4)
        .scalar("state", 72, 4, w::kUpTo4)
        .scalar("rx_queue_mapping", 76, 4, w::kUpTo4)
        .finish(*t);
    // The plain base set (no socket casts), the socket's cookies and storage, the cgroup's
    // local storage and the return-value helpers.
    t->helpers = join({base_helpers(),
                       {BPF_FUNC_perf_event_output, BPF_FUNC_get_socket_cookie,
                        BPF_FUNC_get_local_storage, BPF_FUNC_sk_storage_get,
                        BPF_FUNC_get_netns_cookie, BPF_FUNC_get_retval, BPF_FUNC_set_retval}});
    return t;
}

std::shared_ptr<ProgramType> cgroup_sock_addr_type() {
    auto t = cgroup_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "cgroup_sock_addr", "bpf_sock_addr");
    // Addresses and the port: narrow reads, 32-bit writes; the IPv6 arrays also 64-bit reads
    // and writes at 8-byte aligned offsets. The other scalars: whole 32-bit reads only.
    ContextBuilder(72)
        .scalar("user_family", 0, 4, w::k4)
        .scalar("user_ip4", 4, 4, w::kUpTo4, w::k4)
        .scalar("user_ip6", 8, 16, w::kAny, w::k4 | w::k8)
        .scalar("user_port", 24, 4, w::kUpTo4, w::k4)
        .scalar("family", 28, 4, w::k4)
        .scalar("type", 32, 4, w::k4)
        .scalar("protocol", 36, 4, w::k4)
        .scalar("msg_src_ip4", 40, 4, w::kUpTo4, w::k4)
        .scalar("msg_src_ip6", 44, 16, w::kAny, w::k4 | w::k8)
        .pointer("sk", 64, 8, ContextFieldKind::Socket)
        .finish(*t);
    // bind only for the bind hooks, get/set_retval not for recvmsg, getpeername and
    // getsockname: allowed here as for the most permissive attach type.
    t->helpers =
        join({socket_base_helpers(),
              {BPF_FUNC_perf_event_output, BPF_FUNC_get_socket_cookie, BPF_FUNC_setsockopt,
               BPF_FUNC_getsockopt, BPF_FUNC_bind, BPF_FUNC_get_local_storage,
               BPF_FUNC_sk_lookup_tcp, BPF_FUNC_sk_lookup_udp, BPF_FUNC_sk_release,
               BPF_FUNC_skc_lookup_tcp, BPF_FUNC_sk_storage_get, BPF_FUNC_sk_storage_delete,
               BPF_FUNC_get_netns_cookie, BPF_FUNC_get_retval, BPF_FUNC_set_retval}});
    t->runnable = true;
    return t;
}

std::shared_ptr<ProgramType> cgroup_sysctl_type() {
    auto t = cgroup_type(BPF_PROG_TYPE_CGROUP_SYSCTL, "cgroup_sysctl", "bpf_sysctl");
    ContextBuilder(8)
        .scalar("write", 0, 4, w::kUpTo4)
        .scalar("file_pos", 4, 4, w::kUpTo4, w::k4)
        .finish(*t);
    t->helpers =
        join({base_helpers(),
              {BPF_FUNC_perf_event_output, BPF_FUNC_get_local_storage, BPF_FUNC_sysctl_get_name,
               BPF_FUNC_sysctl_get_current_value, BPF_FUNC_sysctl_get_new_value,
               BPF_FUNC_sysctl_set_new_value, BPF_FUNC_get_retval, BPF_FUNC_set_retval}});
    return t;
}

std::shared_ptr<ProgramType> cgroup_sockopt_type() {
    auto t = cgroup_type(BPF_PROG_TYPE_CGROUP_SOCKOPT, "cgroup_sockopt", "bpf_sockopt");
    ContextBuilder(40)
        .pointer("sk", 0, 8, ContextFieldKind::Socket)
        .pointer("optval", 8, 8, ContextFieldKind::PacketStart)
        .pointer("optval_end", 16, 8, ContextFieldKind::PacketEnd)
        .scalar("level", 24, 4, w::k4, w::k4)
        .scalar("optname", 28, 4, w::k4, w::k4)
        .scalar("optlen", 32, 4, w::k4, w::k4)
        .scalar("retval", 36, 4, w::k4, w::k4)
        .finish(*t);
    // The option buffer (optval..optval_end) is the packet here, and programs may rewrite it.
    t->packet_writable = true;
    // getsockopt and setsockopt only on their own hooks; without ktime_get_coarse_ns.
    t->helpers = join({without(base_helpers(), {BPF_FUNC_ktime_get_coarse_ns}),
                       {BPF_FUNC_perf_event_output, BPF_FUNC_setsockopt, BPF_FUNC_getsockopt,
                        BPF_FUNC_get_local_storage, BPF_FUNC_tcp_sock, BPF_FUNC_sk_storage_get,
                        BPF_FUNC_sk_storage_delete, BPF_FUNC_get_netns_cookie, BPF_FUNC_get_retval,
                        BPF_FUNC_set_retval}});
    return t;
}

std::shared_ptr<ProgramType> cgroup_device_type() {
    auto t = cgroup_type(BPF_PROG_TYPE_CGROUP_DEVICE, "cgroup_device", "bpf_cgroup_dev_ctx");
    ContextBuilder(12)
        .scalar("access_type", 0, 4, w::kUpTo4)
        .scalar("major", 4, 4, w::k4)
        .scalar("minor", 8, 4, w::k4)
        .finish(*t);
    t->helpers = join({without(base_helpers(), {BPF_FUNC_ktime_get_coarse_ns}),
                       {BPF_FUNC_perf_event_output, BPF_FUNC_get_local_storage, BPF_FUNC_get_retval,
                        BPF_FUNC_set_retval}});
    return t;
}

}  // namespace

void add_cgroup_types(std::vector<std::shared_ptr<ProgramType>>& out) {
    out.push_back(cgroup_sock_type());
    out.push_back(cgroup_sock_addr_type());
    out.push_back(cgroup_sysctl_type());
    out.push_back(cgroup_sockopt_type());
    out.push_back(cgroup_device_type());
}

}  // namespace xbpf::progtypes
