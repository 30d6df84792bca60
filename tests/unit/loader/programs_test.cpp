// Programs as the loader builds them: functions of program sections, `.text` subprograms
// appended after each program that calls them (calls and function addresses rewritten), the
// global `.text` functions listed on their own, BTF function and line information moved along.
#include <gtest/gtest.h>

#include "loader_test_support.hpp"
#include "support/run_command.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::test {
namespace {

// The name of the function a call or function-address lddw at `pc` leads to.
std::string callee(const ProgramSpec& program, size_t pc) {
    const int64_t target = branch_target(program.insns, pc);
    if (target == 0) return program.name;
    for (const auto& f : program.appended) {
        if (f.insn == target) return f.name;
    }
    return "<slot " + std::to_string(target) + ">";
}

std::vector<std::string> appended_names(const ProgramSpec& program) {
    std::vector<std::string> out;
    for (const auto& f : program.appended)
        out.push_back(f.name);
    return out;
}

TEST(Subprograms, AppendedTransitivelyAndCallsFixed) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    const Object object = load_test_object("loader_subprograms");
    const ProgramSpec& first = program_named(object, "first");
    EXPECT_EQ(first.section, "xdp");
    EXPECT_EQ(first.kind, ProgramKind::Entry);
    EXPECT_EQ(first.section_insn, 0u);
    EXPECT_EQ(first.own_insns, 16u);
    // Its own code, then what it reaches: the bpf_loop callback, the function it calls and the
    // function that one calls.
    EXPECT_EQ(appended_names(first),
              (std::vector<std::string>{"loop_step", "triple_plus_one", "triple"}));
    EXPECT_EQ(first.insns.size(), 16u + 5u + 3u + 3u);
    ASSERT_TRUE(validate_program(first.insns).ok());

    size_t calls = 0, addresses = 0;
    for (size_t pc = 0; pc < first.insns.size(); ++pc) {
        const Insn& insn = first.insns[pc];
        if (insn.opcode == op::CALL_IMM && insn.src == op::kCallLocal) {
            ++calls;
            const std::string to = callee(first, pc);
            EXPECT_TRUE(to == "triple_plus_one" || to == "triple")
                << "call at " << pc << ": " << to;
        }
        if (is_lddw(insn)) {
            if (insn.src == op::kImmCodeAddr) {
                ++addresses;
                EXPECT_EQ(callee(first, pc), "loop_step");
                EXPECT_EQ(first.insns[pc + 1].imm, 0);
            }
            ++pc;
        }
    }
    EXPECT_EQ(calls, 2u);
    EXPECT_EQ(addresses, 1u);
}

TEST(Subprograms, EachProgramGetsItsOwnCopy) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    const Object object = load_test_object("loader_subprograms");
    const ProgramSpec& second = program_named(object, "second");
    EXPECT_EQ(second.section_insn, 16u);  // second function of section xdp
    EXPECT_EQ(second.own_insns, 7u);
    EXPECT_EQ(appended_names(second), (std::vector<std::string>{"triple", "global_square"}));
    ASSERT_TRUE(validate_program(second.insns).ok());
    for (size_t pc = 0; pc < second.insns.size(); ++pc) {
        const Insn& insn = second.insns[pc];
        if (insn.opcode == op::CALL_IMM && insn.src == op::kCallLocal) {
            const std::string to = callee(second, pc);
            EXPECT_TRUE(to == "triple" || to == "global_square") << to;
        }
    }
}

TEST(Subprograms, CallsResolvedByClangWithinASectionKeepWorking) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    const Object object = load_test_object("loader_subprograms");
    const ProgramSpec& third = program_named(object, "third");
    EXPECT_EQ(third.prog_type, ProgType::SchedCls);
    ASSERT_EQ(third.insns.size(), 6u);
    EXPECT_EQ(appended_names(third), (std::vector<std::string>{"in_section_helper"}));
    EXPECT_EQ(callee(third, 1), "in_section_helper");
    EXPECT_TRUE(validate_program(third.insns).ok());
}

TEST(Subprograms, GlobalTextFunctionsAreListedOnTheirOwn) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    const Object object = load_test_object("loader_subprograms");
    const ProgramSpec& square = program_named(object, "global_square");
    EXPECT_EQ(square.kind, ProgramKind::TextFunction);
    EXPECT_EQ(square.section, ".text");
    EXPECT_EQ(square.prog_type, ProgType::Unspec);
    EXPECT_EQ(square.insns.size(), 3u);
    // Static functions are subprograms only.
    EXPECT_EQ(object.find_program("triple"), nullptr);
    EXPECT_EQ(object.find_program("loop_step"), nullptr);
    // Entries come first.
    EXPECT_EQ(object.programs.back().name, "global_square");
}

TEST(Subprograms, FunctionInfoFollowsTheCode) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    const Object object = load_test_object("loader_subprograms");
    const ProgramSpec& first = program_named(object, "first");
    ASSERT_NE(first.btf, nullptr);
    // One record per function, at its first instruction, naming the function's BTF FUNC.
    std::vector<std::string> names;
    std::vector<uint32_t> starts;
    for (const auto& f : first.func_info) {
        const BtfType* t = first.btf->type(f.type_id);
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->kind, BtfKind::Func);
        names.emplace_back(t->name);
        starts.push_back(f.insn);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"first", "loop_step", "triple_plus_one", "triple"}));
    std::vector<uint32_t> expected_starts{0};
    for (const auto& f : first.appended)
        expected_starts.push_back(f.insn);
    EXPECT_EQ(starts, expected_starts);
}

TEST(LineInfo, SourceLinesAreResolved) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    const Object object = load_test_object("loader_subprograms");
    const ProgramSpec& first = program_named(object, "first");
    ASSERT_FALSE(first.line_info.empty());
    for (size_t i = 1; i < first.line_info.size(); ++i) {
        EXPECT_LT(first.line_info[i - 1].insn, first.line_info[i].insn);
    }
    size_t numbered = 0;  // clang marks some compiler-made instructions line 0
    for (const auto& line : first.line_info) {
        EXPECT_TRUE(line.file.ends_with("loader_subprograms.c")) << line.file;
        if (line.line > 0) ++numbered;
    }
    EXPECT_GT(numbered, first.line_info.size() / 2);
    // The bpf_loop call and the appended callback's body are where the source says.
    bool saw_loop = false, saw_callback = false;
    for (const auto& line : first.line_info) {
        saw_loop |= contains(std::string(line.source), "bpf_loop(4, loop_step, &sum, 0);");
        saw_callback |= contains(std::string(line.source), "*(int *)data += index;");
    }
    EXPECT_TRUE(saw_loop);
    EXPECT_TRUE(saw_callback);
    // line_at: the record in force at an instruction.
    const uint32_t callback = first.appended.at(0).insn;
    const LineInfo* at = first.line_at(callback);
    ASSERT_NE(at, nullptr);
    EXPECT_TRUE(contains(std::string(at->source), "data += index")) << at->source;
    EXPECT_EQ(first.line_at(0)->insn, 0u);
}

TEST(CoRe, RelocationsAreKeptAsCompiled) {
    XBPF_REQUIRE_BPF_OBJECT("loader_core");
    const Object object = load_test_object("loader_core");
    const ProgramSpec& program = program_named(object, "read_parent_tgid");
    ASSERT_EQ(program.core_relocations.size(), 2u);
    ASSERT_NE(program.btf, nullptr);
    // BPF_CORE_READ(task, parent, tgid): the offset of `parent` (8), then of `tgid` (4).
    const CoreRelocation& parent = program.core_relocations[0];
    const CoreRelocation& tgid = program.core_relocations[1];
    EXPECT_EQ(parent.kind, CoreRelocationKind::FieldByteOffset);
    EXPECT_EQ(parent.access, "0:2");
    EXPECT_EQ(tgid.access, "0:1");
    EXPECT_EQ(program.btf->type_name(parent.type_id), "struct task_info");
    EXPECT_EQ(parent.resolution, CoreResolution::Local);
    // The instructions keep the offsets clang computed from the same BTF.
    EXPECT_EQ(program.insns.at(parent.insn).imm, 8);
    EXPECT_EQ(program.insns.at(tgid.insn).imm, 4);
}

TEST(SectionTypes, ProgramsTakeTheirSectionsType) {
    XBPF_REQUIRE_BPF_OBJECT("loader_section_types");
    const Object object = load_test_object("loader_section_types");
    struct Expected {
        const char* program;
        ProgType type;
        std::optional<AttachType> attach;
        const char* target;
    };
    const std::vector<Expected> expected = {
        {"on_write", ProgType::Kprobe, std::nullopt, "sys_write"},
        {"on_read_return", ProgType::Kprobe, std::nullopt, "sys_read"},
        {"on_readline", ProgType::Kprobe, std::nullopt, "bin/bash:readline"},
        {"on_open", ProgType::Tracepoint, std::nullopt, "syscalls/sys_enter_open"},
        {"on_switch", ProgType::Tracepoint, std::nullopt, "sched/sched_switch"},
        {"on_wakeup", ProgType::RawTracepoint, std::nullopt, "sched_wakeup"},
        {"on_rename", ProgType::RawTracepoint, std::nullopt, "task_rename"},
        {"on_fork", ProgType::Tracing, AttachType::TraceRawTp, "sched_process_fork"},
        {"on_connect", ProgType::Tracing, AttachType::TraceFentry, "tcp_connect"},
        {"on_close", ProgType::Tracing, AttachType::TraceFexit, "tcp_close"},
        {"on_open_sleepable", ProgType::Tracing, AttachType::TraceFentry, "do_sys_open"},
        {"on_file_open", ProgType::Lsm, AttachType::LsmMac, "file_open"},
        {"on_task", ProgType::Tracing, AttachType::TraceIter, "task"},
        {"on_xdp", ProgType::Xdp, AttachType::Xdp, ""},
        {"on_xdp_frags", ProgType::Xdp, AttachType::Xdp, ""},
        {"on_devmap", ProgType::Xdp, AttachType::XdpDevmap, ""},
        {"on_perf", ProgType::PerfEvent, std::nullopt, ""},
        {"on_tc", ProgType::SchedCls, std::nullopt, ""},
        {"on_tcx", ProgType::SchedCls, AttachType::TcxIngress, ""},
        {"on_classifier", ProgType::SchedCls, std::nullopt, ""},
        {"on_action", ProgType::SchedAct, std::nullopt, ""},
        {"on_cgroup_ingress", ProgType::CgroupSkb, AttachType::CgroupInetIngress, ""},
        {"on_cgroup_skb", ProgType::CgroupSkb, std::nullopt, ""},
        {"on_sock", ProgType::CgroupSock, AttachType::CgroupInetSockCreate, ""},
        {"on_connect4", ProgType::CgroupSockAddr, AttachType::CgroupInet4Connect, ""},
        {"on_sendmsg6", ProgType::CgroupSockAddr, AttachType::CgroupUdp6Sendmsg, ""},
        {"on_getsockopt", ProgType::CgroupSockopt, AttachType::CgroupGetsockopt, ""},
        {"on_sysctl", ProgType::CgroupSysctl, AttachType::CgroupSysctl, ""},
        {"on_dev", ProgType::CgroupDevice, AttachType::CgroupDevice, ""},
        {"on_sockops", ProgType::SockOps, AttachType::CgroupSockOps, ""},
        {"on_parse", ProgType::SkSkb, AttachType::SkSkbStreamParser, ""},
        {"on_msg", ProgType::SkMsg, AttachType::SkMsgVerdict, ""},
        {"on_lwt_in", ProgType::LwtIn, std::nullopt, ""},
        {"on_dissect", ProgType::FlowDissector, AttachType::FlowDissector, ""},
        {"on_syscall", ProgType::Syscall, std::nullopt, ""},
        {"on_lookup", ProgType::SkLookup, AttachType::SkLookup, ""},
        {"on_socket", ProgType::SocketFilter, std::nullopt, ""},
        {"on_legacy_socket", ProgType::SocketFilter, std::nullopt, ""},
        {"on_legacy_xdp", ProgType::Xdp, AttachType::Xdp, ""},
        {"on_unknown", ProgType::Unspec, std::nullopt, ""},
        {"on_numeric", ProgType::Unspec, std::nullopt, ""},
    };
    EXPECT_EQ(object.programs.size(), expected.size());
    for (const auto& e : expected) {
        const ProgramSpec& p = program_named(object, e.program);
        EXPECT_EQ(p.prog_type, e.type) << e.program << " (" << p.section << ")";
        EXPECT_EQ(p.expected_attach_type, e.attach) << e.program << " (" << p.section << ")";
        EXPECT_EQ(p.attach_target, e.target) << e.program;
    }
    EXPECT_TRUE(program_named(object, "on_open_sleepable").sleepable);
    EXPECT_FALSE(program_named(object, "on_connect").sleepable);
    EXPECT_TRUE(program_named(object, "on_syscall").sleepable);
}

TEST(SectionTypes, TableLookups) {
    const auto kprobe = program_type_for_section("kprobe/__x64_sys_write");
    EXPECT_EQ(kprobe.prog_type, ProgType::Kprobe);
    EXPECT_EQ(kprobe.attach_target, "__x64_sys_write");
    EXPECT_EQ(program_type_for_section("kprobe").prog_type, ProgType::Kprobe);
    EXPECT_EQ(program_type_for_section("kprobe.multi/tcp_*").expected_attach_type,
              AttachType::TraceKprobeMulti);
    EXPECT_EQ(program_type_for_section("uprobe.s/lib.so:f").sleepable, true);
    EXPECT_EQ(program_type_for_section("raw_tp.w/x").prog_type, ProgType::RawTracepointWritable);
    EXPECT_EQ(program_type_for_section("tc/egress").expected_attach_type, AttachType::TcxEgress);
    EXPECT_EQ(program_type_for_section("netkit/peer").expected_attach_type, AttachType::NetkitPeer);
    EXPECT_EQ(program_type_for_section("cgroup/connect_unix").expected_attach_type,
              AttachType::CgroupUnixConnect);
    EXPECT_EQ(program_type_for_section("cgroup/post_bind4").prog_type, ProgType::CgroupSock);
    EXPECT_EQ(program_type_for_section("sk_reuseport/migrate").expected_attach_type,
              AttachType::SkReuseportSelectOrMigrate);
    EXPECT_EQ(program_type_for_section("freplace/handler").prog_type, ProgType::Ext);
    EXPECT_EQ(program_type_for_section("struct_ops/dctcp_init").prog_type, ProgType::StructOps);
    EXPECT_EQ(program_type_for_section("netfilter").prog_type, ProgType::Netfilter);
    // "type" entries are exact: extras make the name unknown rather than something else.
    EXPECT_EQ(program_type_for_section("xdp/other").prog_type, ProgType::Xdp);  // legacy prefix
    EXPECT_EQ(program_type_for_section("tc/other").prog_type, ProgType::Unspec);
    EXPECT_EQ(program_type_for_section("syscall/x").prog_type, ProgType::Unspec);
    // Legacy prefixes seen in older objects.
    EXPECT_EQ(program_type_for_section("socket2").prog_type, ProgType::SocketFilter);
    EXPECT_EQ(program_type_for_section("xdp_redirect_map").prog_type, ProgType::Xdp);
    EXPECT_EQ(program_type_for_section("classifier_x").prog_type, ProgType::SchedCls);
    // Names that do not say.
    for (const char* name :
         {"2/1", "from-netdev", "filter", "loadbalancer", "tail-3", "", "bind", "test"}) {
        EXPECT_EQ(program_type_for_section(name).prog_type, ProgType::Unspec) << name;
    }
}

TEST(LinuxNames, BothDirections) {
    EXPECT_EQ(prog_type_name(ProgType::SocketFilter), "socket_filter");
    EXPECT_EQ(prog_type_name(ProgType::SchedCls), "sched_cls");
    EXPECT_EQ(prog_type_name(ProgType::CgroupSockAddr), "cgroup_sock_addr");
    EXPECT_EQ(prog_type_name(ProgType::SockOps), "sock_ops");
    EXPECT_EQ(prog_type_name(ProgType::Tracing), "tracing");
    EXPECT_EQ(prog_type_name(ProgType::Netfilter), "netfilter");
    EXPECT_EQ(prog_type_name(static_cast<ProgType>(999)), "");
    EXPECT_EQ(prog_type_from_name("xdp"), ProgType::Xdp);
    EXPECT_EQ(prog_type_from_name("raw_tracepoint_writable"), ProgType::RawTracepointWritable);
    EXPECT_EQ(prog_type_from_name("XDP"), std::nullopt);
    for (uint32_t id = 0; id <= static_cast<uint32_t>(ProgType::Netfilter); ++id) {
        const auto name = prog_type_name(static_cast<ProgType>(id));
        ASSERT_FALSE(name.empty()) << id;
        EXPECT_EQ(prog_type_from_name(name), static_cast<ProgType>(id));
    }

    EXPECT_EQ(map_type_name(MapType::Hash), "hash");
    EXPECT_EQ(map_type_name(MapType::PercpuHash), "percpu_hash");
    EXPECT_EQ(map_type_name(MapType::LruHash), "lru_hash");
    EXPECT_EQ(map_type_name(MapType::LpmTrie), "lpm_trie");
    EXPECT_EQ(map_type_name(MapType::Ringbuf), "ringbuf");
    EXPECT_EQ(map_type_name(MapType::BloomFilter), "bloom_filter");
    EXPECT_EQ(map_type_name(MapType::CgrpStorage), "cgrp_storage");
    EXPECT_EQ(map_type_from_name("prog_array"), MapType::ProgArray);
    for (uint32_t id = 0; id <= static_cast<uint32_t>(MapType::Arena); ++id) {
        EXPECT_EQ(map_type_from_name(map_type_name(static_cast<MapType>(id))),
                  static_cast<MapType>(id));
    }

    EXPECT_EQ(attach_type_name(AttachType::CgroupInetIngress), "cgroup_inet_ingress");
    EXPECT_EQ(attach_type_name(AttachType::TraceFentry), "trace_fentry");
    EXPECT_EQ(attach_type_name(AttachType::Xdp), "xdp");
    EXPECT_EQ(attach_type_name(AttachType::TcxIngress), "tcx_ingress");
    EXPECT_EQ(attach_type_name(AttachType::TraceUprobeSession), "trace_uprobe_session");
    EXPECT_EQ(attach_type_from_name("sk_msg_verdict"), AttachType::SkMsgVerdict);
    EXPECT_EQ(attach_type_from_name("nope"), std::nullopt);
    for (uint32_t id = 0; id <= static_cast<uint32_t>(AttachType::TraceUprobeSession); ++id) {
        EXPECT_EQ(attach_type_from_name(attach_type_name(static_cast<AttachType>(id))),
                  static_cast<AttachType>(id));
    }
}

TEST(SectionsCommand, ListsProgramsAndMaps) {
    XBPF_REQUIRE_BPF_OBJECT("loader_btf_maps");
    const std::string object = bpf_object_path("loader_btf_maps").string();
    auto json = run_xbpf({"sections", object, "-j"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto doc = nlohmann::json::parse(json.out);
    ASSERT_EQ(doc["programs"].size(), 1u);
    EXPECT_EQ(doc["programs"][0]["section"], "xdp");
    EXPECT_EQ(doc["programs"][0]["name"], "count_flows");
    EXPECT_EQ(doc["programs"][0]["type"], "xdp");
    EXPECT_EQ(doc["programs"][0]["attach_type"], "xdp");
    EXPECT_GT(doc["programs"][0]["instructions"].get<int>(), 10);
    ASSERT_EQ(doc["maps"].size(), 4u);
    EXPECT_EQ(doc["maps"][0], nlohmann::json::parse(R"({"name":"flows","type":"hash",
        "key_size":12,"value_size":32,"max_entries":1024,"flags":1})"));

    auto text = run_xbpf({"sections", object});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_TRUE(contains(text.out, "count_flows")) << text.out;
    EXPECT_TRUE(contains(text.out, "bloom_filter")) << text.out;

    auto missing = run_xbpf({"sections", "/nonexistent/x.o"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_TRUE(missing.err.starts_with("xbpf: /nonexistent/x.o: ")) << missing.err;

    TempDir dir;
    auto broken = run_xbpf({"sections", dir.write("broken.o",
                                                  "\x7f"
                                                  "ELF but not really")});
    EXPECT_EQ(broken.exit_code, 2);
    EXPECT_TRUE(contains(broken.err, "broken.o: ")) << broken.err;
}

}  // namespace
}  // namespace xbpf::test
