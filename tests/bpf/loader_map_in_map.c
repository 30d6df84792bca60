// Loader test: a map of maps with an __array(values, ...) inner definition and initialiser,
// and a prog array initialised with programs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 3);
    __type(key, __u32);
    __array(values, struct inner_map);
} outer SEC(".maps") = {
    .values = {[0] = &inner_a, [2] = &inner_b},
};

SEC("socket")
int tail_a(struct __sk_buff *skb) {
    return 1;
}

SEC("socket")
int tail_b(struct __sk_buff *skb) {
    return 2;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __uint(key_size, sizeof(__u32));
    __array(values, int(void *));
} jumps SEC(".maps") = {
    .values = {[0] = (void *)&tail_a, [1] = (void *)&tail_b},
};

SEC("socket")
int dispatch(struct __sk_buff *skb) {
    __u32 key = 0;
    void *map = bpf_map_lookup_elem(&outer, &key);
    if (map) {
        __u64 *value = bpf_map_lookup_elem(map, &key);
        if (value) *value += 1;
    }
    bpf_tail_call(skb, &jumps, skb->len & 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
