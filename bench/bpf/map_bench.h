// The map benchmark programs (bench/map_from_programs.cpp): each run performs MAP_BENCH_OPS map
// operations on keys from a cheap pseudo-random sequence, so that the cost of one operation is
// the run's duration divided by MAP_BENCH_OPS. The same object serves every map size: the host
// sets max_entries of `m` and `key_mask` (entries - 1, entries a power of two) before loading,
// in xbpf and in Linux alike.
//
// A file includes <linux/bpf.h> and <bpf/bpf_helpers.h>, defines the map `m`, its key type
// MAP_BENCH_KEY and map_bench_make_key(key pointer, index), then includes this header with the
// operations it wants defined (MAP_BENCH_LOOKUP, MAP_BENCH_UPDATE, MAP_BENCH_DELETE_UPDATE).
#pragma once

#define MAP_BENCH_OPS 256

// The loops are unrolled 8 times (32 iterations of 8 operations): it trims the loop's own
// overhead, equally in every engine.
#define MAP_BENCH_UNROLL _Pragma("clang loop unroll_count(8)")

// entries - 1: keys are (sequence & key_mask), all present in a map the host has filled. The
// only variable in .rodata: the host writes it at offset 0.
const volatile __u32 key_mask = 0;

// Written at the end of every run, for the host to check the last run (single-threaded):
// lookups store the sum of the values found and the sum they should have found (the host fills
// the element of index i with i; updates write the same), updates the OR of the helpers'
// return values (0 when every update succeeded). The checks add no branch: a failure counter
// bumped on an error path would multiply the states a verifier explores per iteration.
struct map_bench_result {
    __u64 sum;
    __u64 expected;
    __s64 errors;
};
struct map_bench_result last;  // the only variable in .bss: the host reads it at offset 0

// xorshift32: six ALU instructions per key, full period over non-zero 32-bit states.
static __always_inline __u32 next_index(__u32* state, __u32 mask) {
    __u32 x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x & mask;
}

// One seed per run (one helper call per MAP_BENCH_OPS operations), so that consecutive runs
// visit different keys and a 1M-entry map is not served from a few hot cache lines.
static __always_inline __u32 first_state(void) {
    return bpf_get_prandom_u32() | 1;
}

#ifdef MAP_BENCH_LOOKUP
SEC("tc")
int lookup(struct __sk_buff* ctx) {
    const __u32 mask = key_mask;
    __u32 state = first_state();
    __u64 sum = 0, expected = 0;
    MAP_BENCH_UNROLL
    for (int i = 0; i < MAP_BENCH_OPS; i++) {
        MAP_BENCH_KEY key;
        __u32 index = next_index(&state, mask);
        map_bench_make_key(&key, index);
        __u64* value = bpf_map_lookup_elem(&m, &key);
        if (value) sum += *value;
        expected += index;
    }
    last.sum = sum;
    last.expected = expected;
    return 0;  // TC_ACT_OK
}
#endif

#ifdef MAP_BENCH_UPDATE
SEC("tc")
int update(struct __sk_buff* ctx) {
    const __u32 mask = key_mask;
    __u32 state = first_state();
    __s64 errors = 0;
    MAP_BENCH_UNROLL
    for (int i = 0; i < MAP_BENCH_OPS; i++) {
        MAP_BENCH_KEY key;
        __u32 index = next_index(&state, mask);
        __u64 value = index;
        map_bench_make_key(&key, index);
        errors |= bpf_map_update_elem(&m, &key, &value, BPF_ANY);
    }
    last.errors = errors;
    return 0;  // TC_ACT_OK
}
#endif

#ifdef MAP_BENCH_DELETE_UPDATE
// One delete and one re-insert of the same key per step: the map keeps its size.
SEC("tc")
int delete_update(struct __sk_buff* ctx) {
    const __u32 mask = key_mask;
    __u32 state = first_state();
    __s64 errors = 0;
    MAP_BENCH_UNROLL
    for (int i = 0; i < MAP_BENCH_OPS; i++) {
        MAP_BENCH_KEY key;
        __u32 index = next_index(&state, mask);
        __u64 value = index;
        map_bench_make_key(&key, index);
        errors |= bpf_map_delete_elem(&m, &key);
        errors |= bpf_map_update_elem(&m, &key, &value, BPF_ANY);
    }
    last.errors = errors;
    return 0;  // TC_ACT_OK
}
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";
