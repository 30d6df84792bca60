// Verifier scale test: a system-call tracer in the style of Falco's kernel probe, written for
// this project. A raw tracepoint on sys_enter/sys_exit tail-calls one filler per system call;
// fillers read the arguments from the saved registers and user memory with probe reads and
// append them to an event in a per-CPU scratch buffer at a growing, masked offset (strings,
// argument vectors in bounded loops, socket addresses), then send the event to a ring buffer.
// The verifier must accept every program quickly (tests/unit/verifier/scale_test.cpp).
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

#define SCRATCH_SIZE (16 * 1024)
#define SCRATCH_HALF (SCRATCH_SIZE / 2 - 1)  // offsets are masked with this
#define MAX_PARAMS 16
#define MAX_ARGV 20
#define MAX_PATH 4096
#define MAX_SYSCALLS 512

enum syscall_ids {
    SYS_READ = 0,
    SYS_WRITE = 1,
    SYS_OPEN = 2,
    SYS_CLOSE = 3,
    SYS_SOCKET = 41,
    SYS_CONNECT = 42,
    SYS_ACCEPT = 43,
    SYS_SENDTO = 44,
    SYS_RECVFROM = 45,
    SYS_CLONE = 56,
    SYS_EXECVE = 59,
    SYS_OPENAT = 257,
};

struct event_header {
    __u64 ts;
    __u64 tid;
    __u32 len;
    __u16 type;
    __u32 nparams;
} __attribute__((packed));

struct scratch {
    char buf[SCRATCH_SIZE];
};

struct settings {
    __u64 boot_time;
    __u32 sampling_ratio;
    __u8 capture_enabled, dropping_mode, drop_failed, pad;
    __u32 snaplen;
    __u32 interesting[MAX_SYSCALLS / 32];
};

struct sockaddr_in_min {
    __u16 family;
    __u16 port;
    __u32 addr;
    __u8 zero[8];
};

struct sockaddr_in6_min {
    __u16 family;
    __u16 port;
    __u32 flowinfo;
    __u32 addr[4];
    __u32 scope;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} frame_scratch SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scratch);
} tmp_scratch SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct settings);
} settings_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, MAX_SYSCALLS);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} fillers SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8192);
    __type(key, __u64);
    __type(value, __u64);
} drops SEC(".maps");

// Where an event is being built: the scratch buffer, the next free byte, the next parameter.
struct filler_data {
    char *buf;
    char *tmp;
    struct settings *settings;
    struct pt_regs *regs;
    __u32 curoff;
    __u32 curarg;
    __u32 nparams;
    __u16 type;
};

static __always_inline __u64 syscall_arg(struct pt_regs *regs, int n) {
    __u64 v = 0;
    switch (n) {
        case 0: bpf_probe_read_kernel(&v, sizeof(v), &regs->rdi); break;
        case 1: bpf_probe_read_kernel(&v, sizeof(v), &regs->rsi); break;
        case 2: bpf_probe_read_kernel(&v, sizeof(v), &regs->rdx); break;
        case 3: bpf_probe_read_kernel(&v, sizeof(v), &regs->r10); break;
        case 4: bpf_probe_read_kernel(&v, sizeof(v), &regs->r8); break;
        default: bpf_probe_read_kernel(&v, sizeof(v), &regs->r9); break;
    }
    return v;
}

static __always_inline int init_filler(struct filler_data *d, struct bpf_raw_tracepoint_args *ctx,
                                       __u16 type, __u32 nparams) {
    __u32 zero = 0;
    d->buf = bpf_map_lookup_elem(&frame_scratch, &zero);
    if (!d->buf) return -1;
    d->tmp = bpf_map_lookup_elem(&tmp_scratch, &zero);
    if (!d->tmp) return -1;
    d->settings = bpf_map_lookup_elem(&settings_map, &zero);
    if (!d->settings) return -1;
    d->regs = (struct pt_regs *)ctx->args[0];
    d->type = type;
    d->nparams = nparams;
    d->curarg = 0;
    // Header, then one 16-bit length per parameter, then the parameters.
    d->curoff = sizeof(struct event_header) + nparams * sizeof(__u16);
    struct event_header *h = (struct event_header *)d->buf;
    h->ts = d->settings->boot_time + bpf_ktime_get_boot_ns();
    h->tid = bpf_get_current_pid_tgid();
    h->type = type;
    h->nparams = nparams;
    return 0;
}

static __always_inline int set_param_len(struct filler_data *d, __u16 len) {
    if (d->curarg >= d->nparams || d->curarg >= MAX_PARAMS) return -1;
    __u32 at = sizeof(struct event_header) + (d->curarg & (MAX_PARAMS - 1)) * sizeof(__u16);
    *(__u16 *)&d->buf[at] = len;
    d->curarg++;
    return 0;
}

static __always_inline int push_u64(struct filler_data *d, __u64 v) {
    if (d->curoff > SCRATCH_HALF) return -1;
    *(__u64 *)&d->buf[d->curoff & SCRATCH_HALF] = v;
    d->curoff += sizeof(v);
    return set_param_len(d, sizeof(v));
}

static __always_inline int push_u32(struct filler_data *d, __u32 v) {
    if (d->curoff > SCRATCH_HALF) return -1;
    *(__u32 *)&d->buf[d->curoff & SCRATCH_HALF] = v;
    d->curoff += sizeof(v);
    return set_param_len(d, sizeof(v));
}

static __always_inline int push_user_string(struct filler_data *d, __u64 ptr) {
    if (d->curoff > SCRATCH_HALF) return -1;
    long n = 0;
    if (ptr) n = bpf_probe_read_user_str(&d->buf[d->curoff & SCRATCH_HALF], MAX_PATH, (void *)ptr);
    if (n < 0) n = 0;
    n &= MAX_PATH - 1;
    d->curoff += n;
    return set_param_len(d, (__u16)n);
}

static __always_inline int push_user_bytes(struct filler_data *d, __u64 ptr, __u64 len) {
    if (d->curoff > SCRATCH_HALF) return -1;
    __u32 snaplen = d->settings->snaplen;
    if (len > snaplen) len = snaplen;
    len &= 0x3ff;  // at most 1 KiB of data per call
    if (ptr && len > 0) {
        if (bpf_probe_read_user(&d->buf[d->curoff & SCRATCH_HALF], len, (void *)ptr) < 0) len = 0;
    } else {
        len = 0;
    }
    d->curoff += len;
    return set_param_len(d, (__u16)len);
}

// A socket address from user memory, copied through the temporary buffer and trimmed to what
// its family needs.
static __always_inline int push_sockaddr(struct filler_data *d, __u64 ptr, __u64 addrlen) {
    if (d->curoff > SCRATCH_HALF) return -1;
    if (!ptr || addrlen < 2 || addrlen > 128) return set_param_len(d, 0);
    if (bpf_probe_read_user(d->tmp, addrlen & 0x7f, (void *)ptr) < 0) return set_param_len(d, 0);
    __u16 family = *(__u16 *)d->tmp;
    char *out = &d->buf[d->curoff & SCRATCH_HALF];
    __u16 size = 0;
    if (family == 2) {
        struct sockaddr_in_min *sin = (void *)d->tmp;
        out[0] = 2;
        *(__u32 *)&out[1] = sin->addr;
        *(__u16 *)&out[5] = sin->port;
        size = 7;
    } else if (family == 10) {
        struct sockaddr_in6_min *sin6 = (void *)d->tmp;
        out[0] = 10;
#pragma unroll
        for (int i = 0; i < 4; i++)
            *(__u32 *)&out[1 + 4 * i] = sin6->addr[i];
        *(__u16 *)&out[17] = sin6->port;
        size = 19;
    } else if (family == 1) {
        out[0] = 1;
        long n = bpf_probe_read_kernel_str(&out[1], 108, d->tmp + 2);
        size = n > 0 ? (__u16)(n + 1) : 1;
    }
    d->curoff += size;
    return set_param_len(d, size);
}

static __always_inline int submit(struct filler_data *d) {
    __u32 len = d->curoff;
    if (len > SCRATCH_HALF) return 0;
    struct event_header *h = (struct event_header *)d->buf;
    h->len = len;
    if (len == 0) return 0;
    if (bpf_ringbuf_output(&events, d->buf, len & SCRATCH_HALF, 0) < 0) {
        __u64 key = d->type, one = 1;
        __u64 *count = bpf_map_lookup_elem(&drops, &key);
        if (count)
            __sync_fetch_and_add(count, 1);
        else
            bpf_map_update_elem(&drops, &key, &one, BPF_ANY);
    }
    return 0;
}

static __always_inline int interesting(struct settings *s, long id) {
    if (id < 0 || id >= MAX_SYSCALLS) return 0;
    return (s->interesting[(id >> 5) & (MAX_SYSCALLS / 32 - 1)] >> (id & 31)) & 1;
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx) {
    __u32 zero = 0;
    struct settings *s = bpf_map_lookup_elem(&settings_map, &zero);
    if (!s || !s->capture_enabled) return 0;
    long id = (long)ctx->args[1];
    if (!interesting(s, id)) return 0;
    if (s->dropping_mode && (bpf_get_prandom_u32() % (s->sampling_ratio | 1)) != 0) return 0;
    bpf_tail_call(ctx, &fillers, (__u32)id);
    return 0;
}

SEC("raw_tracepoint/filler_open")
int filler_open(struct bpf_raw_tracepoint_args *ctx) {
    struct filler_data d;
    if (init_filler(&d, ctx, SYS_OPEN, 3) < 0) return 0;
    if (push_user_string(&d, syscall_arg(d.regs, 0)) < 0) return 0;
    __u64 flags = syscall_arg(d.regs, 1);
    __u32 converted = 0;
    if (flags & 01) converted |= 1 << 1;
    if (flags & 02) converted |= 1 << 2;
    if (flags & 0100) converted |= 1 << 3;
    if (flags & 01000) converted |= 1 << 4;
    if (flags & 02000) converted |= 1 << 5;
    if (flags & 0200000) converted |= 1 << 6;
    if (flags & 02000000) converted |= 1 << 7;
    if (push_u32(&d, converted) < 0) return 0;
    if (push_u32(&d, (__u32)syscall_arg(d.regs, 2)) < 0) return 0;
    return submit(&d);
}

SEC("raw_tracepoint/filler_openat")
int filler_openat(struct bpf_raw_tracepoint_args *ctx) {
    struct filler_data d;
    if (init_filler(&d, ctx, SYS_OPENAT, 4) < 0) return 0;
    __s64 dirfd = (__s64)syscall_arg(d.regs, 0);
    if (push_u64(&d, dirfd == -100 ? (__u64)-100 : (__u64)dirfd) < 0) return 0;
    if (push_user_string(&d, syscall_arg(d.regs, 1)) < 0) return 0;
    if (push_u32(&d, (__u32)syscall_arg(d.regs, 2)) < 0) return 0;
    if (push_u32(&d, (__u32)syscall_arg(d.regs, 3)) < 0) return 0;
    return submit(&d);
}

SEC("raw_tracepoint/filler_rw")
int filler_rw(struct bpf_raw_tracepoint_args *ctx) {
    struct filler_data d;
    long id = (long)ctx->args[1];
    if (init_filler(&d, ctx, id == SYS_READ ? SYS_READ : SYS_WRITE, 3) < 0) return 0;
    if (push_u64(&d, syscall_arg(d.regs, 0)) < 0) return 0;
    if (push_user_bytes(&d, syscall_arg(d.regs, 1), syscall_arg(d.regs, 2)) < 0) return 0;
    if (push_u64(&d, syscall_arg(d.regs, 2)) < 0) return 0;
    return submit(&d);
}

SEC("raw_tracepoint/filler_socket")
int filler_socket(struct bpf_raw_tracepoint_args *ctx) {
    struct filler_data d;
    long id = (long)ctx->args[1];
    if (init_filler(&d, ctx, (__u16)id, 6) < 0) return 0;
    __u64 fd = syscall_arg(d.regs, 0);
    if (push_u64(&d, fd) < 0) return 0;
    if (id == SYS_CONNECT || id == SYS_ACCEPT) {
        if (push_sockaddr(&d, syscall_arg(d.regs, 1), syscall_arg(d.regs, 2)) < 0) return 0;
    } else if (id == SYS_SENDTO || id == SYS_RECVFROM) {
        if (push_user_bytes(&d, syscall_arg(d.regs, 1), syscall_arg(d.regs, 2)) < 0) return 0;
        if (push_sockaddr(&d, syscall_arg(d.regs, 4), syscall_arg(d.regs, 5)) < 0) return 0;
    } else {
        if (push_u32(&d, (__u32)syscall_arg(d.regs, 1)) < 0) return 0;
    }
    if (push_u32(&d, (__u32)syscall_arg(d.regs, 2)) < 0) return 0;
    return submit(&d);
}

// execve: the path and the argument vector, one string per argument, in a bounded loop that
// the compiler keeps as a loop.
SEC("raw_tracepoint/filler_execve")
int filler_execve(struct bpf_raw_tracepoint_args *ctx) {
    struct filler_data d;
    if (init_filler(&d, ctx, SYS_EXECVE, 3) < 0) return 0;
    if (push_user_string(&d, syscall_arg(d.regs, 0)) < 0) return 0;
    __u64 argv = syscall_arg(d.regs, 1);
    __u32 start = d.curoff;
    __u32 total = 0;
#pragma clang loop unroll(disable)
    for (int i = 0; i < MAX_ARGV; i++) {
        __u64 arg = 0;
        if (bpf_probe_read_user(&arg, sizeof(arg), (void *)(argv + i * sizeof(__u64))) < 0) break;
        if (!arg) break;
        if (d.curoff > SCRATCH_HALF) break;
        long n = bpf_probe_read_user_str(&d.buf[d.curoff & SCRATCH_HALF], MAX_PATH, (void *)arg);
        if (n <= 0) break;
        n &= MAX_PATH - 1;
        d.curoff += n;
        total += n;
    }
    if (set_param_len(&d, (__u16)total) < 0) return 0;
    (void)start;
    // Environment: only its count.
    __u64 envp = syscall_arg(d.regs, 2);
    __u32 envc = 0;
#pragma clang loop unroll(disable)
    for (int i = 0; i < 64; i++) {
        __u64 e = 0;
        if (bpf_probe_read_user(&e, sizeof(e), (void *)(envp + i * sizeof(__u64))) < 0 || !e)
            break;
        envc++;
    }
    if (push_u32(&d, envc) < 0) return 0;
    return submit(&d);
}

SEC("raw_tracepoint/filler_clone")
int filler_clone(struct bpf_raw_tracepoint_args *ctx) {
    struct filler_data d;
    if (init_filler(&d, ctx, SYS_CLONE, 5) < 0) return 0;
    __u64 flags = syscall_arg(d.regs, 0);
    __u32 converted = 0;
#pragma unroll
    for (int bit = 8; bit < 32; bit++) {
        if (flags & (1ull << bit)) converted |= 1u << (bit - 8);
    }
    if (push_u32(&d, converted) < 0) return 0;
    if (push_u64(&d, syscall_arg(d.regs, 1)) < 0) return 0;
    if (push_u64(&d, syscall_arg(d.regs, 2)) < 0) return 0;
    if (push_u64(&d, syscall_arg(d.regs, 3)) < 0) return 0;
    char comm[16];
    bpf_get_current_comm(comm, sizeof(comm));
    if (d.curoff > SCRATCH_HALF) return 0;
    __builtin_memcpy(&d.buf[d.curoff & SCRATCH_HALF], comm, sizeof(comm));
    d.curoff += sizeof(comm);
    if (set_param_len(&d, sizeof(comm)) < 0) return 0;
    return submit(&d);
}

// sendmsg/recvmsg: the message header from user memory, then the data of every iovec (up to a
// limit) appended one after another, each copy bounded by what is left.
struct user_msghdr_min {
    __u64 name;
    __u32 namelen;
    __u32 pad;
    __u64 iov;
    __u64 iovlen;
};

struct iovec_min {
    __u64 base;
    __u64 len;
};

#define MAX_IOVCNT 8
#define MAX_IO_BYTES 1024

SEC("raw_tracepoint/filler_msg")
int filler_msg(struct bpf_raw_tracepoint_args *ctx) {
    struct filler_data d;
    if (init_filler(&d, ctx, 46, 4) < 0) return 0;
    if (push_u64(&d, syscall_arg(d.regs, 0)) < 0) return 0;
    struct user_msghdr_min mh = {};
    if (bpf_probe_read_user(&mh, sizeof(mh), (void *)syscall_arg(d.regs, 1)) < 0) {
        set_param_len(&d, 0);
        set_param_len(&d, 0);
        return submit(&d);
    }
    if (push_sockaddr(&d, mh.name, mh.namelen) < 0) return 0;
    __u32 copied = 0;
    __u64 iovcnt = mh.iovlen < MAX_IOVCNT ? mh.iovlen : MAX_IOVCNT;
#pragma clang loop unroll(disable)
    for (__u32 i = 0; i < MAX_IOVCNT; i++) {
        if (i >= iovcnt) break;
        struct iovec_min iov = {};
        if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(mh.iov + i * sizeof(iov))) < 0) break;
        __u32 left = MAX_IO_BYTES - copied;
        if (left == 0 || left > MAX_IO_BYTES) break;
        __u32 chunk = iov.len < left ? (__u32)iov.len : left;
        if (chunk == 0) continue;
        if (d.curoff > SCRATCH_HALF) break;
        chunk &= MAX_IO_BYTES - 1;
        if (chunk == 0) break;
        if (bpf_probe_read_user(&d.buf[d.curoff & SCRATCH_HALF], chunk, (void *)iov.base) < 0)
            break;
        d.curoff += chunk;
        copied += chunk;
    }
    if (set_param_len(&d, (__u16)copied) < 0) return 0;
    if (push_u32(&d, (__u32)syscall_arg(d.regs, 2)) < 0) return 0;
    return submit(&d);
}

// The current task's open file behind a descriptor, walked through kernel pointers with probe
// reads (offsets as a kernel build would have them; the verifier only sees numbers).
struct task_walk {
    __u64 files_off, fdt_off, fd_off, private_off, sk_off;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct task_walk);
} offsets SEC(".maps");

SEC("kprobe/tcp_sendmsg")
int kprobe_tcp_sendmsg(struct pt_regs *regs) {
    __u32 zero = 0;
    struct task_walk *w = bpf_map_lookup_elem(&offsets, &zero);
    if (!w) return 0;
    __u64 task = bpf_get_current_task();
    __u64 files = 0, fdt = 0, fds = 0, file = 0, sock = 0;
    if (bpf_probe_read_kernel(&files, sizeof(files), (void *)(task + (w->files_off & 0xffff))) <
            0 ||
        !files)
        return 0;
    if (bpf_probe_read_kernel(&fdt, sizeof(fdt), (void *)(files + (w->fdt_off & 0xfff))) < 0)
        return 0;
    if (bpf_probe_read_kernel(&fds, sizeof(fds), (void *)(fdt + (w->fd_off & 0xff))) < 0)
        return 0;
    __u64 fd = regs->rdi & 0xffff;
    if (bpf_probe_read_kernel(&file, sizeof(file), (void *)(fds + fd * 8)) < 0 || !file)
        return 0;
    if (bpf_probe_read_kernel(&sock, sizeof(sock), (void *)(file + (w->private_off & 0xfff))) < 0)
        return 0;
    struct event_header h = {};
    h.ts = bpf_ktime_get_ns();
    h.tid = bpf_get_current_pid_tgid();
    h.type = 1000;
    h.len = sizeof(h);
    char comm[16] = {};
    bpf_get_current_comm(comm, sizeof(comm));
    if (comm[0] == 0) return 0;
    bpf_ringbuf_output(&events, &h, sizeof(h), 0);
    return 0;
}

// A classic tracepoint with its record: sched_process_exec's pid and filename offset.
struct exec_record {
    __u64 common;
    __u32 filename_loc;  // __data_loc: offset in the low 16 bits, length in the high 16
    __s32 pid;
    __s32 old_pid;
};

SEC("tracepoint/sched/sched_process_exec")
int tp_exec(struct exec_record *rec) {
    __u32 zero = 0;
    char *buf = bpf_map_lookup_elem(&tmp_scratch, &zero);
    if (!buf) return 0;
    __u32 off = rec->filename_loc & 0xffff;
    __u32 len = rec->filename_loc >> 16;
    if (len > 256) len = 256;
    if (len == 0) return 0;
    bpf_probe_read_kernel_str(buf, len, (char *)rec + off);
    *(__s32 *)&buf[300] = rec->pid;
    bpf_ringbuf_output(&events, buf, 304, 0);
    return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx) {
    __u32 zero = 0;
    struct settings *s = bpf_map_lookup_elem(&settings_map, &zero);
    if (!s || !s->capture_enabled) return 0;
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    long ret = (long)ctx->args[1];
    __u64 id = 0;
    bpf_probe_read_kernel(&id, sizeof(id), &regs->orig_rax);
    if (!interesting(s, (long)id)) return 0;
    if (ret < 0 && s->drop_failed) return 0;
    struct filler_data d;
    if (init_filler(&d, ctx, (__u16)(id + 1), 1) < 0) return 0;
    if (push_u64(&d, (__u64)ret) < 0) return 0;
    return submit(&d);
}

char LICENSE[] SEC("license") = "GPL";
