// The BPF side of the libbpf example: counts packets by length and verdict in maps and global
// variables; drops packets longer than a limit the loader sets in .rodata before loading, and
// reports each drop in a ring buffer.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>  // after linux/bpf.h, which defines its types

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);    // packet length
    __type(value, __u64);  // packets of that length
} packets_by_length SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);    // XDP verdict
    __type(value, __u64);  // packets given it
} verdicts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} drops SEC(".maps");  // one record (the length) per dropped packet

const volatile __u32 drop_longer_than = 1500;  // .rodata: set by the loader
__u64 packets = 0;                             // .bss
__u64 total_bytes = 0;                         // .bss
char last_verdict[8] = "none";                 // .data

SEC("xdp")
int packet_stats(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* data_end = (void*)(long)ctx->data_end;
    __u32 length = data_end - data;
    __u64 one = 1;

    __sync_fetch_and_add(&packets, 1);
    __sync_fetch_and_add(&total_bytes, length);
    __u64* count = bpf_map_lookup_elem(&packets_by_length, &length);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&packets_by_length, &length, &one, BPF_ANY);

    __u32 verdict = length > drop_longer_than ? XDP_DROP : XDP_PASS;
    __u64* given = bpf_map_lookup_elem(&verdicts, &verdict);
    if (given) __sync_fetch_and_add(given, 1);
    if (verdict == XDP_DROP) bpf_ringbuf_output(&drops, &length, sizeof length, 0);
    last_verdict[0] = verdict == XDP_DROP ? 'D' : 'P';
    last_verdict[1] = 0;
    return verdict;
}

char LICENSE[] SEC("license") = "GPL";
