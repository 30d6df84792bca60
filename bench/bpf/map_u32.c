// The benchmark programs for maps keyed by a __u32 index with __u64 values: array, percpu_array,
// hash, percpu_hash and lru_hash. bench/CMakeLists.txt builds this file once per map type as
// map_<type>.o, defining MAP_BENCH_MAP_TYPE and the operations that type supports
// (MAP_BENCH_LOOKUP, MAP_BENCH_UPDATE, MAP_BENCH_DELETE_UPDATE: arrays cannot delete).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, MAP_BENCH_MAP_TYPE);
    __uint(max_entries, 1024);  // the host sets the benchmark's size before loading
    __type(key, __u32);
    __type(value, __u64);
} m SEC(".maps");

#define MAP_BENCH_KEY __u32
#define map_bench_make_key(key, index) (*(key) = (index))
#include "map_bench.h"
