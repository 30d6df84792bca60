// Verifier scale test: bounded loops of the kinds real programs write, kept as loops by the
// compiler (no unrolling): a checksum over packet bytes bounded by data_end and a maximum, a
// stack array filled and summed by index, nested loops, a hash table walk with break, bpf_loop
// with a callback that reads a map, bpf_for_each_map_elem, global (non-inlined) functions
// called from several places, and one loop the compiler does unroll 8 times with a map lookup
// and its NULL check in every step. Every program must be accepted (scale_test.cpp).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NO_UNROLL _Pragma("clang loop unroll(disable)")

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} table SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} inner0 SEC(".maps"), inner1 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps") = {.values = {[0] = &inner0, [1] = &inner1}};

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} jump SEC(".maps");

// A checksum of up to 1500 payload bytes, one byte per iteration, bounded by data_end.
SEC("xdp")
int packet_sum(struct xdp_md *ctx) {
    __u8 *data = (void *)(long)ctx->data;
    __u8 *end = (void *)(long)ctx->data_end;
    __u32 sum = 0;
    NO_UNROLL
    for (int i = 0; i < 1500; i++) {
        if (data + i + 1 > end) break;
        sum += data[i];
    }
    __u32 key = sum & 255;
    __u64 *v = bpf_map_lookup_elem(&table, &key);
    if (v) *v += 1;
    return sum & 1 ? XDP_PASS : XDP_DROP;
}

// A histogram on the stack, filled by index from the packet and summed back.
SEC("xdp")
int stack_histogram(struct xdp_md *ctx) {
    __u8 *data = (void *)(long)ctx->data;
    __u8 *end = (void *)(long)ctx->data_end;
    __u32 hist[32] = {};
    NO_UNROLL
    for (int i = 0; i < 256; i++) {
        if (data + i + 1 > end) break;
        hist[data[i] & 31] += 1;
    }
    __u64 total = 0;
    NO_UNROLL
    for (int i = 0; i < 32; i++)
        total += hist[i] * i;
    __u32 key = 1;
    bpf_map_update_elem(&counts, &key, &total, BPF_ANY);
    return XDP_PASS;
}

// Nested loops over a small matrix kept in an array map.
SEC("xdp")
int nested(struct xdp_md *ctx) {
    __u64 acc = 0;
    NO_UNROLL
    for (__u32 row = 0; row < 8; row++) {
        NO_UNROLL
        for (__u32 col = 0; col < 8; col++) {
            __u32 key = row * 8 + col;
            __u64 *v = bpf_map_lookup_elem(&table, &key);
            if (!v) continue;
            if (*v > 1000) break;
            acc += *v * (row + 1);
        }
    }
    return acc & 1 ? XDP_PASS : XDP_DROP;
}

// Open addressing in a hash map: probe successive keys until a hole.
SEC("xdp")
int probe_chain(struct xdp_md *ctx) {
    __u32 key = ctx->rx_queue_index * 31;
    __u64 found = 0;
    NO_UNROLL
    for (int i = 0; i < 64; i++) {
        __u64 *v = bpf_map_lookup_elem(&counts, &key);
        if (!v) break;
        found += *v;
        key = (key * 1103515245 + 12345) & 1023;
    }
    __u32 out = 2;
    bpf_map_update_elem(&counts, &out, &found, BPF_ANY);
    return XDP_PASS;
}

struct loop_ctx {
    __u64 total;
};

static long sum_entry(__u32 index, void *data) {
    struct loop_ctx *c = data;
    __u32 key = index & 255;
    __u64 *v = bpf_map_lookup_elem(&table, &key);
    if (!v) return 1;
    c->total += *v;
    return 0;
}

static long count_entry(void *map, __u32 *key, __u64 *value, void *data) {
    struct loop_ctx *c = data;
    c->total += *value + *key;
    return 0;
}

// bpf_loop and bpf_for_each_map_elem with callbacks that update a context on the stack.
SEC("xdp")
int helper_loops(struct xdp_md *ctx) {
    struct loop_ctx c = {};
    bpf_loop(1000, sum_entry, &c, 0);
    bpf_for_each_map_elem(&counts, count_entry, &c, 0);
    __u32 key = 3;
    bpf_map_update_elem(&counts, &key, &c.total, BPF_ANY);
    return c.total > 10 ? XDP_PASS : XDP_DROP;
}

// Global functions: verified once on their own, called from several places.
__attribute__((noinline)) int bucket_of(__u32 value) {
    int bucket = 0;
    NO_UNROLL
    for (int i = 0; i < 32; i++) {
        if (value >> i) bucket = i;
    }
    return bucket;
}

__attribute__((noinline)) int account(__u32 *slot, __u64 amount) {
    if (!slot) return -1;
    __u32 key = *slot & 255;
    __u64 *v = bpf_map_lookup_elem(&table, &key);
    if (!v) return -1;
    __sync_fetch_and_add(v, amount);
    void *m = bpf_map_lookup_elem(&outer, &key);
    if (m) {
        __u32 k = key & 15;
        __u64 *iv = bpf_map_lookup_elem(m, &k);
        if (iv) *iv += 1;
    }
    return 0;
}

SEC("xdp")
int global_calls(struct xdp_md *ctx) {
    __u32 len = ctx->data_end - ctx->data;
    __u32 slot = bucket_of(len);
    account(&slot, len);
    slot = bucket_of(ctx->ingress_ifindex);
    account(&slot, 1);
    slot = bucket_of(ctx->rx_queue_index) + 32;
    account(&slot, 1);
    bpf_tail_call(ctx, &jump, slot & 3);
    return XDP_PASS;
}

// 256 steps unrolled 8 times, a map lookup and its NULL check in each (the shape of the map
// benchmark's programs): paths meet after every check inside the loop body, where states of
// earlier iterations are stored too; joining with those would blur the counter (kept in a
// 32-bit stack slot) and make the loop look endless.
SEC("xdp")
int unrolled_lookups(struct xdp_md *ctx) {
    __u32 state = bpf_get_prandom_u32() | 1;
    __u64 sum = 0;
    _Pragma("clang loop unroll_count(8)")
    for (int i = 0; i < 256; i++) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        __u32 key = state & 255;
        __u64 *value = bpf_map_lookup_elem(&table, &key);
        if (value) sum += *value;
    }
    return sum & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
