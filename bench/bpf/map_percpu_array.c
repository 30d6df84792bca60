// Per-CPU array: lookups and updates of the running CPU's slot.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1024);  // the host sets the benchmark's size before loading
    __type(key, __u32);
    __type(value, __u64);
} m SEC(".maps");

#define MAP_BENCH_KEY __u32
#define map_bench_make_key(key, index) (*(key) = (index))
#define MAP_BENCH_LOOKUP
#define MAP_BENCH_UPDATE
#include "map_bench.h"
