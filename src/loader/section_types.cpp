// Section name -> program type and expected attach type.
//
// The first table follows libbpf's documented table of program types and ELF section names
// (docs.kernel.org/bpf/libbpf/program_types.html): a name matches an entry exactly, or, for
// entries that take extras ("kprobe+"), as "<prefix>/<extras>", the extras being the attach
// target. Names that match nothing there are tried against the plain prefixes older loaders
// (libbpf before 1.0, samples/bpf's bpf_load, iproute2) accepted, so that `socket1`, `xdp_fwd`
// or `kprobe_x` keep their historical meaning. Anything else (Cilium's `2/1`, `from-netdev`,
// Suricata's `filter` ...) gives Unspec: the caller has to say what the program is.
#include <array>
#include <optional>
#include <string_view>

#include "xbpf/object.hpp"

namespace xbpf {

namespace {

enum class Match : uint8_t {
    Exact,       // the whole name
    WithExtras,  // the name, or the name followed by '/' and an attach target
};

struct SectionRule {
    std::string_view prefix;
    Match match;
    ProgType prog_type;
    std::optional<AttachType> attach_type;
    bool sleepable = false;
};

using P = ProgType;
using A = AttachType;
constexpr std::optional<AttachType> kNone;  // the program type has a single hook

// Longer prefixes come before the shorter ones they start with ("xdp.frags/cpumap" before
// "xdp.frags", "raw_tp.w" before "raw_tp"); the first rule that matches wins.
constexpr std::array kRules = {
    SectionRule{"socket", Match::Exact, P::SocketFilter, kNone},
    SectionRule{"sk_reuseport/migrate", Match::Exact, P::SkReuseport,
                A::SkReuseportSelectOrMigrate},
    SectionRule{"sk_reuseport", Match::Exact, P::SkReuseport, A::SkReuseportSelect},
    SectionRule{"kprobe.multi", Match::WithExtras, P::Kprobe, A::TraceKprobeMulti},
    SectionRule{"kretprobe.multi", Match::WithExtras, P::Kprobe, A::TraceKprobeMulti},
    SectionRule{"kprobe.session", Match::WithExtras, P::Kprobe, A::TraceKprobeSession},
    SectionRule{"uprobe.multi.s", Match::WithExtras, P::Kprobe, A::TraceUprobeMulti, true},
    SectionRule{"uretprobe.multi.s", Match::WithExtras, P::Kprobe, A::TraceUprobeMulti, true},
    SectionRule{"uprobe.multi", Match::WithExtras, P::Kprobe, A::TraceUprobeMulti},
    SectionRule{"uretprobe.multi", Match::WithExtras, P::Kprobe, A::TraceUprobeMulti},
    SectionRule{"uprobe.session.s", Match::WithExtras, P::Kprobe, A::TraceUprobeSession, true},
    SectionRule{"uprobe.session", Match::WithExtras, P::Kprobe, A::TraceUprobeSession},
    SectionRule{"kprobe", Match::WithExtras, P::Kprobe, kNone},
    SectionRule{"kretprobe", Match::WithExtras, P::Kprobe, kNone},
    SectionRule{"ksyscall", Match::WithExtras, P::Kprobe, kNone},
    SectionRule{"kretsyscall", Match::WithExtras, P::Kprobe, kNone},
    SectionRule{"uprobe.s", Match::WithExtras, P::Kprobe, kNone, true},
    SectionRule{"uretprobe.s", Match::WithExtras, P::Kprobe, kNone, true},
    SectionRule{"uprobe", Match::WithExtras, P::Kprobe, kNone},
    SectionRule{"uretprobe", Match::WithExtras, P::Kprobe, kNone},
    SectionRule{"usdt", Match::WithExtras, P::Kprobe, kNone},
    SectionRule{"tc/ingress", Match::Exact, P::SchedCls, A::TcxIngress},
    SectionRule{"tc/egress", Match::Exact, P::SchedCls, A::TcxEgress},
    SectionRule{"tcx/ingress", Match::Exact, P::SchedCls, A::TcxIngress},
    SectionRule{"tcx/egress", Match::Exact, P::SchedCls, A::TcxEgress},
    SectionRule{"netkit/primary", Match::Exact, P::SchedCls, A::NetkitPrimary},
    SectionRule{"netkit/peer", Match::Exact, P::SchedCls, A::NetkitPeer},
    SectionRule{"tc", Match::Exact, P::SchedCls, kNone},
    SectionRule{"classifier", Match::Exact, P::SchedCls, kNone},
    SectionRule{"action", Match::Exact, P::SchedAct, kNone},
    SectionRule{"tracepoint", Match::WithExtras, P::Tracepoint, kNone},
    SectionRule{"tp", Match::WithExtras, P::Tracepoint, kNone},
    SectionRule{"raw_tracepoint.w", Match::WithExtras, P::RawTracepointWritable, kNone},
    SectionRule{"raw_tp.w", Match::WithExtras, P::RawTracepointWritable, kNone},
    SectionRule{"raw_tracepoint", Match::WithExtras, P::RawTracepoint, kNone},
    SectionRule{"raw_tp", Match::WithExtras, P::RawTracepoint, kNone},
    SectionRule{"tp_btf", Match::WithExtras, P::Tracing, A::TraceRawTp},
    SectionRule{"fentry.s", Match::WithExtras, P::Tracing, A::TraceFentry, true},
    SectionRule{"fentry", Match::WithExtras, P::Tracing, A::TraceFentry},
    SectionRule{"fmod_ret.s", Match::WithExtras, P::Tracing, A::ModifyReturn, true},
    SectionRule{"fmod_ret", Match::WithExtras, P::Tracing, A::ModifyReturn},
    SectionRule{"fexit.s", Match::WithExtras, P::Tracing, A::TraceFexit, true},
    SectionRule{"fexit", Match::WithExtras, P::Tracing, A::TraceFexit},
    SectionRule{"freplace", Match::WithExtras, P::Ext, kNone},
    SectionRule{"lsm_cgroup", Match::WithExtras, P::Lsm, A::LsmCgroup},
    SectionRule{"lsm.s", Match::WithExtras, P::Lsm, A::LsmMac, true},
    SectionRule{"lsm", Match::WithExtras, P::Lsm, A::LsmMac},
    SectionRule{"iter.s", Match::WithExtras, P::Tracing, A::TraceIter, true},
    SectionRule{"iter", Match::WithExtras, P::Tracing, A::TraceIter},
    SectionRule{"syscall", Match::Exact, P::Syscall, kNone, true},
    SectionRule{"xdp.frags/devmap", Match::Exact, P::Xdp, A::XdpDevmap},
    SectionRule{"xdp/devmap", Match::Exact, P::Xdp, A::XdpDevmap},
    SectionRule{"xdp.frags/cpumap", Match::Exact, P::Xdp, A::XdpCpumap},
    SectionRule{"xdp/cpumap", Match::Exact, P::Xdp, A::XdpCpumap},
    SectionRule{"xdp.frags", Match::Exact, P::Xdp, A::Xdp},
    SectionRule{"xdp", Match::Exact, P::Xdp, A::Xdp},
    SectionRule{"perf_event", Match::Exact, P::PerfEvent, kNone},
    SectionRule{"lwt_in", Match::Exact, P::LwtIn, kNone},
    SectionRule{"lwt_out", Match::Exact, P::LwtOut, kNone},
    SectionRule{"lwt_xmit", Match::Exact, P::LwtXmit, kNone},
    SectionRule{"lwt_seg6local", Match::Exact, P::LwtSeg6local, kNone},
    SectionRule{"sockops", Match::Exact, P::SockOps, A::CgroupSockOps},
    SectionRule{"sk_skb/stream_parser", Match::Exact, P::SkSkb, A::SkSkbStreamParser},
    SectionRule{"sk_skb/stream_verdict", Match::Exact, P::SkSkb, A::SkSkbStreamVerdict},
    SectionRule{"sk_skb/verdict", Match::Exact, P::SkSkb, A::SkSkbVerdict},
    SectionRule{"sk_skb", Match::Exact, P::SkSkb, kNone},
    SectionRule{"sk_msg", Match::Exact, P::SkMsg, A::SkMsgVerdict},
    SectionRule{"lirc_mode2", Match::Exact, P::LircMode2, A::LircMode2},
    SectionRule{"flow_dissector", Match::Exact, P::FlowDissector, A::FlowDissector},
    SectionRule{"cgroup_skb/ingress", Match::Exact, P::CgroupSkb, A::CgroupInetIngress},
    SectionRule{"cgroup_skb/egress", Match::Exact, P::CgroupSkb, A::CgroupInetEgress},
    SectionRule{"cgroup/skb", Match::Exact, P::CgroupSkb, kNone},
    SectionRule{"cgroup/sock_create", Match::Exact, P::CgroupSock, A::CgroupInetSockCreate},
    SectionRule{"cgroup/sock_release", Match::Exact, P::CgroupSock, A::CgroupInetSockRelease},
    SectionRule{"cgroup/sock", Match::Exact, P::CgroupSock, A::CgroupInetSockCreate},
    SectionRule{"cgroup/post_bind4", Match::Exact, P::CgroupSock, A::CgroupInet4PostBind},
    SectionRule{"cgroup/post_bind6", Match::Exact, P::CgroupSock, A::CgroupInet6PostBind},
    SectionRule{"cgroup/bind4", Match::Exact, P::CgroupSockAddr, A::CgroupInet4Bind},
    SectionRule{"cgroup/bind6", Match::Exact, P::CgroupSockAddr, A::CgroupInet6Bind},
    SectionRule{"cgroup/connect4", Match::Exact, P::CgroupSockAddr, A::CgroupInet4Connect},
    SectionRule{"cgroup/connect6", Match::Exact, P::CgroupSockAddr, A::CgroupInet6Connect},
    SectionRule{"cgroup/connect_unix", Match::Exact, P::CgroupSockAddr, A::CgroupUnixConnect},
    SectionRule{"cgroup/sendmsg4", Match::Exact, P::CgroupSockAddr, A::CgroupUdp4Sendmsg},
    SectionRule{"cgroup/sendmsg6", Match::Exact, P::CgroupSockAddr, A::CgroupUdp6Sendmsg},
    SectionRule{"cgroup/sendmsg_unix", Match::Exact, P::CgroupSockAddr, A::CgroupUnixSendmsg},
    SectionRule{"cgroup/recvmsg4", Match::Exact, P::CgroupSockAddr, A::CgroupUdp4Recvmsg},
    SectionRule{"cgroup/recvmsg6", Match::Exact, P::CgroupSockAddr, A::CgroupUdp6Recvmsg},
    SectionRule{"cgroup/recvmsg_unix", Match::Exact, P::CgroupSockAddr, A::CgroupUnixRecvmsg},
    SectionRule{"cgroup/getpeername4", Match::Exact, P::CgroupSockAddr, A::CgroupInet4Getpeername},
    SectionRule{"cgroup/getpeername6", Match::Exact, P::CgroupSockAddr, A::CgroupInet6Getpeername},
    SectionRule{"cgroup/getpeername_unix", Match::Exact, P::CgroupSockAddr,
                A::CgroupUnixGetpeername},
    SectionRule{"cgroup/getsockname4", Match::Exact, P::CgroupSockAddr, A::CgroupInet4Getsockname},
    SectionRule{"cgroup/getsockname6", Match::Exact, P::CgroupSockAddr, A::CgroupInet6Getsockname},
    SectionRule{"cgroup/getsockname_unix", Match::Exact, P::CgroupSockAddr,
                A::CgroupUnixGetsockname},
    SectionRule{"cgroup/sysctl", Match::Exact, P::CgroupSysctl, A::CgroupSysctl},
    SectionRule{"cgroup/getsockopt", Match::Exact, P::CgroupSockopt, A::CgroupGetsockopt},
    SectionRule{"cgroup/setsockopt", Match::Exact, P::CgroupSockopt, A::CgroupSetsockopt},
    SectionRule{"cgroup/dev", Match::Exact, P::CgroupDevice, A::CgroupDevice},
    SectionRule{"struct_ops.s", Match::WithExtras, P::StructOps, kNone, true},
    SectionRule{"struct_ops", Match::WithExtras, P::StructOps, kNone},
    SectionRule{"sk_lookup", Match::Exact, P::SkLookup, A::SkLookup},
    SectionRule{"netfilter", Match::Exact, P::Netfilter, A::Netfilter},
};

// Plain prefixes of loaders before libbpf 1.0: any name starting with one of these. Ordered
// longest first where one prefix starts another.
constexpr std::array kLegacyRules = {
    SectionRule{"socket", Match::Exact, P::SocketFilter, kNone},
    SectionRule{"kretprobe", Match::Exact, P::Kprobe, kNone},
    SectionRule{"kprobe", Match::Exact, P::Kprobe, kNone},
    SectionRule{"uretprobe", Match::Exact, P::Kprobe, kNone},
    SectionRule{"uprobe", Match::Exact, P::Kprobe, kNone},
    SectionRule{"tracepoint", Match::Exact, P::Tracepoint, kNone},
    SectionRule{"raw_tracepoint", Match::Exact, P::RawTracepoint, kNone},
    SectionRule{"xdp", Match::Exact, P::Xdp, A::Xdp},
    SectionRule{"perf_event", Match::Exact, P::PerfEvent, kNone},
    SectionRule{"classifier", Match::Exact, P::SchedCls, kNone},
    SectionRule{"action", Match::Exact, P::SchedAct, kNone},
    SectionRule{"sockops", Match::Exact, P::SockOps, A::CgroupSockOps},
    SectionRule{"sk_skb", Match::Exact, P::SkSkb, kNone},
    SectionRule{"sk_msg", Match::Exact, P::SkMsg, A::SkMsgVerdict},
    SectionRule{"cgroup/skb", Match::Exact, P::CgroupSkb, kNone},
    SectionRule{"cgroup/sock", Match::Exact, P::CgroupSock, A::CgroupInetSockCreate},
    SectionRule{"lwt_in", Match::Exact, P::LwtIn, kNone},
    SectionRule{"lwt_out", Match::Exact, P::LwtOut, kNone},
    SectionRule{"lwt_xmit", Match::Exact, P::LwtXmit, kNone},
};

SectionProgramType from_rule(const SectionRule& rule, std::string_view target) {
    SectionProgramType out;
    out.prog_type = rule.prog_type;
    out.expected_attach_type = rule.attach_type;
    out.attach_target = std::string(target);
    out.sleepable = rule.sleepable;
    return out;
}

}  // namespace

SectionProgramType program_type_for_section(std::string_view section) {
    for (const auto& rule : kRules) {
        if (section == rule.prefix) return from_rule(rule, {});
        if (rule.match == Match::WithExtras && section.size() > rule.prefix.size() + 1 &&
            section.starts_with(rule.prefix) && section[rule.prefix.size()] == '/') {
            return from_rule(rule, section.substr(rule.prefix.size() + 1));
        }
    }
    for (const auto& rule : kLegacyRules) {
        if (section.starts_with(rule.prefix)) {
            std::string_view rest = section.substr(rule.prefix.size());
            // "kprobe/x" was handled above; "kprobe_x" style names keep no target.
            return from_rule(rule, rest.starts_with('/') ? rest.substr(1) : std::string_view());
        }
    }
    return {};
}

}  // namespace xbpf
