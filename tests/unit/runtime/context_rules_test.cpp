// Per-type field rules (Linux's is_valid_access), the registry and the rewrite to native
// layout.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstddef>

#include "xbpf/program_type.hpp"

namespace xbpf {
namespace {

struct Rule {
    const char* type;
    uint32_t offset;
    uint32_t size;
    bool write;
    bool allowed;
};

#define OFF(strct, member) static_cast<uint32_t>(offsetof(strct, member))

const Rule kRules[] = {
    // xdp: whole 32-bit reads only, nothing writable.
    {"xdp", OFF(xdp_md, data), 4, false, true},
    {"xdp", OFF(xdp_md, data), 8, false, false},
    {"xdp", OFF(xdp_md, ingress_ifindex), 4, false, true},
    {"xdp", OFF(xdp_md, ingress_ifindex), 1, false, false},
    {"xdp", OFF(xdp_md, rx_queue_index), 4, true, false},
    {"xdp", OFF(xdp_md, data_meta), 4, false, true},
    {"xdp", 24, 4, false, false},
    // socket_filter: no packet pointers, cb writable, mark not.
    {"socket_filter", OFF(__sk_buff, data), 4, false, false},
    {"socket_filter", OFF(__sk_buff, len), 4, false, true},
    {"socket_filter", OFF(__sk_buff, len), 2, false, true},
    {"socket_filter", OFF(__sk_buff, len) + 2, 2, false, true},
    {"socket_filter", OFF(__sk_buff, len) + 1, 2, false, false},
    {"socket_filter", OFF(__sk_buff, len), 4, true, false},
    {"socket_filter", OFF(__sk_buff, mark), 4, true, false},
    {"socket_filter", OFF(__sk_buff, cb[2]), 4, true, true},
    {"socket_filter", OFF(__sk_buff, cb[0]), 8, true, true},
    {"socket_filter", OFF(__sk_buff, cb[4]), 8, false, false},
    {"socket_filter", OFF(__sk_buff, tc_classid), 4, false, false},
    {"socket_filter", OFF(__sk_buff, tstamp), 8, false, false},
    {"socket_filter", OFF(__sk_buff, family), 4, false, false},
    // sched_cls: direct packet access, the tc fields writable.
    {"sched_cls", OFF(__sk_buff, data), 4, false, true},
    {"sched_cls", OFF(__sk_buff, data), 2, false, false},
    {"sched_cls", OFF(__sk_buff, data_meta), 4, false, true},
    {"sched_cls", OFF(__sk_buff, data_end), 4, true, false},
    {"sched_cls", OFF(__sk_buff, mark), 4, true, true},
    {"sched_cls", OFF(__sk_buff, mark), 2, true, false},
    {"sched_cls", OFF(__sk_buff, priority), 4, true, true},
    {"sched_cls", OFF(__sk_buff, tc_classid), 4, true, true},
    {"sched_cls", OFF(__sk_buff, tc_index), 4, true, true},
    {"sched_cls", OFF(__sk_buff, queue_mapping), 4, true, true},
    {"sched_cls", OFF(__sk_buff, tstamp), 8, true, true},
    {"sched_cls", OFF(__sk_buff, tstamp), 4, false, false},
    {"sched_cls", OFF(__sk_buff, len), 4, true, false},
    {"sched_cls", OFF(__sk_buff, protocol), 4, true, false},
    {"sched_cls", OFF(__sk_buff, family), 4, false, false},
    {"sched_cls", OFF(__sk_buff, sk), 8, false, true},
    {"sched_cls", OFF(__sk_buff, sk), 4, false, false},
    {"sched_cls", OFF(__sk_buff, tstamp_type), 1, false, true},
    {"sched_cls", OFF(__sk_buff, flow_keys), 8, false, false},
    {"sched_cls", 181, 1, false, false},  // padding
    // cgroup_skb: packet readable, socket fields readable, no data_meta.
    {"cgroup_skb", OFF(__sk_buff, data), 4, false, true},
    {"cgroup_skb", OFF(__sk_buff, data_meta), 4, false, false},
    {"cgroup_skb", OFF(__sk_buff, remote_ip4), 4, false, true},
    {"cgroup_skb", OFF(__sk_buff, remote_ip4), 2, false, false},
    {"cgroup_skb", OFF(__sk_buff, mark), 4, true, true},
    {"cgroup_skb", OFF(__sk_buff, tc_index), 4, true, false},
    // sk_skb: mark hidden.
    {"sk_skb", OFF(__sk_buff, mark), 4, false, false},
    {"sk_skb", OFF(__sk_buff, tc_index), 4, true, true},
    // flow_dissector: packet and flow keys only.
    {"flow_dissector", OFF(__sk_buff, flow_keys), 8, false, true},
    {"flow_dissector", OFF(__sk_buff, len), 4, false, false},
    // cgroup_sock_addr: addresses writable, wide IPv6 accesses.
    {"cgroup_sock_addr", OFF(bpf_sock_addr, user_ip4), 4, true, true},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, user_ip4), 1, false, true},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, user_ip4), 2, true, false},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, user_ip6[0]), 8, true, true},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, user_ip6[2]), 8, false, true},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, user_ip6[1]), 8, false, false},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, user_port), 4, true, true},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, user_family), 4, true, false},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, user_family), 2, false, false},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, msg_src_ip6[1]), 8, false, true},
    {"cgroup_sock_addr", OFF(bpf_sock_addr, sk), 8, false, true},
    // sock_ops: whole words, reply and sk_txhash writable.
    {"sock_ops", OFF(bpf_sock_ops, op), 4, false, true},
    {"sock_ops", OFF(bpf_sock_ops, op), 1, false, false},
    {"sock_ops", OFF(bpf_sock_ops, reply), 4, true, true},
    {"sock_ops", OFF(bpf_sock_ops, args[1]), 4, false, true},
    {"sock_ops", OFF(bpf_sock_ops, args[1]), 4, true, false},
    {"sock_ops", OFF(bpf_sock_ops, sk_txhash), 4, true, true},
    {"sock_ops", OFF(bpf_sock_ops, bytes_acked), 8, false, true},
    {"sock_ops", OFF(bpf_sock_ops, bytes_acked), 4, false, false},
    {"sock_ops", OFF(bpf_sock_ops, skb_tcp_flags), 1, false, true},
    {"sock_ops", OFF(bpf_sock_ops, skb_data), 8, false, true},
    // plain memory contexts
    {"kprobe", 0, 8, false, true},
    {"kprobe", 160, 8, false, true},
    {"kprobe", 164, 8, false, false},
    {"kprobe", 8, 8, true, false},
    {"tracepoint", 0, 8, false, false},
    {"tracepoint", 8, 8, false, true},
    {"tracepoint", 16, 4, false, true},
    {"raw_tracepoint", 88, 8, false, true},
    {"raw_tracepoint", 96, 8, false, false},
    {"perf_event", 8, 4, false, false},
    {"perf_event", 8, 8, false, true},
    {"perf_event", 168, 4, false, true},
    {"syscall", 104, 8, true, true},
};
#undef OFF

TEST(ContextRules, AsLinuxIsValidAccess) {
    for (const auto& r : kRules) {
        auto type = ProgramTypeRegistry::global().find(r.type);
        ASSERT_TRUE(type) << r.type;
        const std::string problem = type->check_access(r.offset, r.size, r.write);
        EXPECT_EQ(problem.empty(), r.allowed)
            << r.type << " " << (r.write ? "write" : "read") << " of " << r.size << " at "
            << r.offset << ": " << problem;
    }
}

TEST(ContextRules, ProblemsSayWhy) {
    auto type = ProgramTypeRegistry::global().find("socket_filter");
    EXPECT_EQ(type->check_access(8, 4, true),
              "field mark of the socket_filter context is read-only for socket_filter programs");
}

TEST(Registry, KnowsLinuxTypesByIdAndName) {
    auto& registry = ProgramTypeRegistry::global();
    EXPECT_EQ(registry.find(BPF_PROG_TYPE_XDP)->name, "xdp");
    EXPECT_EQ(registry.find("sched_cls")->id, static_cast<uint32_t>(BPF_PROG_TYPE_SCHED_CLS));
    EXPECT_EQ(registry.find("no_such_type"), nullptr);
    EXPECT_EQ(registry.all().size(), 29u);
    for (const char* name : {"xdp", "socket_filter", "sched_cls", "sched_act", "cgroup_skb",
                             "cgroup_sock_addr", "sock_ops", "syscall"}) {
        EXPECT_TRUE(registry.find(name)->runnable) << name;
    }
    EXPECT_FALSE(registry.find("kprobe")->runnable);
    EXPECT_TRUE(registry.find("socket_filter")->legacy_packet_loads);
    EXPECT_FALSE(registry.find("xdp")->legacy_packet_loads);
    EXPECT_EQ(registry.find("cgroup_sock_addr")->return_range->max, 1);
    EXPECT_FALSE(registry.find("xdp")->return_range.has_value());
}

TEST(Registry, AllowedHelpersFollowLinux) {
    auto& registry = ProgramTypeRegistry::global();
    auto xdp = registry.find("xdp");
    EXPECT_TRUE(xdp->allows_helper(BPF_FUNC_xdp_adjust_head));
    EXPECT_TRUE(xdp->allows_helper(BPF_FUNC_map_lookup_elem));
    EXPECT_TRUE(xdp->allows_helper(BPF_FUNC_trace_printk));
    EXPECT_FALSE(xdp->allows_helper(BPF_FUNC_skb_load_bytes));
    EXPECT_FALSE(xdp->allows_helper(BPF_FUNC_probe_read));
    auto filter = registry.find("socket_filter");
    EXPECT_TRUE(filter->allows_helper(BPF_FUNC_skb_load_bytes));
    EXPECT_FALSE(filter->allows_helper(BPF_FUNC_skb_store_bytes));
    auto kprobe = registry.find("kprobe");
    EXPECT_TRUE(kprobe->allows_helper(BPF_FUNC_get_current_pid_tgid));
    EXPECT_TRUE(kprobe->allows_helper(BPF_FUNC_probe_read));
    EXPECT_FALSE(kprobe->allows_helper(BPF_FUNC_xdp_adjust_head));
    EXPECT_TRUE(registry.find("sched_cls")->allows_helper(BPF_FUNC_l4_csum_replace));
}

TEST(Registry, EmbedderTypesAreAddedOnceAndChecked) {
    ProgramTypeRegistry registry;
    auto type = std::make_shared<ProgramType>();
    type->id = 0x10001;
    type->name = "my_hook";
    type->context_size = 8;
    type->native_context_size = 8;
    type->fields.push_back(ContextField{"value", 0, 8, ContextFieldKind::Scalar, access_width::kAny,
                                        access_width::k8, 0, 8});
    ASSERT_TRUE(registry.add(type));
    EXPECT_FALSE(registry.add(type));  // id taken
    auto bad = std::make_shared<ProgramType>(*type);
    bad->id = 0x10002;
    bad->name = "bad_hook";
    bad->fields[0].size = 16;  // beyond the context
    EXPECT_FALSE(registry.add(bad));
    EXPECT_EQ(registry.find("my_hook")->id, 0x10001u);
}

TEST(Rewrite, PointerFieldsBecome64BitLoadsOfTheNativeSlot) {
    auto xdp = ProgramTypeRegistry::global().find("xdp");
    std::vector<Insn> program = {
        make::load(op::W, 2, 1, 0),   // r2 = ctx->data
        make::load(op::W, 3, 1, 4),   // r3 = ctx->data_end
        make::load(op::W, 4, 1, 12),  // r4 = ctx->ingress_ifindex
        make::mov64_imm(0, 2),       make::exit(),
    };
    std::vector<ContextAccess> accesses = {{0, 0, 4, false}, {1, 4, 4, false}, {2, 12, 4, false}};
    ASSERT_TRUE(rewrite_context_accesses(program, *xdp, accesses));
    EXPECT_EQ(program[0], make::load(op::DW, 2, 1, 24));
    EXPECT_EQ(program[1], make::load(op::DW, 3, 1, 32));
    EXPECT_EQ(program[2], make::load(op::W, 4, 1, 12));
}

TEST(Rewrite, NarrowLoadsKeepTheirByteOffset) {
    auto skb = ProgramTypeRegistry::global().find("sched_cls");
    std::vector<Insn> program = {make::load(op::B, 2, 1, 17), make::load(op::W, 3, 1, 76),
                                 make::store_imm(op::W, 1, 8, 7), make::exit()};
    std::vector<ContextAccess> accesses = {{0, 17, 1, false}, {1, 76, 4, false}, {2, 8, 4, true}};
    ASSERT_TRUE(rewrite_context_accesses(program, *skb, accesses));
    EXPECT_EQ(program[0], make::load(op::B, 2, 1, 17));
    EXPECT_EQ(program[1], make::load(op::DW, 3, 1, 192));
    EXPECT_EQ(program[2], make::store_imm(op::W, 1, 8, 7));
}

TEST(Rewrite, RefusesAccessesTheContractForbids) {
    auto xdp = ProgramTypeRegistry::global().find("xdp");
    std::vector<Insn> program = {make::store_imm(op::W, 1, 0, 0), make::exit()};
    auto s = rewrite_context_accesses(program, *xdp, {{0, 0, 4, true}});
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().to_string().find("instruction 0"), std::string::npos);
    std::vector<Insn> wrong = {make::mov64_imm(0, 0), make::exit()};
    EXPECT_FALSE(rewrite_context_accesses(wrong, *xdp, {{0, 0, 4, false}}));
}

}  // namespace
}  // namespace xbpf
