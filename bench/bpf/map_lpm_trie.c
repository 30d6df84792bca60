// LPM trie: lookups of /32 addresses. The host fills the trie with one /32 route per index,
// address = index * 2654435761 (a bijection on 32 bits that spreads the routes over the address
// space), stored in host byte order in both xbpf and Linux, and the program looks up the same
// addresses.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct lpm_v4_key {
    __u32 prefixlen;
    __u32 addr;
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 1024);  // the host sets the benchmark's size before loading
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_v4_key);
    __type(value, __u64);
} m SEC(".maps");

#define MAP_BENCH_KEY struct lpm_v4_key
static __always_inline void map_bench_make_key(struct lpm_v4_key *key, __u32 index) {
    key->prefixlen = 32;
    key->addr = index * 2654435761u;
}
#define MAP_BENCH_LOOKUP
#include "map_bench.h"
