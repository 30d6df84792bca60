// Loader test: subprograms in .text (static and global) appended to the programs that call
// them, a callback passed by address (bpf_loop), and a call within a program section.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int triple(int x) {
    return x * 3;
}

static __attribute__((noinline)) int triple_plus_one(int x) {
    return triple(x) + 1;
}

__attribute__((noinline)) int global_square(int x) {
    return x * x;
}

static int loop_step(__u32 index, void *data) {
    *(int *)data += index;
    return 0;
}

SEC("xdp")
int first(struct xdp_md *ctx) {
    int sum = 0;
    bpf_loop(4, loop_step, &sum, 0);
    return triple_plus_one(ctx->ingress_ifindex) + sum;
}

SEC("xdp")
int second(struct xdp_md *ctx) {
    return triple(ctx->rx_queue_index) + global_square(2);
}

static __attribute__((noinline, section("tc"))) int in_section_helper(int x) {
    return x + 7;
}

SEC("tc")
int third(struct __sk_buff *skb) {
    return in_section_helper(skb->len);
}

char LICENSE[] SEC("license") = "GPL";
