// Global variables and a bpf-to-bpf call: counts packets and bytes in .bss globals, reads a
// threshold from .rodata (the host may set it before loading) and classifies each packet in a
// separate (not inlined) function.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 large_packet = 1000;
__u64 packets;
__u64 bytes;
__u64 large_packets;

static __attribute__((noinline)) int classify(__u64 len) {
    if (len >= large_packet) {
        large_packets++;
        return 1;
    }
    return 0;
}

SEC("xdp")
int count_globally(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u64 len = data_end - data;
    packets++;
    bytes += len;
    return classify(len) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
