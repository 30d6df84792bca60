// The program types whose context is struct __sk_buff: socket_filter, sched_cls, sched_act,
// cgroup_skb, lwt_in/out/xmit/seg6local, sk_skb and flow_dissector. They share one struct
// and differ in which fields each may read or write, following each type's is_valid_access in
// Linux (see docs/program-types.md for the table).
#include <linux/bpf.h>

#include <algorithm>
#include <string>

#include "runtime/progtypes/context_builder.hpp"
#include "runtime/progtypes/helper_sets.hpp"
#include "runtime/progtypes/linux_types.hpp"

namespace xbpf::progtypes {
namespace {

// Which parts of __sk_buff a type may use.
struct SkbAccess {
    bool packet = false;         // data, data_end
    bool data_meta = false;      // data_meta
    bool socket_fields = false;  // family .. local_port
    bool tc_classid = false;
    bool tstamp = false;
    bool wire_len = false;
    bool hwtstamp = false;
    bool tstamp_type = false;
    bool mark = true;
    std::vector<std::string> writable;  // field names stores may target
};

constexpr uint32_t kSkbSize = 192;        // sizeof(struct __sk_buff)
constexpr uint32_t kNativeSkbSize = 216;  // sizeof(progtypes::NativeSkb)

void build_skb_context(ProgramType& t, const SkbAccess& a) {
    auto writes = [&a](const char* name, uint8_t widths) -> uint8_t {
        return std::find(a.writable.begin(), a.writable.end(), name) != a.writable.end() ? widths
                                                                                         : 0;
    };
    auto field = [&](ContextBuilder& b, const char* name, uint32_t off, uint32_t size,
                     uint8_t reads) {
        b.scalar(name, off, size, reads, writes(name, size == 8 ? w::k8 : w::k4));
    };
    ContextBuilder b(kSkbSize);
    field(b, "len", 0, 4, w::kUpTo4);
    field(b, "pkt_type", 4, 4, w::kUpTo4);
    if (a.mark) field(b, "mark", 8, 4, w::kUpTo4);
    field(b, "queue_mapping", 12, 4, w::kUpTo4);
    field(b, "protocol", 16, 4, w::kUpTo4);
    field(b, "vlan_present", 20, 4, w::kUpTo4);
    field(b, "vlan_tci", 24, 4, w::kUpTo4);
    field(b, "vlan_proto", 28, 4, w::kUpTo4);
    field(b, "priority", 32, 4, w::kUpTo4);
    field(b, "ingress_ifindex", 36, 4, w::kUpTo4);
    field(b, "ifindex", 40, 4, w::kUpTo4);
    field(b, "tc_index", 44, 4, w::kUpTo4);
    b.scalar("cb", 48, 20, w::kAny, writes("cb", w::kAny));
    field(b, "hash", 68, 4, w::kUpTo4);
    if (a.tc_classid) field(b, "tc_classid", 72, 4, w::kUpTo4);
    if (a.packet) {
        b.pointer("data", 76, 4, ContextFieldKind::PacketStart);
        b.pointer("data_end", 80, 4, ContextFieldKind::PacketEnd);
    }
    field(b, "napi_id", 84, 4, w::kUpTo4);
    if (a.socket_fields) {
        field(b, "family", 88, 4, w::kUpTo4);
        field(b, "remote_ip4", 92, 4, w::k4);
        field(b, "local_ip4", 96, 4, w::k4);
        field(b, "remote_ip6", 100, 16, w::k4);
        field(b, "local_ip6", 116, 16, w::k4);
        field(b, "remote_port", 132, 4, w::kUpTo4);
        field(b, "local_port", 136, 4, w::kUpTo4);
    }
    if (a.data_meta) b.pointer("data_meta", 140, 4, ContextFieldKind::PacketMeta);
    if (a.tstamp) field(b, "tstamp", 152, 8, w::k8);
    if (a.wire_len) field(b, "wire_len", 160, 4, w::kUpTo4);
    field(b, "gso_segs", 164, 4, w::kUpTo4);
    b.pointer("sk", 168, 8, ContextFieldKind::SocketOrNull);
    field(b, "gso_size", 176, 4, w::kUpTo4);
    if (a.tstamp_type) field(b, "tstamp_type", 180, 1, w::k1);
    if (a.hwtstamp) field(b, "hwtstamp", 184, 8, w::k8);
    b.finish(t);
    // Every __sk_buff type gets the same native struct (NativeSkb: the packet pointers after
    // the uapi struct), whether or not its programs may read the pointers: helpers such as
    // skb_load_bytes need them.
    t.native_context_size = std::max<uint32_t>(t.native_context_size, kNativeSkbSize);
}

std::shared_ptr<ProgramType> skb_type(uint32_t id, const char* name, const SkbAccess& access,
                                      HelperIds helpers) {
    auto t = std::make_shared<ProgramType>();
    t->id = id;
    t->name = name;
    t->context_btf_name = "__sk_buff";
    build_skb_context(*t, access);
    t->helpers = std::move(helpers);
    return t;
}

HelperIds tc_helpers() {
    return join({socket_base_helpers(),
                 {BPF_FUNC_skb_store_bytes,
                  BPF_FUNC_l3_csum_replace,
                  BPF_FUNC_l4_csum_replace,
                  BPF_FUNC_clone_redirect,
                  BPF_FUNC_skb_vlan_push,
                  BPF_FUNC_skb_vlan_pop,
                  BPF_FUNC_skb_get_tunnel_key,
                  BPF_FUNC_skb_set_tunnel_key,
                  BPF_FUNC_redirect,
                  BPF_FUNC_get_route_realm,
                  BPF_FUNC_perf_event_output,
                  BPF_FUNC_skb_load_bytes,
                  BPF_FUNC_csum_diff,
                  BPF_FUNC_skb_get_tunnel_opt,
                  BPF_FUNC_skb_set_tunnel_opt,
                  BPF_FUNC_skb_change_proto,
                  BPF_FUNC_skb_change_type,
                  BPF_FUNC_skb_under_cgroup,
                  BPF_FUNC_get_hash_recalc,
                  BPF_FUNC_skb_change_tail,
                  BPF_FUNC_skb_pull_data,
                  BPF_FUNC_csum_update,
                  BPF_FUNC_set_hash_invalid,
                  BPF_FUNC_skb_change_head,
                  BPF_FUNC_get_socket_cookie,
                  BPF_FUNC_get_socket_uid,
                  BPF_FUNC_set_hash,
                  BPF_FUNC_skb_adjust_room,
                  BPF_FUNC_skb_get_xfrm_state,
                  BPF_FUNC_skb_load_bytes_relative,
                  BPF_FUNC_fib_lookup,
                  BPF_FUNC_skb_cgroup_id,
                  BPF_FUNC_skb_ancestor_cgroup_id,
                  BPF_FUNC_sk_lookup_tcp,
                  BPF_FUNC_sk_lookup_udp,
                  BPF_FUNC_sk_release,
                  BPF_FUNC_sk_fullsock,
                  BPF_FUNC_tcp_sock,
                  BPF_FUNC_skb_ecn_set_ce,
                  BPF_FUNC_get_listener_sock,
                  BPF_FUNC_skc_lookup_tcp,
                  BPF_FUNC_tcp_check_syncookie,
                  BPF_FUNC_sk_storage_get,
                  BPF_FUNC_sk_storage_delete,
                  BPF_FUNC_tcp_gen_syncookie,
                  BPF_FUNC_get_netns_cookie,
                  BPF_FUNC_sk_assign,
                  BPF_FUNC_csum_level,
                  BPF_FUNC_skb_cgroup_classid,
                  BPF_FUNC_redirect_neigh,
                  BPF_FUNC_redirect_peer,
                  BPF_FUNC_check_mtu,
                  BPF_FUNC_skb_set_tstamp,
                  BPF_FUNC_tcp_raw_gen_syncookie_ipv4,
                  BPF_FUNC_tcp_raw_gen_syncookie_ipv6,
                  BPF_FUNC_tcp_raw_check_syncookie_ipv4,
                  BPF_FUNC_tcp_raw_check_syncookie_ipv6}});
}

HelperIds lwt_out_helpers() {
    return join({socket_base_helpers(),
                 {BPF_FUNC_get_route_realm, BPF_FUNC_perf_event_output, BPF_FUNC_skb_load_bytes,
                  BPF_FUNC_csum_diff, BPF_FUNC_skb_under_cgroup, BPF_FUNC_get_hash_recalc,
                  BPF_FUNC_skb_pull_data}});
}

}  // namespace

void add_skb_types(std::vector<std::shared_ptr<ProgramType>>& out) {
    // socket_filter: no direct packet access; only cb[] is writable.
    {
        SkbAccess a;
        a.writable = {"cb"};
        auto t = skb_type(BPF_PROG_TYPE_SOCKET_FILTER, "socket_filter", a,
                          join({socket_base_helpers(),
                                {BPF_FUNC_skb_load_bytes, BPF_FUNC_skb_load_bytes_relative,
                                 BPF_FUNC_get_socket_cookie, BPF_FUNC_get_socket_uid,
                                 BPF_FUNC_perf_event_output, BPF_FUNC_get_netns_cookie}}));
        t->legacy_packet_loads = true;
        t->runnable = true;
        out.push_back(std::move(t));
    }
    // sched_cls and sched_act (tc): direct packet access with metadata, the tc fields writable.
    {
        SkbAccess a;
        a.packet = a.data_meta = a.tc_classid = a.tstamp = a.wire_len = a.hwtstamp = true;
        a.tstamp_type = true;
        a.writable = {"mark", "tc_index", "priority",     "tc_classid",
                      "cb",   "tstamp",   "queue_mapping"};
        for (auto [id, name] : {std::pair{BPF_PROG_TYPE_SCHED_CLS, "sched_cls"},
                                std::pair{BPF_PROG_TYPE_SCHED_ACT, "sched_act"}}) {
            auto t = skb_type(id, name, a, tc_helpers());
            t->legacy_packet_loads = true;
            t->packet_writable = true;
            t->runnable = true;
            out.push_back(std::move(t));
        }
    }
    // cgroup_skb: packet readable (data, data_end), the socket fields readable; verdicts 0..1
    // on ingress and 0..3 on egress (the union here, as xbpf has no attach type at verify time).
    {
        SkbAccess a;
        a.packet = a.socket_fields = a.tstamp = a.hwtstamp = true;
        a.writable = {"mark", "priority", "cb", "tstamp"};
        auto t = skb_type(BPF_PROG_TYPE_CGROUP_SKB, "cgroup_skb", a,
                          join({socket_base_helpers(),
                                {BPF_FUNC_perf_event_output,
                                 BPF_FUNC_skb_load_bytes,
                                 BPF_FUNC_get_socket_cookie,
                                 BPF_FUNC_get_socket_uid,
                                 BPF_FUNC_skb_load_bytes_relative,
                                 BPF_FUNC_skb_cgroup_id,
                                 BPF_FUNC_get_local_storage,
                                 BPF_FUNC_skb_ancestor_cgroup_id,
                                 BPF_FUNC_sk_lookup_tcp,
                                 BPF_FUNC_sk_lookup_udp,
                                 BPF_FUNC_sk_release,
                                 BPF_FUNC_sk_fullsock,
                                 BPF_FUNC_tcp_sock,
                                 BPF_FUNC_skb_ecn_set_ce,
                                 BPF_FUNC_get_listener_sock,
                                 BPF_FUNC_skc_lookup_tcp,
                                 BPF_FUNC_sk_storage_get,
                                 BPF_FUNC_sk_storage_delete,
                                 BPF_FUNC_get_netns_cookie,
                                 BPF_FUNC_sk_cgroup_id,
                                 BPF_FUNC_sk_ancestor_cgroup_id}}));
        t->return_range = ReturnRange{0, 3};
        t->runnable = true;
        out.push_back(std::move(t));
    }
    // Lightweight tunnels: packet readable from the network header; mark, priority, cb writable.
    {
        SkbAccess a;
        a.packet = true;
        a.writable = {"mark", "priority", "cb"};
        out.push_back(skb_type(BPF_PROG_TYPE_LWT_IN, "lwt_in", a,
                               join({lwt_out_helpers(), {BPF_FUNC_lwt_push_encap}})));
        out.push_back(skb_type(BPF_PROG_TYPE_LWT_OUT, "lwt_out", a, lwt_out_helpers()));
        auto xmit = skb_type(
            BPF_PROG_TYPE_LWT_XMIT, "lwt_xmit", a,
            join({socket_base_helpers(), {BPF_FUNC_skb_store_bytes,    BPF_FUNC_l3_csum_replace,
                                          BPF_FUNC_l4_csum_replace,    BPF_FUNC_clone_redirect,
                                          BPF_FUNC_skb_get_tunnel_key, BPF_FUNC_skb_set_tunnel_key,
                                          BPF_FUNC_redirect,           BPF_FUNC_get_route_realm,
                                          BPF_FUNC_perf_event_output,  BPF_FUNC_skb_load_bytes,
                                          BPF_FUNC_csum_diff,          BPF_FUNC_skb_get_tunnel_opt,
                                          BPF_FUNC_skb_set_tunnel_opt, BPF_FUNC_skb_under_cgroup,
                                          BPF_FUNC_get_hash_recalc,    BPF_FUNC_skb_change_tail,
                                          BPF_FUNC_skb_pull_data,      BPF_FUNC_csum_update,
                                          BPF_FUNC_set_hash_invalid,   BPF_FUNC_skb_change_head,
                                          BPF_FUNC_lwt_push_encap,     BPF_FUNC_csum_level}}));
        xmit->packet_writable = true;  // the only lightweight tunnel type that writes packets
        out.push_back(std::move(xmit));
        out.push_back(skb_type(BPF_PROG_TYPE_LWT_SEG6LOCAL, "lwt_seg6local", a,
                               join({lwt_out_helpers(),
                                     {BPF_FUNC_lwt_seg6_store_bytes, BPF_FUNC_lwt_seg6_action,
                                      BPF_FUNC_lwt_seg6_adjust_srh}})));
    }
    // sk_skb: stream parser/verdict programs; mark is hidden, tc_index and priority writable.
    {
        SkbAccess a;
        a.packet = a.socket_fields = true;
        a.mark = false;
        a.writable = {"tc_index", "priority"};
        auto t = skb_type(
            BPF_PROG_TYPE_SK_SKB, "sk_skb", a,
            join({socket_base_helpers(),
                  {BPF_FUNC_skb_store_bytes, BPF_FUNC_perf_event_output, BPF_FUNC_skb_load_bytes,
                   BPF_FUNC_skb_change_tail, BPF_FUNC_skb_pull_data, BPF_FUNC_skb_change_head,
                   BPF_FUNC_get_socket_cookie, BPF_FUNC_get_socket_uid, BPF_FUNC_skb_adjust_room,
                   BPF_FUNC_sk_redirect_map, BPF_FUNC_sk_redirect_hash, BPF_FUNC_sk_lookup_tcp,
                   BPF_FUNC_sk_lookup_udp, BPF_FUNC_sk_release, BPF_FUNC_skc_lookup_tcp}}));
        t->packet_writable = true;
        out.push_back(std::move(t));
    }
    // flow_dissector: only the packet and the flow keys it fills.
    {
        auto t = std::make_shared<ProgramType>();
        t->id = BPF_PROG_TYPE_FLOW_DISSECTOR;
        t->name = "flow_dissector";
        t->context_btf_name = "__sk_buff";
        ContextBuilder(kSkbSize)
            .pointer("data", 76, 4, ContextFieldKind::PacketStart)
            .pointer("data_end", 80, 4, ContextFieldKind::PacketEnd)
            .pointer("flow_keys", 144, 8, ContextFieldKind::FlowKeys)
            .finish(*t);
        t->helpers = join({socket_base_helpers(), {BPF_FUNC_skb_load_bytes}});
        out.push_back(std::move(t));
    }
}

}  // namespace xbpf::progtypes
