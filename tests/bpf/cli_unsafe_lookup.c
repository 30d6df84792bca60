// A program the verifier must reject: it writes through a map lookup's result without checking
// it for NULL. The command-line tests use it for the "verification failed" exit path.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 16);
} counters SEC(".maps");

SEC("xdp")
int count_without_check(struct xdp_md *ctx) {
    __u32 key = ctx->ingress_ifindex;
    __u64 *value = bpf_map_lookup_elem(&counters, &key);
    *value += 1;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
