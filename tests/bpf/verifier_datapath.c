// Verifier scale test: a container datapath in the style of Cilium's from-container program,
// written for this project. Ethernet with VLAN tags, IPv4 with options and IPv6 with extension
// headers, TCP/UDP/ICMP, service load balancing with DNAT and checksum fixes, connection
// tracking in both directions, an LPM identity cache, policy (global and per endpoint through a
// map of maps), per-CPU metrics, perf events with packet bytes, and tail calls. Everything is
// inlined into one large function per program, as such datapaths are; the verifier must accept
// every program quickly (tests/unit/verifier/scale_test.cpp).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define DROP_INVALID -134
#define DROP_POLICY -133
#define DROP_NO_SERVICE -158
#define DROP_CT_FULL -155
#define DROP_UNKNOWN_L3 -128
#define DROP_FRAG -160

#define CALL_IPV4_CT 1
#define CALL_IPV6_CT 2
#define CALL_POLICY 3
#define CALL_NAT 4

#define IPV6_MAX_EXT_HEADERS 4
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_DEST 60
#define NEXTHDR_NONE 59

// <linux/icmp.h> pulls in libc headers; the ICMP header is all that is needed.
struct icmphdr {
    __u8 type, code;
    __sum16 checksum;
    __be32 rest;
};
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11

struct vlan_tag {
    __be16 tci;
    __be16 proto;
};

struct ct_key4 {
    __be32 saddr, daddr;
    __be16 sport, dport;
    __u8 nexthdr, flags;
    __u16 pad;
};

struct ct_key6 {
    __u32 saddr[4], daddr[4];
    __be16 sport, dport;
    __u8 nexthdr, flags;
    __u16 pad;
};

struct ct_entry {
    __u64 rx_packets, rx_bytes, tx_packets, tx_bytes;
    __u32 lifetime;
    __u16 rev_nat_index;
    __u8 tx_closing, rx_closing;
    __u32 src_identity;
    __u32 last_seen;
};

struct service_key {
    __be32 address;
    __be16 dport;
    __u16 slot;
    __u8 proto, scope, pad[2];
};

struct service {
    __u32 backend_id;
    __u16 count;
    __u16 rev_nat_index;
    __u8 flags, pad[3];
};

struct backend {
    __be32 address;
    __be16 port;
    __u8 proto, flags;
};

struct ipcache_key {
    __u32 prefixlen;
    __u16 pad;
    __u8 family, pad2;
    __u32 ip[4];
};

struct ipcache_value {
    __u32 identity;
    __be32 tunnel_endpoint;
    __u8 key, flags, pad[2];
};

struct policy_key {
    __u32 identity;
    __be16 dport;
    __u8 protocol, egress;
};

struct policy_value {
    __be16 proxy_port;
    __u8 deny, auth;
    __u64 packets, bytes;
};

struct metrics_key {
    __u8 reason, dir;
    __u16 line;
    __u32 pad;
};

struct metrics_value {
    __u64 count, bytes;
};

struct config {
    __u32 endpoint_id;
    __u32 identity;
    __u32 flags;
    __u32 mtu;
    __be32 router_ip;
    __u8 router_mac[6];
    __u16 pad;
};

struct trace_event {
    __u8 type, subtype;
    __u16 source;
    __u32 hash;
    __u32 len_orig, len_cap;
    __u32 src_label, dst_label;
    __u16 dst_id;
    __u8 reason, flags;
    __u32 ifindex;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct ct_key4);
    __type(value, struct ct_entry);
} ct4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct ct_key6);
    __type(value, struct ct_entry);
} ct6 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct service_key);
    __type(value, struct service);
} services SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, struct backend);
} backends SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16384);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct ipcache_key);
    __type(value, struct ipcache_value);
} ipcache SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, struct policy_key);
    __type(value, struct policy_value);
} policy SEC(".maps");

struct endpoint_policy {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct policy_key);
    __type(value, struct policy_value);
} endpoint_policy_template SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 256);
    __type(key, __u32);
    __array(values, struct endpoint_policy);
} endpoint_policies SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 1024);
    __type(key, struct metrics_key);
    __type(value, struct metrics_value);
} metrics SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct config);
} config_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 8);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct ct_key4);
    __type(value, struct ct_key4);
} snat4_map SEC(".maps");

// Facts about the packet that survive helper calls (which invalidate packet pointers).
struct flow {
    __u32 identity, dst_identity;
    __u32 l3_off, l4_off;
    __u16 sport, dport;
    __u8 proto, ipv6, vlan_depth, frag;
    __u32 len;
    __u32 saddr[4], daddr[4];
};

// Packet pointers read from the context with one load each: clang would otherwise compute
// skb + 76 once and load both fields through it, and verifiers refuse a moved context pointer.
static __always_inline void *ctx_data(struct __sk_buff *skb) {
    void *data;
    asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(data) : "r"(skb), "i"(offsetof(struct __sk_buff, data)));
    return data;
}

static __always_inline void *ctx_data_end(struct __sk_buff *skb) {
    void *end;
    asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(end) : "r"(skb), "i"(offsetof(struct __sk_buff, data_end)));
    return end;
}

static __always_inline struct config *get_config(void) {
    __u32 zero = 0;
    return bpf_map_lookup_elem(&config_map, &zero);
}

static __always_inline void update_metrics(struct __sk_buff *skb, __u8 reason, __u8 dir,
                                           __u16 line) {
    struct metrics_key key = {.reason = reason, .dir = dir, .line = line};
    struct metrics_value *v = bpf_map_lookup_elem(&metrics, &key);
    if (v) {
        v->count += 1;
        v->bytes += skb->len;
    } else {
        struct metrics_value init = {.count = 1, .bytes = skb->len};
        bpf_map_update_elem(&metrics, &key, &init, BPF_ANY);
    }
}

static __always_inline int drop(struct __sk_buff *skb, int reason, __u16 line) {
    update_metrics(skb, (__u8)(-reason), 1, line);
    return TC_ACT_SHOT;
}

static __always_inline void send_trace(struct __sk_buff *skb, struct flow *f, __u8 reason) {
    struct trace_event ev = {};
    __u64 cap = skb->len < 128 ? skb->len : 128;
    ev.type = 4;
    ev.subtype = reason;
    ev.hash = skb->hash;
    ev.len_orig = skb->len;
    ev.len_cap = (__u32)cap;
    ev.src_label = f->identity;
    ev.dst_label = f->dst_identity;
    ev.ifindex = skb->ifindex;
    bpf_perf_event_output(skb, &events, (cap << 32) | BPF_F_CURRENT_CPU, &ev, sizeof(ev));
}

static __always_inline __u32 lookup_identity(__u32 *addr, int ipv6) {
    struct ipcache_key key = {};
    key.prefixlen = ipv6 ? 160 : 64;
    key.family = ipv6 ? 10 : 2;
    key.ip[0] = addr[0];
    if (ipv6) {
        key.ip[1] = addr[1];
        key.ip[2] = addr[2];
        key.ip[3] = addr[3];
    }
    struct ipcache_value *v = bpf_map_lookup_elem(&ipcache, &key);
    if (!v) return 2;  // world
    return v->identity;
}

static __always_inline int policy_check(struct flow *f, __u32 endpoint, int egress) {
    struct policy_key key = {.identity = egress ? f->dst_identity : f->identity,
                             .dport = f->dport,
                             .protocol = f->proto,
                             .egress = (__u8)egress};
    void *per_endpoint = bpf_map_lookup_elem(&endpoint_policies, &endpoint);
    struct policy_value *v = 0;
    if (per_endpoint) {
        v = bpf_map_lookup_elem(per_endpoint, &key);
        if (!v) {
            key.dport = 0;
            v = bpf_map_lookup_elem(per_endpoint, &key);
        }
    }
    if (!v) {
        key.dport = f->dport;
        v = bpf_map_lookup_elem(&policy, &key);
    }
    if (!v) {
        key.dport = 0;
        v = bpf_map_lookup_elem(&policy, &key);
    }
    if (!v) {
        key.identity = 0;
        v = bpf_map_lookup_elem(&policy, &key);
    }
    if (!v) return DROP_POLICY;
    __sync_fetch_and_add(&v->packets, 1);
    __sync_fetch_and_add(&v->bytes, f->len);
    if (v->deny) return DROP_POLICY;
    return v->proxy_port;
}

static __always_inline void ct_update(struct ct_entry *e, __u32 len, int reply,
                                      __u8 tcp_flags) {
    if (reply) {
        __sync_fetch_and_add(&e->rx_packets, 1);
        __sync_fetch_and_add(&e->rx_bytes, len);
        if (tcp_flags & 0x05) e->rx_closing = 1;
    } else {
        __sync_fetch_and_add(&e->tx_packets, 1);
        __sync_fetch_and_add(&e->tx_bytes, len);
        if (tcp_flags & 0x05) e->tx_closing = 1;
    }
    e->lifetime = (__u32)(bpf_ktime_get_ns() >> 30) + (tcp_flags & 0x02 ? 60 : 21600);
}

// Connection tracking for IPv4: forward entry, reply entry, or a new one.
static __always_inline int ct_lookup4(struct flow *f, __u8 tcp_flags, __u16 *rev_nat) {
    struct ct_key4 key = {.saddr = f->saddr[0],
                          .daddr = f->daddr[0],
                          .sport = f->sport,
                          .dport = f->dport,
                          .nexthdr = f->proto};
    struct ct_entry *e = bpf_map_lookup_elem(&ct4, &key);
    if (e) {
        ct_update(e, f->len, 0, tcp_flags);
        *rev_nat = e->rev_nat_index;
        return 1;
    }
    key.saddr = f->daddr[0];
    key.daddr = f->saddr[0];
    key.sport = f->dport;
    key.dport = f->sport;
    key.flags = 1;
    e = bpf_map_lookup_elem(&ct4, &key);
    if (e) {
        ct_update(e, f->len, 1, tcp_flags);
        *rev_nat = e->rev_nat_index;
        return 2;
    }
    if (f->proto == IPPROTO_TCP && !(tcp_flags & 0x02)) return DROP_INVALID;
    struct ct_entry fresh = {};
    fresh.src_identity = f->identity;
    fresh.rev_nat_index = *rev_nat;
    fresh.tx_packets = 1;
    fresh.tx_bytes = f->len;
    fresh.lifetime = (__u32)(bpf_ktime_get_ns() >> 30) + 60;
    key.saddr = f->saddr[0];
    key.daddr = f->daddr[0];
    key.sport = f->sport;
    key.dport = f->dport;
    key.flags = 0;
    if (bpf_map_update_elem(&ct4, &key, &fresh, BPF_NOEXIST) < 0) return DROP_CT_FULL;
    return 0;
}

static __always_inline int ct_lookup6(struct flow *f, __u8 tcp_flags) {
    struct ct_key6 key = {};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        key.saddr[i] = f->saddr[i];
        key.daddr[i] = f->daddr[i];
    }
    key.sport = f->sport;
    key.dport = f->dport;
    key.nexthdr = f->proto;
    struct ct_entry *e = bpf_map_lookup_elem(&ct6, &key);
    if (e) {
        ct_update(e, f->len, 0, tcp_flags);
        return 1;
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        key.saddr[i] = f->daddr[i];
        key.daddr[i] = f->saddr[i];
    }
    key.sport = f->dport;
    key.dport = f->sport;
    key.flags = 1;
    e = bpf_map_lookup_elem(&ct6, &key);
    if (e) {
        ct_update(e, f->len, 1, tcp_flags);
        return 2;
    }
    if (f->proto == IPPROTO_TCP && !(tcp_flags & 0x02)) return DROP_INVALID;
    struct ct_entry fresh = {};
    fresh.src_identity = f->identity;
    fresh.tx_packets = 1;
    fresh.tx_bytes = f->len;
    key.flags = 0;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        key.saddr[i] = f->saddr[i];
        key.daddr[i] = f->daddr[i];
    }
    key.sport = f->sport;
    key.dport = f->dport;
    if (bpf_map_update_elem(&ct6, &key, &fresh, BPF_NOEXIST) < 0) return DROP_CT_FULL;
    return 0;
}

// Service load balancing: pick a backend, rewrite the destination, fix both checksums.
static __always_inline int lb4_dnat(struct __sk_buff *skb, struct flow *f, __u16 *rev_nat) {
    struct service_key key = {.address = f->daddr[0], .dport = f->dport, .proto = f->proto};
    struct service *svc = bpf_map_lookup_elem(&services, &key);
    if (!svc) {
        key.dport = 0;
        svc = bpf_map_lookup_elem(&services, &key);
        if (!svc) return 0;
    }
    __u16 count = svc->count;
    *rev_nat = svc->rev_nat_index;
    if (count == 0) return DROP_NO_SERVICE;
    key.slot = (__u16)(bpf_get_prandom_u32() % count) + 1;
    struct service *slot = bpf_map_lookup_elem(&services, &key);
    if (!slot) return DROP_NO_SERVICE;
    __u32 backend_id = slot->backend_id;
    struct backend *be = bpf_map_lookup_elem(&backends, &backend_id);
    if (!be) return DROP_NO_SERVICE;
    __be32 old_addr = f->daddr[0], new_addr = be->address;
    __be16 old_port = f->dport, new_port = be->port;
    __u32 csum_off = f->proto == IPPROTO_TCP ? offsetof(struct tcphdr, check)
                                              : offsetof(struct udphdr, check);
    if (bpf_skb_store_bytes(skb, f->l3_off + offsetof(struct iphdr, daddr), &new_addr, 4, 0) < 0)
        return DROP_INVALID;
    if (bpf_l3_csum_replace(skb, f->l3_off + offsetof(struct iphdr, check), old_addr, new_addr,
                            4) < 0)
        return DROP_INVALID;
    if (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) {
        if (bpf_l4_csum_replace(skb, f->l4_off + csum_off, old_addr, new_addr,
                                BPF_F_PSEUDO_HDR | 4) < 0)
            return DROP_INVALID;
        if (new_port != old_port) {
            if (bpf_skb_store_bytes(skb, f->l4_off + offsetof(struct tcphdr, dest), &new_port, 2,
                                    0) < 0)
                return DROP_INVALID;
            if (bpf_l4_csum_replace(skb, f->l4_off + csum_off, old_port, new_port, 2) < 0)
                return DROP_INVALID;
        }
    }
    f->daddr[0] = new_addr;
    f->dport = new_port;
    return 1;
}

// Source NAT for traffic leaving the node: remember the mapping, rewrite the source.
static __always_inline int snat4(struct __sk_buff *skb, struct flow *f, struct config *cfg) {
    struct ct_key4 key = {.saddr = f->saddr[0],
                          .daddr = f->daddr[0],
                          .sport = f->sport,
                          .dport = f->dport,
                          .nexthdr = f->proto};
    struct ct_key4 *mapped = bpf_map_lookup_elem(&snat4_map, &key);
    __be32 old_addr = f->saddr[0], new_addr;
    __be16 old_port = f->sport, new_port;
    if (mapped) {
        new_addr = mapped->saddr;
        new_port = mapped->sport;
    } else {
        struct ct_key4 fresh = key;
        fresh.saddr = cfg->router_ip;
        fresh.sport = bpf_htons(32768 + (bpf_get_prandom_u32() & 0x3fff));
        if (bpf_map_update_elem(&snat4_map, &key, &fresh, BPF_ANY) < 0) return DROP_CT_FULL;
        new_addr = fresh.saddr;
        new_port = fresh.sport;
    }
    if (bpf_skb_store_bytes(skb, f->l3_off + offsetof(struct iphdr, saddr), &new_addr, 4, 0) < 0)
        return DROP_INVALID;
    if (bpf_l3_csum_replace(skb, f->l3_off + offsetof(struct iphdr, check), old_addr, new_addr,
                            4) < 0)
        return DROP_INVALID;
    if (f->proto == IPPROTO_TCP) {
        bpf_l4_csum_replace(skb, f->l4_off + offsetof(struct tcphdr, check), old_addr, new_addr,
                            BPF_F_PSEUDO_HDR | 4);
        bpf_skb_store_bytes(skb, f->l4_off + offsetof(struct tcphdr, source), &new_port, 2, 0);
        bpf_l4_csum_replace(skb, f->l4_off + offsetof(struct tcphdr, check), old_port, new_port,
                            2);
    } else if (f->proto == IPPROTO_UDP) {
        bpf_l4_csum_replace(skb, f->l4_off + offsetof(struct udphdr, check), old_addr, new_addr,
                            BPF_F_PSEUDO_HDR | 4);
        bpf_skb_store_bytes(skb, f->l4_off + offsetof(struct udphdr, source), &new_port, 2, 0);
        bpf_l4_csum_replace(skb, f->l4_off + offsetof(struct udphdr, check), old_port, new_port,
                            2);
    }
    f->saddr[0] = new_addr;
    f->sport = new_port;
    return 0;
}

// Payload filters: each rule matches a protocol, a port range and 4 payload bytes at an offset
// it gives (deep packet inspection at a variable, bounded offset).
struct filter_rule {
    __u32 offset;
    __u8 proto, enabled, from_l3, pad;
    __u32 value, mask;
    __u16 port_lo, port_hi;
    __s32 action;
};

#ifndef FILTER_RULES
#define FILTER_RULES 64
#endif

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4 * FILTER_RULES);
    __type(key, __u32);
    __type(value, struct filter_rule);
} filter_rules SEC(".maps");

static __always_inline int apply_filters(struct __sk_buff *skb, struct flow *f, __u32 base) {
#pragma unroll
    for (__u32 i = 0; i < FILTER_RULES; i++) {
        __u32 k = base + i;
        struct filter_rule *r = bpf_map_lookup_elem(&filter_rules, &k);
        if (!r || !r->enabled) continue;
        if (r->proto && r->proto != f->proto) continue;
        __u16 port = bpf_ntohs(f->dport);
        if (port < r->port_lo || port > r->port_hi) continue;
        void *data = ctx_data(skb);
        void *data_end = ctx_data_end(skb);
        __u32 off = (r->from_l3 ? f->l3_off : f->l4_off) + (r->offset & 0x1ff);
        if (off > 1024) continue;
        __u8 *p = data + off;
        if ((void *)(p + 4) > data_end) continue;
        __u32 v = p[0] | (p[1] << 8) | (p[2] << 16) | ((__u32)p[3] << 24);
        if ((v & r->mask) == r->value) return r->action;
    }
    return 0;
}

// Encapsulation towards another node: the tunnel key from the identity cache.
static __always_inline int encap(struct __sk_buff *skb, struct flow *f) {
    struct ipcache_key key = {.prefixlen = 64, .family = 2};
    key.ip[0] = f->daddr[0];
    struct ipcache_value *v = bpf_map_lookup_elem(&ipcache, &key);
    if (!v || !v->tunnel_endpoint) return 0;
    struct bpf_tunnel_key tkey = {};
    tkey.remote_ipv4 = bpf_ntohl(v->tunnel_endpoint);
    tkey.tunnel_id = f->identity;
    tkey.tunnel_ttl = 64;
    if (bpf_skb_set_tunnel_key(skb, &tkey, sizeof(tkey), BPF_F_ZERO_CSUM_TX) < 0)
        return DROP_INVALID;
    return 1;
}

// Layer 4 ports and TCP flags, read directly from the packet at a variable offset.
static __always_inline int parse_l4(struct __sk_buff *skb, struct flow *f, __u8 *tcp_flags) {
    void *data = ctx_data(skb);
    void *data_end = ctx_data_end(skb);
    __u32 off = f->l4_off;
    if (off > 256) return DROP_INVALID;
    if (f->proto == IPPROTO_TCP) {
        struct tcphdr *tcp = data + off;
        if ((void *)(tcp + 1) > data_end) return DROP_INVALID;
        f->sport = tcp->source;
        f->dport = tcp->dest;
        *tcp_flags = ((__u8 *)tcp)[13];
        if (tcp->doff < 5) return DROP_INVALID;
    } else if (f->proto == IPPROTO_UDP) {
        struct udphdr *udp = data + off;
        if ((void *)(udp + 1) > data_end) return DROP_INVALID;
        f->sport = udp->source;
        f->dport = udp->dest;
        if (bpf_ntohs(udp->len) < sizeof(*udp)) return DROP_INVALID;
    } else if (f->proto == IPPROTO_ICMP) {
        struct icmphdr *icmp = data + off;
        if ((void *)(icmp + 1) > data_end) return DROP_INVALID;
        f->sport = 0;
        f->dport = icmp->type;
        if (icmp->type == ICMP_DEST_UNREACH || icmp->type == ICMP_TIME_EXCEEDED) {
            // The quoted header of an ICMP error: its ports identify the flow.
            struct iphdr *inner = (void *)(icmp + 1);
            if ((void *)(inner + 1) > data_end) return DROP_INVALID;
            __u32 inner_len = inner->ihl * 4;
            if (inner_len < sizeof(*inner)) return DROP_INVALID;
            __u16 *ports = (void *)inner + inner_len;
            if ((void *)(ports + 2) > data_end) return DROP_INVALID;
            f->sport = ports[1];
            f->dport = ports[0];
        }
    } else if (f->proto == IPPROTO_ICMPV6) {
        struct icmp6hdr *icmp6 = data + off;
        if ((void *)(icmp6 + 1) > data_end) return DROP_INVALID;
        f->dport = icmp6->icmp6_type;
        f->sport = icmp6->icmp6_code;
    } else {
        f->sport = f->dport = 0;
    }
    return 0;
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, struct flow *f) {
    void *data = ctx_data(skb);
    void *data_end = ctx_data_end(skb);
    __u32 l3 = f->l3_off;
    if (l3 > 64) return DROP_INVALID;
    struct iphdr *ip = data + l3;
    if ((void *)(ip + 1) > data_end) return DROP_INVALID;
    __u32 hlen = ip->ihl * 4;
    if (hlen < sizeof(*ip)) return DROP_INVALID;
    if ((void *)ip + hlen > data_end) return DROP_INVALID;
    if (ip->frag_off & bpf_htons(0x1fff)) f->frag = 1;
    f->proto = ip->protocol;
    f->saddr[0] = ip->saddr;
    f->daddr[0] = ip->daddr;
    f->l4_off = l3 + hlen;
    f->len = bpf_ntohs(ip->tot_len);
    // Options: walk them to find a router alert (bounded: at most 10 words of options).
    __u8 *opt = (void *)(ip + 1);
#pragma unroll
    for (int i = 0; i < 10; i++) {
        if ((void *)(opt + 2) > data_end || (void *)opt >= (void *)ip + hlen) break;
        if (opt[0] == 0) break;
        if (opt[0] == 1) {
            opt += 1;
            continue;
        }
        if (opt[0] == 148) f->frag |= 2;
        if (opt[1] < 2) return DROP_INVALID;
        opt += opt[1] & 0x3f;
    }
    return 0;
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, struct flow *f) {
    void *data = ctx_data(skb);
    void *data_end = ctx_data_end(skb);
    __u32 l3 = f->l3_off;
    if (l3 > 64) return DROP_INVALID;
    struct ipv6hdr *ip6 = data + l3;
    if ((void *)(ip6 + 1) > data_end) return DROP_INVALID;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        f->saddr[i] = ip6->saddr.in6_u.u6_addr32[i];
        f->daddr[i] = ip6->daddr.in6_u.u6_addr32[i];
    }
    f->len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
    __u8 nh = ip6->nexthdr;
    __u32 off = l3 + sizeof(*ip6);
    // Extension headers, as many as the datapath allows.
#pragma unroll
    for (int i = 0; i < IPV6_MAX_EXT_HEADERS; i++) {
        if (nh != NEXTHDR_HOP && nh != NEXTHDR_ROUTING && nh != NEXTHDR_DEST &&
            nh != NEXTHDR_FRAGMENT && nh != NEXTHDR_AUTH)
            break;
        if (nh == NEXTHDR_NONE) return DROP_INVALID;
        __u8 ext[2];
        if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)) < 0) return DROP_INVALID;
        if (nh == NEXTHDR_FRAGMENT) {
            f->frag = 1;
            off += 8;
        } else if (nh == NEXTHDR_AUTH) {
            off += (ext[1] + 2) * 4;
        } else {
            off += (ext[1] + 1) * 8;
        }
        nh = ext[0];
    }
    f->proto = nh;
    f->l4_off = off;
    f->ipv6 = 1;
    return 0;
}

// Ethernet and up to two VLAN tags: returns the ethertype, with f->l3_off set.
static __always_inline int parse_l2(struct __sk_buff *skb, struct flow *f) {
    void *data = ctx_data(skb);
    void *data_end = ctx_data_end(skb);
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end) return DROP_INVALID;
    __be16 proto = eth->h_proto;
    __u32 off = sizeof(*eth);
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD)) break;
        struct vlan_tag *tag = data + off;
        if ((void *)(tag + 1) > data_end) return DROP_INVALID;
        proto = tag->proto;
        off += sizeof(*tag);
        f->vlan_depth++;
    }
    f->l3_off = off;
    return proto;
}

static __always_inline int handle_ipv4(struct __sk_buff *skb, struct flow *f,
                                       struct config *cfg) {
    int ret = parse_ipv4(skb, f);
    if (ret < 0) return drop(skb, ret, __LINE__);
    if (f->frag & 1) return drop(skb, DROP_FRAG, __LINE__);
    __u8 tcp_flags = 0;
    ret = parse_l4(skb, f, &tcp_flags);
    if (ret < 0) return drop(skb, ret, __LINE__);
    f->identity = cfg->identity;
    __u16 rev_nat = 0;
    ret = lb4_dnat(skb, f, &rev_nat);
    if (ret < 0) return drop(skb, ret, __LINE__);
    f->dst_identity = lookup_identity(f->daddr, 0);
    ret = ct_lookup4(f, tcp_flags, &rev_nat);
    if (ret < 0) return drop(skb, ret, __LINE__);
    if (ret == 0) {
        int verdict = policy_check(f, cfg->endpoint_id, 1);
        if (verdict < 0) {
            send_trace(skb, f, 1);
            return drop(skb, verdict, __LINE__);
        }
        if (verdict > 0) {
            skb->mark = 0x200 | ((__u32)verdict << 16);
            send_trace(skb, f, 2);
            return TC_ACT_OK;
        }
    }
    if (f->dst_identity == 2 && (cfg->flags & 1)) {
        ret = snat4(skb, f, cfg);
        if (ret < 0) return drop(skb, ret, __LINE__);
    }
    // Re-read the packet after the helpers above may have changed it: decrement the TTL.
    void *data = ctx_data(skb);
    void *data_end = ctx_data_end(skb);
    __u32 l3 = f->l3_off;
    if (l3 > 64) return drop(skb, DROP_INVALID, __LINE__);
    struct iphdr *ip = data + l3;
    if ((void *)(ip + 1) > data_end) return drop(skb, DROP_INVALID, __LINE__);
    if (ip->ttl <= 1) return drop(skb, DROP_INVALID, __LINE__);
    __u16 old = *(__u16 *)&ip->ttl;
    ip->ttl--;
    bpf_l3_csum_replace(skb, l3 + offsetof(struct iphdr, check), old, *(__u16 *)&ip->ttl, 2);
    update_metrics(skb, 0, 1, __LINE__);
    send_trace(skb, f, 0);
    bpf_tail_call(skb, &calls, CALL_IPV4_CT);
    return TC_ACT_OK;
}

static __always_inline int handle_ipv6(struct __sk_buff *skb, struct flow *f,
                                       struct config *cfg) {
    int ret = parse_ipv6(skb, f);
    if (ret < 0) return drop(skb, ret, __LINE__);
    __u8 tcp_flags = 0;
    ret = parse_l4(skb, f, &tcp_flags);
    if (ret < 0) return drop(skb, ret, __LINE__);
    f->identity = cfg->identity;
    f->dst_identity = lookup_identity(f->daddr, 1);
    ret = ct_lookup6(f, tcp_flags);
    if (ret < 0) return drop(skb, ret, __LINE__);
    if (ret == 0) {
        int verdict = policy_check(f, cfg->endpoint_id, 1);
        if (verdict < 0) {
            send_trace(skb, f, 1);
            return drop(skb, verdict, __LINE__);
        }
    }
    if (f->proto == IPPROTO_ICMPV6 && f->dport == 135) {
        // Neighbour solicitation for the router: answer it in place.
        void *data = ctx_data(skb);
        void *data_end = ctx_data_end(skb);
        __u32 l4 = f->l4_off;
        if (l4 > 256) return drop(skb, DROP_INVALID, __LINE__);
        __u8 *icmp = data + l4;
        if ((void *)(icmp + 24) > data_end) return drop(skb, DROP_INVALID, __LINE__);
        icmp[0] = 136;
        struct ethhdr *eth = data;
        if ((void *)(eth + 1) > data_end) return drop(skb, DROP_INVALID, __LINE__);
        __builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
        __builtin_memcpy(eth->h_source, cfg->router_mac, ETH_ALEN);
        return bpf_redirect(skb->ifindex, 0);
    }
    update_metrics(skb, 0, 1, __LINE__);
    send_trace(skb, f, 0);
    bpf_tail_call(skb, &calls, CALL_IPV6_CT);
    return TC_ACT_OK;
}

SEC("tc")
int from_container(struct __sk_buff *skb) {
    struct config *cfg = get_config();
    if (!cfg) return TC_ACT_OK;
    struct flow f = {};
    int proto = parse_l2(skb, &f);
    if (proto < 0) return drop(skb, proto, __LINE__);
    if (f.vlan_depth > 1 && !(cfg->flags & 2)) return drop(skb, DROP_INVALID, __LINE__);
    switch (proto) {
        case bpf_htons(ETH_P_IP): return handle_ipv4(skb, &f, cfg);
        case bpf_htons(ETH_P_IPV6): return handle_ipv6(skb, &f, cfg);
        case bpf_htons(ETH_P_ARP): return TC_ACT_OK;
        default: return drop(skb, DROP_UNKNOWN_L3, __LINE__);
    }
}

// The reverse direction: reply traffic to the container, with reverse NAT from the CT entry.
SEC("tc")
int to_container(struct __sk_buff *skb) {
    struct config *cfg = get_config();
    if (!cfg) return TC_ACT_OK;
    struct flow f = {};
    int proto = parse_l2(skb, &f);
    if (proto < 0) return drop(skb, proto, __LINE__);
    if (proto == bpf_htons(ETH_P_IP)) {
        int ret = parse_ipv4(skb, &f);
        if (ret < 0) return drop(skb, ret, __LINE__);
        __u8 tcp_flags = 0;
        ret = parse_l4(skb, &f, &tcp_flags);
        if (ret < 0) return drop(skb, ret, __LINE__);
        f.identity = lookup_identity(f.saddr, 0);
        f.dst_identity = cfg->identity;
        __u16 rev_nat = 0;
        ret = ct_lookup4(&f, tcp_flags, &rev_nat);
        if (ret < 0) return drop(skb, ret, __LINE__);
        if (ret == 0) {
            int verdict = policy_check(&f, cfg->endpoint_id, 0);
            if (verdict < 0) return drop(skb, verdict, __LINE__);
        }
        if (rev_nat != 0) {
            __u32 backend_id = rev_nat;
            struct backend *be = bpf_map_lookup_elem(&backends, &backend_id);
            if (be) {
                __be32 old = f.saddr[0], addr = be->address;
                bpf_skb_store_bytes(skb, f.l3_off + offsetof(struct iphdr, saddr), &addr, 4, 0);
                bpf_l3_csum_replace(skb, f.l3_off + offsetof(struct iphdr, check), old, addr, 4);
            }
        }
        send_trace(skb, &f, 3);
        return TC_ACT_OK;
    }
    if (proto == bpf_htons(ETH_P_IPV6)) {
        int ret = parse_ipv6(skb, &f);
        if (ret < 0) return drop(skb, ret, __LINE__);
        __u8 tcp_flags = 0;
        ret = parse_l4(skb, &f, &tcp_flags);
        if (ret < 0) return drop(skb, ret, __LINE__);
        f.identity = lookup_identity(f.saddr, 1);
        ret = ct_lookup6(&f, tcp_flags);
        if (ret < 0) return drop(skb, ret, __LINE__);
        if (ret == 0) {
            int verdict = policy_check(&f, cfg->endpoint_id, 0);
            if (verdict < 0) return drop(skb, verdict, __LINE__);
        }
        send_trace(skb, &f, 3);
        return TC_ACT_OK;
    }
    return TC_ACT_OK;
}

// Everything a host interface sees, in one program: both families, both directions, service
// translation, source NAT, payload filters and encapsulation.
SEC("tc")
int from_netdev(struct __sk_buff *skb) {
    struct config *cfg = get_config();
    if (!cfg) return TC_ACT_OK;
    struct flow f = {};
    int proto = parse_l2(skb, &f);
    if (proto < 0) return drop(skb, proto, __LINE__);
    int ingress = skb->ingress_ifindex != 0;
    if (proto == bpf_htons(ETH_P_IP)) {
        int ret = parse_ipv4(skb, &f);
        if (ret < 0) return drop(skb, ret, __LINE__);
        __u8 tcp_flags = 0;
        ret = parse_l4(skb, &f, &tcp_flags);
        if (ret < 0) return drop(skb, ret, __LINE__);
        int action = apply_filters(skb, &f, ingress ? 0 : FILTER_RULES);
        if (action < 0) return drop(skb, action, __LINE__);
        if (ingress) {
            f.identity = lookup_identity(f.saddr, 0);
            f.dst_identity = cfg->identity;
            __u16 rev_nat = 0;
            ret = ct_lookup4(&f, tcp_flags, &rev_nat);
            if (ret < 0) return drop(skb, ret, __LINE__);
            if (ret == 0) {
                int verdict = policy_check(&f, cfg->endpoint_id, 0);
                if (verdict < 0) return drop(skb, verdict, __LINE__);
            }
            send_trace(skb, &f, 5);
            return TC_ACT_OK;
        }
        f.identity = cfg->identity;
        __u16 rev_nat = 0;
        ret = lb4_dnat(skb, &f, &rev_nat);
        if (ret < 0) return drop(skb, ret, __LINE__);
        f.dst_identity = lookup_identity(f.daddr, 0);
        ret = ct_lookup4(&f, tcp_flags, &rev_nat);
        if (ret < 0) return drop(skb, ret, __LINE__);
        if (ret == 0) {
            int verdict = policy_check(&f, cfg->endpoint_id, 1);
            if (verdict < 0) return drop(skb, verdict, __LINE__);
        }
        if (f.dst_identity == 2) {
            ret = snat4(skb, &f, cfg);
            if (ret < 0) return drop(skb, ret, __LINE__);
        } else {
            ret = encap(skb, &f);
            if (ret < 0) return drop(skb, ret, __LINE__);
            if (ret > 0) return bpf_redirect(cfg->flags >> 8, 0);
        }
        send_trace(skb, &f, 6);
        return TC_ACT_OK;
    }
    if (proto == bpf_htons(ETH_P_IPV6)) {
        int ret = parse_ipv6(skb, &f);
        if (ret < 0) return drop(skb, ret, __LINE__);
        __u8 tcp_flags = 0;
        ret = parse_l4(skb, &f, &tcp_flags);
        if (ret < 0) return drop(skb, ret, __LINE__);
        int action = apply_filters(skb, &f, ingress ? 2 * FILTER_RULES : 3 * FILTER_RULES);
        if (action < 0) return drop(skb, action, __LINE__);
        f.identity = ingress ? lookup_identity(f.saddr, 1) : cfg->identity;
        f.dst_identity = ingress ? cfg->identity : lookup_identity(f.daddr, 1);
        ret = ct_lookup6(&f, tcp_flags);
        if (ret < 0) return drop(skb, ret, __LINE__);
        if (ret == 0) {
            int verdict = policy_check(&f, cfg->endpoint_id, !ingress);
            if (verdict < 0) return drop(skb, verdict, __LINE__);
        }
        send_trace(skb, &f, 7);
        return TC_ACT_OK;
    }
    return TC_ACT_OK;
}

// Tail-call targets: policy enforcement and accounting stages.
SEC("tc")
int ipv4_ct_stage(struct __sk_buff *skb) {
    struct config *cfg = get_config();
    if (!cfg) return TC_ACT_OK;
    struct flow f = {};
    if (parse_l2(skb, &f) != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
    if (parse_ipv4(skb, &f) < 0) return drop(skb, DROP_INVALID, __LINE__);
    __u8 tcp_flags = 0;
    if (parse_l4(skb, &f, &tcp_flags) < 0) return drop(skb, DROP_INVALID, __LINE__);
    f.identity = cfg->identity;
    f.dst_identity = lookup_identity(f.daddr, 0);
    int verdict = policy_check(&f, cfg->endpoint_id, 1);
    if (verdict < 0) return drop(skb, verdict, __LINE__);
    bpf_tail_call(skb, &calls, CALL_NAT);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
