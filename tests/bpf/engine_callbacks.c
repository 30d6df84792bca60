// Engine test: helpers that call back into the program (bpf_loop, bpf_for_each_map_elem), run
// as syscall programs whose context carries the inputs and receives the results.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct args {
    __u64 n;        // loop count
    __u64 stop_at;  // the index (or key) at which the callback stops; beyond n: never
    __u64 flags;
    __s64 result;  // what the helper returned
    __u64 sum;
    __u64 calls;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} numbers SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} table SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} per_cpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} counter SEC(".maps");

// Lives in the caller's stack; the callbacks write it through their context pointer.
struct state {
    __u64 sum;
    __u64 calls;
    __u64 stop_at;
};

static int add_index(__u32 index, void *data) {
    struct state *st = data;
    st->sum += index;
    st->calls++;
    return index == st->stop_at ? 1 : 0;
}

SEC("syscall")
int loop_sum(struct args *a) {
    struct state st = {0, 0, a->stop_at};
    a->result = bpf_loop(a->n, add_index, &st, a->flags);
    a->sum = st.sum;
    a->calls = st.calls;
    return 0;
}

// Nested: each outer step runs an inner bpf_loop of `index` steps, and every inner step also
// counts in a map value (a helper called from a callback of a callback).
static int count_in_map(__u32 index, void *data) {
    struct state *st = data;
    __u32 key = 0;
    __u64 *c = bpf_map_lookup_elem(&counter, &key);
    if (c) __sync_fetch_and_add(c, 1);
    st->sum += index;
    return 0;
}

static int outer_step(__u32 index, void *data) {
    struct state *st = data;
    st->calls += bpf_loop(index, count_in_map, st, 0);
    return 0;
}

SEC("syscall")
int nested_loops(struct args *a) {
    struct state st = {0, 0, 0};
    a->result = bpf_loop(a->n, outer_step, &st, 0);
    a->sum = st.sum;
    a->calls = st.calls;
    return 0;
}

static long add_value(void *map, __u32 *key, __u64 *value, struct state *st) {
    st->sum += *value;
    st->calls++;
    return *key == st->stop_at ? 1 : 0;
}

// One program per map: bpf_for_each_map_elem needs the map as a constant.
#define SUM_MAP(name, map)                                                      \
    SEC("syscall")                                                              \
    int name(struct args *a) {                                                  \
        struct state st = {0, 0, a->stop_at};                                   \
        a->result = bpf_for_each_map_elem(&map, add_value, &st, a->flags);      \
        a->sum = st.sum;                                                        \
        a->calls = st.calls;                                                    \
        return 0;                                                               \
    }

SUM_MAP(sum_array, numbers)
SUM_MAP(sum_hash, table)
SUM_MAP(sum_per_cpu, per_cpu)

static long double_value(void *map, __u32 *key, __u64 *value, void *unused) {
    *value *= 2;
    return 0;
}

SEC("syscall")
int double_array(struct args *a) {
    a->result = bpf_for_each_map_elem(&numbers, double_value, 0, 0);
    return 0;
}

static long double_and_delete_odd(void *map, __u32 *key, __u64 *value, void *unused) {
    *value *= 2;
    if (*key & 1) bpf_map_delete_elem(map, key);
    return 0;
}

SEC("syscall")
int double_hash(struct args *a) {
    a->result = bpf_for_each_map_elem(&table, double_and_delete_odd, 0, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
