// Loader test: legacy map definitions (struct bpf_map_def in a `maps` section), as objects
// written for loaders before BTF-defined maps declare them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct bpf_map_def SEC("maps") packets = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 256,
};

struct bpf_map_def SEC("maps") sessions = {
    .type = BPF_MAP_TYPE_LRU_HASH,
    .key_size = 8,
    .value_size = 16,
    .max_entries = 4096,
    .map_flags = BPF_F_NO_COMMON_LRU,
};

SEC("socket1")
int count_packets(struct __sk_buff *skb) {
    __u32 key = skb->protocol & 0xff;
    __u64 *value = bpf_map_lookup_elem(&packets, &key);
    if (value) __sync_fetch_and_add(value, 1);
    __u64 session = skb->hash;
    if (!bpf_map_lookup_elem(&sessions, &session)) return 0;
    return -1;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x050a00;
