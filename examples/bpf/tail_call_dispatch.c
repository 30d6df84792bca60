// Tail-call dispatcher: the entry program reads the IP protocol and continues in the handler
// for it (a slot of a prog_array indexed by protocol); protocols without a handler pass.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 256);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} handlers SEC(".maps");

SEC("xdp")
int handle_tcp(struct xdp_md *ctx) {
    return XDP_TX;  // e.g. a SYN proxy would answer here
}

SEC("xdp")
int handle_udp(struct xdp_md *ctx) {
    return XDP_DROP;  // e.g. a rate limiter
}

SEC("xdp")
int dispatch(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end) return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end) return XDP_PASS;
    bpf_tail_call(ctx, &handlers, ip->protocol);
    return XDP_PASS;  // no handler for this protocol
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
