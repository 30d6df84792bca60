// Every context field of every Linux program type sits where the uapi struct puts it: checked
// against offsetof/sizeof on <linux/bpf.h> itself.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>

#include <cstddef>
#include <string>

#include "runtime/progtypes/native_contexts.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf {
namespace {

struct Expected {
    const char* type;
    const char* field;
    size_t offset;
    size_t size;
};

#define F(type, field, strct, member)                                                      \
    Expected {                                                                             \
        type, field, offsetof(strct, member), sizeof(static_cast<strct*>(nullptr)->member) \
    }

const Expected kFields[] = {
    F("xdp", "data", xdp_md, data),
    F("xdp", "data_end", xdp_md, data_end),
    F("xdp", "data_meta", xdp_md, data_meta),
    F("xdp", "ingress_ifindex", xdp_md, ingress_ifindex),
    F("xdp", "rx_queue_index", xdp_md, rx_queue_index),
    F("xdp", "egress_ifindex", xdp_md, egress_ifindex),
    F("sched_cls", "len", __sk_buff, len),
    F("sched_cls", "pkt_type", __sk_buff, pkt_type),
    F("sched_cls", "mark", __sk_buff, mark),
    F("sched_cls", "queue_mapping", __sk_buff, queue_mapping),
    F("sched_cls", "protocol", __sk_buff, protocol),
    F("sched_cls", "vlan_present", __sk_buff, vlan_present),
    F("sched_cls", "vlan_tci", __sk_buff, vlan_tci),
    F("sched_cls", "vlan_proto", __sk_buff, vlan_proto),
    F("sched_cls", "priority", __sk_buff, priority),
    F("sched_cls", "ingress_ifindex", __sk_buff, ingress_ifindex),
    F("sched_cls", "ifindex", __sk_buff, ifindex),
    F("sched_cls", "tc_index", __sk_buff, tc_index),
    F("sched_cls", "cb", __sk_buff, cb),
    F("sched_cls", "hash", __sk_buff, hash),
    F("sched_cls", "tc_classid", __sk_buff, tc_classid),
    F("sched_cls", "data", __sk_buff, data),
    F("sched_cls", "data_end", __sk_buff, data_end),
    F("sched_cls", "napi_id", __sk_buff, napi_id),
    F("sched_cls", "data_meta", __sk_buff, data_meta),
    F("sched_cls", "tstamp", __sk_buff, tstamp),
    F("sched_cls", "wire_len", __sk_buff, wire_len),
    F("sched_cls", "gso_segs", __sk_buff, gso_segs),
    F("sched_cls", "sk", __sk_buff, sk),
    F("sched_cls", "gso_size", __sk_buff, gso_size),
    F("sched_cls", "tstamp_type", __sk_buff, tstamp_type),
    F("sched_cls", "hwtstamp", __sk_buff, hwtstamp),
    F("cgroup_skb", "family", __sk_buff, family),
    F("cgroup_skb", "remote_ip4", __sk_buff, remote_ip4),
    F("cgroup_skb", "local_ip4", __sk_buff, local_ip4),
    F("cgroup_skb", "remote_ip6", __sk_buff, remote_ip6),
    F("cgroup_skb", "local_ip6", __sk_buff, local_ip6),
    F("cgroup_skb", "remote_port", __sk_buff, remote_port),
    F("cgroup_skb", "local_port", __sk_buff, local_port),
    F("flow_dissector", "flow_keys", __sk_buff, flow_keys),
    F("cgroup_sock_addr", "user_family", bpf_sock_addr, user_family),
    F("cgroup_sock_addr", "user_ip4", bpf_sock_addr, user_ip4),
    F("cgroup_sock_addr", "user_ip6", bpf_sock_addr, user_ip6),
    F("cgroup_sock_addr", "user_port", bpf_sock_addr, user_port),
    F("cgroup_sock_addr", "family", bpf_sock_addr, family),
    F("cgroup_sock_addr", "type", bpf_sock_addr, type),
    F("cgroup_sock_addr", "protocol", bpf_sock_addr, protocol),
    F("cgroup_sock_addr", "msg_src_ip4", bpf_sock_addr, msg_src_ip4),
    F("cgroup_sock_addr", "msg_src_ip6", bpf_sock_addr, msg_src_ip6),
    F("cgroup_sock_addr", "sk", bpf_sock_addr, sk),
    F("sock_ops", "op", bpf_sock_ops, op),
    F("sock_ops", "reply", bpf_sock_ops, reply),
    F("sock_ops", "family", bpf_sock_ops, family),
    F("sock_ops", "remote_ip4", bpf_sock_ops, remote_ip4),
    F("sock_ops", "local_ip4", bpf_sock_ops, local_ip4),
    F("sock_ops", "remote_ip6", bpf_sock_ops, remote_ip6),
    F("sock_ops", "local_ip6", bpf_sock_ops, local_ip6),
    F("sock_ops", "remote_port", bpf_sock_ops, remote_port),
    F("sock_ops", "local_port", bpf_sock_ops, local_port),
    F("sock_ops", "is_fullsock", bpf_sock_ops, is_fullsock),
    F("sock_ops", "snd_cwnd", bpf_sock_ops, snd_cwnd),
    F("sock_ops", "srtt_us", bpf_sock_ops, srtt_us),
    F("sock_ops", "bpf_sock_ops_cb_flags", bpf_sock_ops, bpf_sock_ops_cb_flags),
    F("sock_ops", "state", bpf_sock_ops, state),
    F("sock_ops", "rtt_min", bpf_sock_ops, rtt_min),
    F("sock_ops", "snd_ssthresh", bpf_sock_ops, snd_ssthresh),
    F("sock_ops", "rcv_nxt", bpf_sock_ops, rcv_nxt),
    F("sock_ops", "snd_nxt", bpf_sock_ops, snd_nxt),
    F("sock_ops", "snd_una", bpf_sock_ops, snd_una),
    F("sock_ops", "mss_cache", bpf_sock_ops, mss_cache),
    F("sock_ops", "ecn_flags", bpf_sock_ops, ecn_flags),
    F("sock_ops", "rate_delivered", bpf_sock_ops, rate_delivered),
    F("sock_ops", "rate_interval_us", bpf_sock_ops, rate_interval_us),
    F("sock_ops", "packets_out", bpf_sock_ops, packets_out),
    F("sock_ops", "retrans_out", bpf_sock_ops, retrans_out),
    F("sock_ops", "total_retrans", bpf_sock_ops, total_retrans),
    F("sock_ops", "segs_in", bpf_sock_ops, segs_in),
    F("sock_ops", "data_segs_in", bpf_sock_ops, data_segs_in),
    F("sock_ops", "segs_out", bpf_sock_ops, segs_out),
    F("sock_ops", "data_segs_out", bpf_sock_ops, data_segs_out),
    F("sock_ops", "lost_out", bpf_sock_ops, lost_out),
    F("sock_ops", "sacked_out", bpf_sock_ops, sacked_out),
    F("sock_ops", "sk_txhash", bpf_sock_ops, sk_txhash),
    F("sock_ops", "bytes_received", bpf_sock_ops, bytes_received),
    F("sock_ops", "bytes_acked", bpf_sock_ops, bytes_acked),
    F("sock_ops", "sk", bpf_sock_ops, sk),
    F("sock_ops", "skb_data", bpf_sock_ops, skb_data),
    F("sock_ops", "skb_data_end", bpf_sock_ops, skb_data_end),
    F("sock_ops", "skb_len", bpf_sock_ops, skb_len),
    F("sock_ops", "skb_tcp_flags", bpf_sock_ops, skb_tcp_flags),
    F("cgroup_sock", "bound_dev_if", bpf_sock, bound_dev_if),
    F("cgroup_sock", "family", bpf_sock, family),
    F("cgroup_sock", "type", bpf_sock, type),
    F("cgroup_sock", "protocol", bpf_sock, protocol),
    F("cgroup_sock", "mark", bpf_sock, mark),
    F("cgroup_sock", "priority", bpf_sock, priority),
    F("cgroup_sock", "src_ip4", bpf_sock, src_ip4),
    F("cgroup_sock", "src_ip6", bpf_sock, src_ip6),
    F("cgroup_sock", "src_port", bpf_sock, src_port),
    F("cgroup_sock", "dst_ip4", bpf_sock, dst_ip4),
    F("cgroup_sock", "dst_ip6", bpf_sock, dst_ip6),
    F("cgroup_sock", "state", bpf_sock, state),
    F("cgroup_sock", "rx_queue_mapping", bpf_sock, rx_queue_mapping),
    F("sk_msg", "data", sk_msg_md, data),
    F("sk_msg", "data_end", sk_msg_md, data_end),
    F("sk_msg", "family", sk_msg_md, family),
    F("sk_msg", "remote_ip4", sk_msg_md, remote_ip4),
    F("sk_msg", "local_ip4", sk_msg_md, local_ip4),
    F("sk_msg", "remote_ip6", sk_msg_md, remote_ip6),
    F("sk_msg", "local_ip6", sk_msg_md, local_ip6),
    F("sk_msg", "remote_port", sk_msg_md, remote_port),
    F("sk_msg", "local_port", sk_msg_md, local_port),
    F("sk_msg", "size", sk_msg_md, size),
    F("sk_msg", "sk", sk_msg_md, sk),
    F("sk_reuseport", "data", sk_reuseport_md, data),
    F("sk_reuseport", "data_end", sk_reuseport_md, data_end),
    F("sk_reuseport", "len", sk_reuseport_md, len),
    F("sk_reuseport", "eth_protocol", sk_reuseport_md, eth_protocol),
    F("sk_reuseport", "ip_protocol", sk_reuseport_md, ip_protocol),
    F("sk_reuseport", "bind_inany", sk_reuseport_md, bind_inany),
    F("sk_reuseport", "hash", sk_reuseport_md, hash),
    F("sk_reuseport", "sk", sk_reuseport_md, sk),
    F("sk_reuseport", "migrating_sk", sk_reuseport_md, migrating_sk),
    F("sk_lookup", "sk", bpf_sk_lookup, sk),
    F("sk_lookup", "family", bpf_sk_lookup, family),
    F("sk_lookup", "protocol", bpf_sk_lookup, protocol),
    F("sk_lookup", "remote_ip4", bpf_sk_lookup, remote_ip4),
    F("sk_lookup", "remote_ip6", bpf_sk_lookup, remote_ip6),
    F("sk_lookup", "local_ip4", bpf_sk_lookup, local_ip4),
    F("sk_lookup", "local_ip6", bpf_sk_lookup, local_ip6),
    F("sk_lookup", "local_port", bpf_sk_lookup, local_port),
    F("sk_lookup", "ingress_ifindex", bpf_sk_lookup, ingress_ifindex),
    F("cgroup_sysctl", "write", bpf_sysctl, write),
    F("cgroup_sysctl", "file_pos", bpf_sysctl, file_pos),
    F("cgroup_sockopt", "sk", bpf_sockopt, sk),
    F("cgroup_sockopt", "optval", bpf_sockopt, optval),
    F("cgroup_sockopt", "optval_end", bpf_sockopt, optval_end),
    F("cgroup_sockopt", "level", bpf_sockopt, level),
    F("cgroup_sockopt", "optname", bpf_sockopt, optname),
    F("cgroup_sockopt", "optlen", bpf_sockopt, optlen),
    F("cgroup_sockopt", "retval", bpf_sockopt, retval),
    F("cgroup_device", "access_type", bpf_cgroup_dev_ctx, access_type),
    F("cgroup_device", "major", bpf_cgroup_dev_ctx, major),
    F("cgroup_device", "minor", bpf_cgroup_dev_ctx, minor),
    F("perf_event", "regs", bpf_perf_event_data, regs),
    F("perf_event", "sample_period", bpf_perf_event_data, sample_period),
    F("perf_event", "addr", bpf_perf_event_data, addr),
};
#undef F

TEST(ContextLayout, FieldsMatchTheUapiStructs) {
    for (const auto& e : kFields) {
        SCOPED_TRACE(std::string(e.type) + "." + e.field);
        auto type = ProgramTypeRegistry::global().find(e.type);
        ASSERT_TRUE(type) << "no program type " << e.type;
        const ContextField* found = nullptr;
        for (const auto& f : type->fields) {
            if (f.name == e.field) found = &f;
        }
        ASSERT_NE(found, nullptr);
        EXPECT_EQ(found->offset, e.offset);
        // Fields that end in padding Linux lets programs read (dst_port, remote_port) are
        // wider than the member; all others match exactly.
        EXPECT_GE(found->size, e.size);
    }
}

TEST(ContextLayout, ContextSizesMatchTheUapiStructs) {
    auto size_of = [](const char* name) {
        return ProgramTypeRegistry::global().find(name)->context_size;
    };
    EXPECT_EQ(size_of("xdp"), sizeof(xdp_md));
    EXPECT_EQ(size_of("socket_filter"), sizeof(__sk_buff));
    EXPECT_EQ(size_of("sched_cls"), sizeof(__sk_buff));
    EXPECT_EQ(size_of("cgroup_sock_addr"), sizeof(bpf_sock_addr));
    EXPECT_EQ(size_of("sock_ops"), sizeof(bpf_sock_ops));
    EXPECT_EQ(size_of("cgroup_sock"), sizeof(bpf_sock));
    EXPECT_EQ(size_of("sk_msg"), sizeof(sk_msg_md));
    EXPECT_EQ(size_of("sk_reuseport"), sizeof(sk_reuseport_md));
    EXPECT_EQ(size_of("sk_lookup"), sizeof(bpf_sk_lookup));
    EXPECT_EQ(size_of("cgroup_sysctl"), sizeof(bpf_sysctl));
    EXPECT_EQ(size_of("cgroup_sockopt"), sizeof(bpf_sockopt));
    EXPECT_EQ(size_of("cgroup_device"), sizeof(bpf_cgroup_dev_ctx));
    EXPECT_EQ(size_of("perf_event"), sizeof(bpf_perf_event_data));
    EXPECT_EQ(size_of("kprobe"), 168u);  // struct pt_regs on x86-64
}

TEST(ContextLayout, EveryFieldHasANativePlace) {
    for (const auto& type : ProgramTypeRegistry::global().all()) {
        SCOPED_TRACE(type->name);
        EXPECT_GE(type->native_context_size, type->context_size);
        for (const auto& f : type->fields) {
            EXPECT_EQ(f.native_size, f.is_pointer() ? 8u : f.size) << f.name;
            EXPECT_LE(f.native_offset + f.native_size, type->native_context_size) << f.name;
            if (f.is_pointer()) {
                EXPECT_EQ(f.native_offset % 8, 0u) << f.name;
            } else {
                EXPECT_EQ(f.native_offset, f.offset) << f.name;
            }
        }
    }
}

TEST(ContextLayout, NativeStructsMatchTheContracts) {
    auto native_offset = [](const char* type, const char* field) {
        for (const auto& f : ProgramTypeRegistry::global().find(type)->fields) {
            if (f.name == field) return static_cast<size_t>(f.native_offset);
        }
        return size_t{0};
    };
    EXPECT_EQ(native_offset("xdp", "data"), offsetof(progtypes::NativeXdp, data));
    EXPECT_EQ(native_offset("xdp", "data_end"), offsetof(progtypes::NativeXdp, data_end));
    EXPECT_EQ(native_offset("xdp", "data_meta"), offsetof(progtypes::NativeXdp, data_meta));
    EXPECT_EQ(ProgramTypeRegistry::global().find("xdp")->native_context_size,
              sizeof(progtypes::NativeXdp));
    for (const char* type : {"sched_cls", "cgroup_skb", "lwt_in", "sk_skb", "flow_dissector"}) {
        EXPECT_EQ(native_offset(type, "data"), offsetof(progtypes::NativeSkb, data)) << type;
        EXPECT_EQ(native_offset(type, "data_end"), offsetof(progtypes::NativeSkb, data_end))
            << type;
    }
    EXPECT_EQ(native_offset("sched_cls", "data_meta"), offsetof(progtypes::NativeSkb, data_meta));
    for (const char* type : {"socket_filter", "sched_cls", "cgroup_skb"}) {
        EXPECT_EQ(ProgramTypeRegistry::global().find(type)->native_context_size,
                  sizeof(progtypes::NativeSkb))
            << type;
    }
}

}  // namespace
}  // namespace xbpf
