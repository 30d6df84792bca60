// Stress test program (tests/unit/stress): many threads run these XDP programs at once against
// the same maps while the host iterates, updates and deletes. The packet carries the request:
// which worker, which iteration, and the pattern to write.
//  - count: atomic add on a shared hash counter, a plain add on a per-CPU counter, and one
//    ring-buffer record naming (worker, iteration) — exact totals prove no update is lost and
//    every record arrives once;
//  - churn: replaces values of the worker's own hash, LRU and per-CPU hash keys with a value
//    whose every word is the pattern (a reader seeing two patterns mixed has seen a torn value),
//    and deletes some.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#define COUNTERS 16
#define CHURN_KEYS 256
#define FIRST_CHURN_KEY 1000
#define WORKERS 16

struct request {
    __u32 worker;
    __u32 iteration;
    __u64 pattern;
};

struct pattern {
    __u64 words[6];
};

struct record {
    __u32 worker;
    __u32 iteration;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u64);
    __type(value, struct pattern);
    __uint(max_entries, COUNTERS + WORKERS * CHURN_KEYS);
} shared_hash SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, __u64);
    __type(value, struct pattern);
    __uint(max_entries, 1024);
} lru SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, COUNTERS);
} percpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __type(key, __u64);
    __type(value, struct pattern);
    __uint(max_entries, WORKERS* CHURN_KEYS);
} percpu_patterns SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline struct request* request_of(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    if (data + sizeof(struct request) > end) return 0;
    return data;
}

SEC("xdp")
int count(struct xdp_md* ctx) {
    struct request* req = request_of(ctx);
    if (!req) return XDP_ABORTED;
    __u64 key = req->iteration % COUNTERS;
    struct pattern* counter = bpf_map_lookup_elem(&shared_hash, &key);
    if (!counter) return XDP_ABORTED;
    __sync_fetch_and_add(&counter->words[0], 1);
    __u32 slot = req->iteration % COUNTERS;
    __u64* mine = bpf_map_lookup_elem(&percpu, &slot);
    if (!mine) return XDP_ABORTED;
    *mine += 1;  // this CPU's slot: no other thread writes it
    struct record rec = {req->worker, req->iteration};
    if (bpf_ringbuf_output(&events, &rec, sizeof rec, 0) != 0) return XDP_DROP;
    return XDP_PASS;
}

SEC("xdp")
int churn(struct xdp_md* ctx) {
    struct request* req = request_of(ctx);
    if (!req) return XDP_ABORTED;
    __u64 key = FIRST_CHURN_KEY + (__u64)req->worker * CHURN_KEYS + req->iteration % CHURN_KEYS;
    struct pattern value;
    for (int i = 0; i < 6; i++)
        value.words[i] = req->pattern;
    if (req->iteration % 4 == 3) {
        bpf_map_delete_elem(&shared_hash, &key);
        bpf_map_delete_elem(&lru, &key);
        bpf_map_delete_elem(&percpu_patterns, &key);
        return XDP_PASS;
    }
    if (bpf_map_update_elem(&shared_hash, &key, &value, BPF_ANY) != 0) return XDP_ABORTED;
    if (bpf_map_update_elem(&lru, &key, &value, BPF_ANY) != 0) return XDP_ABORTED;
    if (bpf_map_update_elem(&percpu_patterns, &key, &value, BPF_ANY) != 0) return XDP_ABORTED;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
