// Baselines for the map benchmarks, with the same loop and key sequence as the map programs:
// `keys` computes MAP_BENCH_OPS keys and sums them (the loop's own cost, no call), `helper`
// calls bpf_get_prandom_u32 once per step (the cost of a helper call that does almost nothing).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "map_bench.h"

SEC("tc")
int keys(struct __sk_buff *ctx) {
    const __u32 mask = key_mask;
    __u32 state = first_state();
    __u64 sum = 0;
    MAP_BENCH_UNROLL
    for (int i = 0; i < MAP_BENCH_OPS; i++) {
        // Through the stack, as the map programs pass their keys.
        volatile __u32 key = next_index(&state, mask);
        sum += key;
    }
    last.sum = sum;
    return 0; // TC_ACT_OK
}

SEC("tc")
int helper(struct __sk_buff *ctx) {
    const __u32 mask = key_mask;
    __u32 state = first_state();
    __u64 sum = 0;
    MAP_BENCH_UNROLL
    for (int i = 0; i < MAP_BENCH_OPS; i++)
        sum += bpf_get_prandom_u32() ^ next_index(&state, mask);
    last.sum = sum;
    return 0; // TC_ACT_OK
}
