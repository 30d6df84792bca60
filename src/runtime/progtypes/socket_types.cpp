// Socket-level program types: sock_ops (struct bpf_sock_ops), sk_msg (struct sk_msg_md),
// sk_reuseport (struct sk_reuseport_md) and sk_lookup (struct bpf_sk_lookup).
#include <linux/bpf.h>

#include "runtime/progtypes/context_builder.hpp"
#include "runtime/progtypes/helper_sets.hpp"
#include "runtime/progtypes/linux_types.hpp"

namespace xbpf::progtypes {
namespace {

std::shared_ptr<ProgramType> sock_ops_type() {
    auto t = std::make_shared<ProgramType>();
    t->id = BPF_PROG_TYPE_SOCK_OPS;
    t->name = "sock_ops";
    t->context_btf_name = "bpf_sock_ops";
    // Linux allows only whole 32-bit reads of the u32 fields (skb_tcp_flags excepted) and
    // writes only to reply (args[0]) and sk_txhash.
    ContextBuilder b(216);
    b.scalar("op", 0, 4, w::k4);
    b.scalar("reply", 4, 4, w::k4, w::k4);  // union with args[0], replylong[0]
    b.scalar("args[1..3]", 8, 12, w::k4);
    const char* words[] = {"family", "remote_ip4", "local_ip4"};
    for (uint32_t i = 0; i < 3; ++i)
        b.scalar(words[i], 20 + 4 * i, 4, w::k4);
    b.scalar("remote_ip6", 32, 16, w::k4);
    b.scalar("local_ip6", 48, 16, w::k4);
    const char* tail[] = {"remote_port",    "local_port",
                          "is_fullsock",    "snd_cwnd",
                          "srtt_us",        "bpf_sock_ops_cb_flags",
                          "state",          "rtt_min",
                          "snd_ssthresh",   "rcv_nxt",
                          "snd_nxt",        "snd_una",
                          "mss_cache",      "ecn_flags",
                          "rate_delivered", "rate_interval_us",
                          "packets_out",    "retrans_out",
                          "total_retrans",  "segs_in",
                          "data_segs_in",   "segs_out",
                          "data_segs_out",  "lost_out",
                          "sacked_out"};
    uint32_t off = 64;
    for (const char* name : tail) {
        b.scalar(name, off, 4, w::k4);
        off += 4;
    }
    b.scalar("sk_txhash", 164, 4, w::k4, w::k4);
    b.scalar("bytes_received", 168, 8, w::k8);
    b.scalar("bytes_acked", 176, 8, w::k8);
    b.pointer("sk", 184, 8, ContextFieldKind::SocketOrNull);
    b.pointer("skb_data", 192, 8, ContextFieldKind::PacketStart);
    b.pointer("skb_data_end", 200, 8, ContextFieldKind::PacketEnd);
    b.scalar("skb_len", 208, 4, w::k4);
    b.scalar("skb_tcp_flags", 212, 4, w::kUpTo4);
    b.finish(*t);
    t->helpers =
        join({socket_base_helpers(),
              {BPF_FUNC_perf_event_output, BPF_FUNC_get_socket_cookie, BPF_FUNC_setsockopt,
               BPF_FUNC_sock_map_update, BPF_FUNC_getsockopt, BPF_FUNC_sock_ops_cb_flags_set,
               BPF_FUNC_sock_hash_update, BPF_FUNC_get_local_storage, BPF_FUNC_tcp_sock,
               BPF_FUNC_sk_storage_get, BPF_FUNC_sk_storage_delete, BPF_FUNC_get_netns_cookie,
               BPF_FUNC_load_hdr_opt, BPF_FUNC_store_hdr_opt, BPF_FUNC_reserve_hdr_opt}});
    t->return_range = ReturnRange{0, 1};
    t->runnable = true;
    return t;
}

std::shared_ptr<ProgramType> sk_msg_type() {
    auto t = std::make_shared<ProgramType>();
    t->id = BPF_PROG_TYPE_SK_MSG;
    t->name = "sk_msg";
    t->context_btf_name = "sk_msg_md";
    t->packet_writable = true;
    ContextBuilder(80)
        .pointer("data", 0, 8, ContextFieldKind::PacketStart)
        .pointer("data_end", 8, 8, ContextFieldKind::PacketEnd)
        .scalar("family", 16, 4, w::k4)
        .scalar("remote_ip4", 20, 4, w::k4)
        .scalar("local_ip4", 24, 4, w::k4)
        .scalar("remote_ip6", 28, 16, w::k4)
        .scalar("local_ip6", 44, 16, w::k4)
        .scalar("remote_port", 60, 4, w::k4)
        .scalar("local_port", 64, 4, w::k4)
        .scalar("size", 68, 4, w::k4)
        .pointer("sk", 72, 8, ContextFieldKind::Socket)
        .finish(*t);
    t->helpers =
        join({socket_base_helpers(),
              {BPF_FUNC_perf_event_output, BPF_FUNC_msg_redirect_map, BPF_FUNC_msg_apply_bytes,
               BPF_FUNC_msg_cork_bytes, BPF_FUNC_msg_pull_data, BPF_FUNC_msg_redirect_hash,
               BPF_FUNC_msg_push_data, BPF_FUNC_msg_pop_data, BPF_FUNC_sk_storage_get,
               BPF_FUNC_sk_storage_delete, BPF_FUNC_get_netns_cookie}});
    return t;
}

std::shared_ptr<ProgramType> sk_reuseport_type() {
    auto t = std::make_shared<ProgramType>();
    t->id = BPF_PROG_TYPE_SK_REUSEPORT;
    t->name = "sk_reuseport";
    t->context_btf_name = "sk_reuseport_md";
    ContextBuilder(56)
        .pointer("data", 0, 8, ContextFieldKind::PacketStart)
        .pointer("data_end", 8, 8, ContextFieldKind::PacketEnd)
        .scalar("len", 16, 4, w::kUpTo4)
        .scalar("eth_protocol", 20, 4, w::k2 | w::k4)  // no narrower than the be16 it holds
        .scalar("ip_protocol", 24, 4, w::kUpTo4)
        .scalar("bind_inany", 28, 4, w::kUpTo4)
        .scalar("hash", 32, 4, w::kUpTo4)
        .pointer("sk", 40, 8, ContextFieldKind::Socket)
        .pointer("migrating_sk", 48, 8, ContextFieldKind::SocketOrNull)
        .finish(*t);
    // No socket casts here: sk_reuseport builds on the plain base set.
    t->helpers = join({base_helpers(),
                       {BPF_FUNC_skb_load_bytes, BPF_FUNC_get_socket_cookie,
                        BPF_FUNC_skb_load_bytes_relative, BPF_FUNC_sk_select_reuseport}});
    return t;
}

std::shared_ptr<ProgramType> sk_lookup_type() {
    auto t = std::make_shared<ProgramType>();
    t->id = BPF_PROG_TYPE_SK_LOOKUP;
    t->name = "sk_lookup";
    t->context_btf_name = "bpf_sk_lookup";
    ContextBuilder(72)
        .pointer("sk", 0, 8, ContextFieldKind::SocketOrNull)
        .scalar("family", 8, 4, w::kUpTo4)
        .scalar("protocol", 12, 4, w::kUpTo4)
        .scalar("remote_ip4", 16, 4, w::kUpTo4)
        .scalar("remote_ip6", 20, 16, w::kUpTo4)
        // A be16 followed by padding; Linux also allows the old 4-byte load of both.
        .scalar("remote_port", 36, 4, w::kUpTo4)
        .scalar("local_ip4", 40, 4, w::kUpTo4)
        .scalar("local_ip6", 44, 16, w::kUpTo4)
        .scalar("local_port", 60, 4, w::kUpTo4)
        .scalar("ingress_ifindex", 64, 4, w::kUpTo4)
        .finish(*t);
    t->helpers = join({socket_base_helpers(),
                       {BPF_FUNC_perf_event_output, BPF_FUNC_sk_assign, BPF_FUNC_sk_release}});
    t->return_range = ReturnRange{0, 1};
    return t;
}

}  // namespace

void add_socket_types(std::vector<std::shared_ptr<ProgramType>>& out) {
    out.push_back(sock_ops_type());
    out.push_back(sk_msg_type());
    out.push_back(sk_reuseport_type());
    out.push_back(sk_lookup_type());
}

}  // namespace xbpf::progtypes
