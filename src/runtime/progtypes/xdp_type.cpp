// BPF_PROG_TYPE_XDP: struct xdp_md. Every field is read-only and read as a whole 32-bit word
// (Linux refuses narrow loads here); egress_ifindex is meaningful only for programs in a
// devmap, which Linux checks by attach type and xbpf allows to all.
#include <linux/bpf.h>

#include "runtime/progtypes/context_builder.hpp"
#include "runtime/progtypes/helper_sets.hpp"
#include "runtime/progtypes/linux_types.hpp"

namespace xbpf::progtypes {

void add_xdp_type(std::vector<std::shared_ptr<ProgramType>>& out) {
    auto t = std::make_shared<ProgramType>();
    t->id = BPF_PROG_TYPE_XDP;
    t->name = "xdp";
    t->context_btf_name = "xdp_md";
    t->packet_writable = true;
    ContextBuilder(24)
        .pointer("data", 0, 4, ContextFieldKind::PacketStart)
        .pointer("data_end", 4, 4, ContextFieldKind::PacketEnd)
        .pointer("data_meta", 8, 4, ContextFieldKind::PacketMeta)
        .scalar("ingress_ifindex", 12, 4, w::k4)
        .scalar("rx_queue_index", 16, 4, w::k4)
        .scalar("egress_ifindex", 20, 4, w::k4)
        .finish(*t);
    t->helpers = join({socket_base_helpers(),
                       {BPF_FUNC_perf_event_output,
                        BPF_FUNC_csum_diff,
                        BPF_FUNC_xdp_adjust_head,
                        BPF_FUNC_xdp_adjust_meta,
                        BPF_FUNC_redirect,
                        BPF_FUNC_redirect_map,
                        BPF_FUNC_xdp_adjust_tail,
                        BPF_FUNC_xdp_get_buff_len,
                        BPF_FUNC_xdp_load_bytes,
                        BPF_FUNC_xdp_store_bytes,
                        BPF_FUNC_fib_lookup,
                        BPF_FUNC_check_mtu,
                        BPF_FUNC_sk_lookup_udp,
                        BPF_FUNC_sk_lookup_tcp,
                        BPF_FUNC_sk_release,
                        BPF_FUNC_skc_lookup_tcp,
                        BPF_FUNC_tcp_check_syncookie,
                        BPF_FUNC_tcp_gen_syncookie,
                        BPF_FUNC_tcp_raw_gen_syncookie_ipv4,
                        BPF_FUNC_tcp_raw_gen_syncookie_ipv6,
                        BPF_FUNC_tcp_raw_check_syncookie_ipv4,
                        BPF_FUNC_tcp_raw_check_syncookie_ipv6}});
    t->runnable = true;
    out.push_back(std::move(t));
}

}  // namespace xbpf::progtypes
