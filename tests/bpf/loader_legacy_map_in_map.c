// Loader test: the 28-byte legacy map records of samples/bpf, whose sixth field names the
// inner map of a map-in-map by index.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def_with_inner {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
    unsigned int inner_map_idx;
    unsigned int numa_node;
};

struct bpf_map_def_with_inner SEC("maps") inner = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = 4,
    .value_size = 8,
    .max_entries = 2,
};

struct bpf_map_def_with_inner SEC("maps") outer = {
    .type = BPF_MAP_TYPE_ARRAY_OF_MAPS,
    .key_size = 4,
    .value_size = 4,
    .max_entries = 4,
    .inner_map_idx = 0,
};

SEC("kprobe/sys_write")
int lookup_nested(void *ctx) {
    __u32 key = 0;
    void *map = bpf_map_lookup_elem(&outer, &key);
    if (!map) return 0;
    __u64 *value = bpf_map_lookup_elem(map, &key);
    return value ? (int)*value : 0;
}

char _license[] SEC("license") = "GPL";
