// Loader test: BTF-defined maps using every field libbpf's macros can spell.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow_key {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
};

struct flow_stats {
    __u64 packets;
    __u64 bytes;
    char label[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct flow_key);
    __type(value, struct flow_stats);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
    __uint(numa_node, 0);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, 24);
    __uint(max_entries, 8);
} sized SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __type(value, __u32);
    __uint(max_entries, 100);
    __uint(map_extra, 3);
} bloom SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int count_flows(struct xdp_md *ctx) {
    struct flow_key key = {.saddr = ctx->ingress_ifindex};
    struct flow_stats *stats = bpf_map_lookup_elem(&flows, &key);
    if (stats) stats->packets++;
    __u32 index = 0;
    void *slot = bpf_map_lookup_elem(&sized, &index);
    if (slot) return XDP_DROP;
    __u32 probe = 7;
    if (bpf_map_peek_elem(&bloom, &probe) == 0) return XDP_PASS;
    bpf_ringbuf_output(&events, &key, sizeof(key), 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
