// A map-less XDP program for the bpf() ABI tests (bpftool prog load/run/show/dump): passes
// frames of at least 64 bytes, drops shorter ones.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>  // after linux/bpf.h, which defines its types

SEC("xdp")
int length_filter(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* data_end = (void*)(long)ctx->data_end;
    return data_end - data >= 64 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
