// Loader test: CO-RE relocations (field offsets recorded by clang for BPF_CORE_READ), which the
// loader keeps as compiled, against the object's own BTF.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_info {
    int pid;
    int tgid;
    struct task_info *parent;
} __attribute__((preserve_access_index));

SEC("kprobe/wake_up_new_task")
int read_parent_tgid(struct task_info *task) {
    return BPF_CORE_READ(task, parent, tgid);
}

char LICENSE[] SEC("license") = "GPL";
