// Tracing and embedding types, whose contexts are plain memory or nearly: kprobe (struct
// pt_regs), tracepoint (the raw trace record), perf_event (struct bpf_perf_event_data),
// raw_tracepoint (+ writable), tracing (fentry/fexit arguments), lsm, lirc_mode2 and syscall
// (the argument block a test run passes).
#include <linux/bpf.h>

#include "runtime/progtypes/context_builder.hpp"
#include "runtime/progtypes/helper_sets.hpp"
#include "runtime/progtypes/linux_types.hpp"

namespace xbpf::progtypes {
namespace {

constexpr uint32_t kPtRegsSize = 168;           // struct pt_regs on x86-64: 21 registers
constexpr uint32_t kMaxTraceRecord = 2048;      // PERF_MAX_TRACE_SIZE
constexpr uint32_t kMaxFuncArgs = 12;           // MAX_BPF_FUNC_ARGS: u64 each
constexpr uint32_t kMaxSyscallContext = 65535;  // U16_MAX: the largest ctx_in a test run takes

std::shared_ptr<ProgramType> plain_type(uint32_t id, const char* name, uint32_t size,
                                        HelperIds helpers, bool writable = false,
                                        const char* context_btf_name = "") {
    auto t = std::make_shared<ProgramType>();
    t->id = id;
    t->name = name;
    t->context_btf_name = context_btf_name;
    t->context_size = size;
    t->native_context_size = size;
    t->context_is_plain_memory = true;
    t->plain_memory_writable = writable;
    t->helpers = std::move(helpers);
    return t;
}

HelperIds raw_tracepoint_helpers() {
    return tracing_base_helpers();
}

HelperIds fentry_helpers() {
    return join({raw_tracepoint_helpers(),
                 {BPF_FUNC_skb_output,
                  BPF_FUNC_xdp_output,
                  BPF_FUNC_skc_to_tcp6_sock,
                  BPF_FUNC_skc_to_tcp_sock,
                  BPF_FUNC_skc_to_tcp_timewait_sock,
                  BPF_FUNC_skc_to_tcp_request_sock,
                  BPF_FUNC_skc_to_udp6_sock,
                  BPF_FUNC_skc_to_unix_sock,
                  BPF_FUNC_skc_to_mptcp_sock,
                  BPF_FUNC_sk_storage_get,
                  BPF_FUNC_sk_storage_delete,
                  BPF_FUNC_sock_from_file,
                  BPF_FUNC_get_socket_cookie,
                  BPF_FUNC_seq_printf,
                  BPF_FUNC_seq_write,
                  BPF_FUNC_seq_printf_btf,
                  BPF_FUNC_d_path,
                  BPF_FUNC_get_func_arg,
                  BPF_FUNC_get_func_ret,
                  BPF_FUNC_get_func_arg_cnt}});
}

}  // namespace

void add_tracing_types(std::vector<std::shared_ptr<ProgramType>>& out) {
    out.push_back(plain_type(
        BPF_PROG_TYPE_KPROBE, "kprobe", kPtRegsSize,
        // override_return needs CONFIG_BPF_KPROBE_OVERRIDE in Linux (see config_dependent).
        join({tracing_base_helpers(), {BPF_FUNC_override_return}}), false, "pt_regs"));

    // Tracepoint records: any aligned read from byte 8 on (Linux keeps the first 8 bytes out
    // of reach), up to the largest record perf produces.
    {
        auto t = std::make_shared<ProgramType>();
        t->id = BPF_PROG_TYPE_TRACEPOINT;
        t->name = "tracepoint";
        ContextBuilder(kMaxTraceRecord)
            .scalar("record", 8, kMaxTraceRecord - 8, w::kAny)
            .finish(*t);
        t->helpers = tracing_base_helpers();
        out.push_back(std::move(t));
    }

    // perf_event: the registers as whole 64-bit words, sample_period and addr narrowly too.
    {
        auto t = std::make_shared<ProgramType>();
        t->id = BPF_PROG_TYPE_PERF_EVENT;
        t->name = "perf_event";
        t->context_btf_name = "bpf_perf_event_data";
        ContextBuilder(kPtRegsSize + 16)
            .scalar("regs", 0, kPtRegsSize, w::k8)
            .scalar("sample_period", kPtRegsSize, 8, w::kAny)
            .scalar("addr", kPtRegsSize + 8, 8, w::kAny)
            .finish(*t);
        t->helpers = join({tracing_base_helpers(),
                           {BPF_FUNC_perf_prog_read_value, BPF_FUNC_read_branch_records}});
        out.push_back(std::move(t));
    }

    out.push_back(plain_type(BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tracepoint", 8 * kMaxFuncArgs,
                             raw_tracepoint_helpers(), false, "bpf_raw_tracepoint_args"));
    // The writable variant's first argument points to a buffer the program may write; xbpf
    // verifies it as a read-only argument block (the buffer is a kernel object here).
    out.push_back(plain_type(BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, "raw_tracepoint_writable",
                             8 * kMaxFuncArgs, raw_tracepoint_helpers()));
    {
        auto t = plain_type(BPF_PROG_TYPE_TRACING, "tracing", 8 * kMaxFuncArgs, fentry_helpers());
        t->context_kernel_pointers = true;
        out.push_back(std::move(t));
    }
    {
        auto t = plain_type(
            BPF_PROG_TYPE_LSM, "lsm", 8 * kMaxFuncArgs,
            join({fentry_helpers(),
                  {BPF_FUNC_inode_storage_get, BPF_FUNC_inode_storage_delete, BPF_FUNC_spin_lock,
                   BPF_FUNC_spin_unlock, BPF_FUNC_bprm_opts_set, BPF_FUNC_ima_inode_hash,
                   BPF_FUNC_ima_file_hash, BPF_FUNC_get_retval, BPF_FUNC_set_retval}}));
        t->context_kernel_pointers = true;
        out.push_back(std::move(t));
    }
    out.push_back(
        plain_type(BPF_PROG_TYPE_LIRC_MODE2, "lirc_mode2", 4,
                   join({base_helpers(),
                         {BPF_FUNC_rc_repeat, BPF_FUNC_rc_keydown, BPF_FUNC_rc_pointer_rel}})));

    // syscall: a block of memory the caller passes (ctx_in), read and written freely. Its real
    // size is known only at run time, so the contract allows Linux's largest and the test run
    // checks each run's size.
    {
        // The tracing set (syscall programs always sleep-capable), the socket casts, and the
        // bpf() and file helpers a loader program needs.
        auto t = plain_type(
            BPF_PROG_TYPE_SYSCALL, "syscall", kMaxSyscallContext,
            join({without(tracing_base_helpers(), {BPF_FUNC_get_attach_cookie}),
                  socket_cast_helpers(),
                  {BPF_FUNC_get_socket_cookie, BPF_FUNC_skb_output, BPF_FUNC_xdp_output,
                   BPF_FUNC_sock_from_file, BPF_FUNC_sys_bpf, BPF_FUNC_btf_find_by_name_kind,
                   BPF_FUNC_sys_close, BPF_FUNC_kallsyms_lookup_name, BPF_FUNC_xdp_get_buff_len}}),
            true);
        t->always_sleepable = true;
        t->runnable = true;
        out.push_back(std::move(t));
    }
}

}  // namespace xbpf::progtypes
