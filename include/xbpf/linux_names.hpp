// Linux's program types and attach types, and the names bpftool gives them and the map types.
//
// The ids are Linux's uapi values (`enum bpf_prog_type`, `enum bpf_attach_type`,
// `enum bpf_map_type`), so an id means the same thing here and in the kernel. The names are
// bpftool's spelling (the enum name, lower case, without its prefix: "sched_cls", "xdp",
// "lru_hash", "cgroup_inet_ingress"): what a user types (`--type xdp`) and what JSON output
// prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "xbpf/map_spec.hpp"

namespace xbpf {

// Linux's enum bpf_prog_type, value for value.
enum class ProgType : uint32_t {
    Unspec = 0,
    SocketFilter = 1,
    Kprobe = 2,
    SchedCls = 3,
    SchedAct = 4,
    Tracepoint = 5,
    Xdp = 6,
    PerfEvent = 7,
    CgroupSkb = 8,
    CgroupSock = 9,
    LwtIn = 10,
    LwtOut = 11,
    LwtXmit = 12,
    SockOps = 13,
    SkSkb = 14,
    CgroupDevice = 15,
    SkMsg = 16,
    RawTracepoint = 17,
    CgroupSockAddr = 18,
    LwtSeg6local = 19,
    LircMode2 = 20,
    SkReuseport = 21,
    FlowDissector = 22,
    CgroupSysctl = 23,
    RawTracepointWritable = 24,
    CgroupSockopt = 25,
    Tracing = 26,
    StructOps = 27,
    Ext = 28,
    Lsm = 29,
    SkLookup = 30,
    Syscall = 31,
    Netfilter = 32,
};

// Linux's enum bpf_attach_type, value for value. Value 0 doubles as "none": programs whose
// type has a single hook leave the expected attach type at 0.
enum class AttachType : uint32_t {
    CgroupInetIngress = 0,
    CgroupInetEgress = 1,
    CgroupInetSockCreate = 2,
    CgroupSockOps = 3,
    SkSkbStreamParser = 4,
    SkSkbStreamVerdict = 5,
    CgroupDevice = 6,
    SkMsgVerdict = 7,
    CgroupInet4Bind = 8,
    CgroupInet6Bind = 9,
    CgroupInet4Connect = 10,
    CgroupInet6Connect = 11,
    CgroupInet4PostBind = 12,
    CgroupInet6PostBind = 13,
    CgroupUdp4Sendmsg = 14,
    CgroupUdp6Sendmsg = 15,
    LircMode2 = 16,
    FlowDissector = 17,
    CgroupSysctl = 18,
    CgroupUdp4Recvmsg = 19,
    CgroupUdp6Recvmsg = 20,
    CgroupGetsockopt = 21,
    CgroupSetsockopt = 22,
    TraceRawTp = 23,
    TraceFentry = 24,
    TraceFexit = 25,
    ModifyReturn = 26,
    LsmMac = 27,
    TraceIter = 28,
    CgroupInet4Getpeername = 29,
    CgroupInet6Getpeername = 30,
    CgroupInet4Getsockname = 31,
    CgroupInet6Getsockname = 32,
    XdpDevmap = 33,
    CgroupInetSockRelease = 34,
    XdpCpumap = 35,
    SkLookup = 36,
    Xdp = 37,
    SkSkbVerdict = 38,
    SkReuseportSelect = 39,
    SkReuseportSelectOrMigrate = 40,
    PerfEvent = 41,
    TraceKprobeMulti = 42,
    LsmCgroup = 43,
    StructOps = 44,
    Netfilter = 45,
    TcxIngress = 46,
    TcxEgress = 47,
    TraceUprobeMulti = 48,
    CgroupUnixConnect = 49,
    CgroupUnixSendmsg = 50,
    CgroupUnixRecvmsg = 51,
    CgroupUnixGetpeername = 52,
    CgroupUnixGetsockname = 53,
    NetkitPrimary = 54,
    NetkitPeer = 55,
    TraceKprobeSession = 56,
    TraceUprobeSession = 57,
};

// bpftool's name of a program type ("socket_filter", "sched_cls", "xdp", "tracing"), or an
// empty view for an id Linux does not define.
std::string_view prog_type_name(ProgType type);
// The program type a bpftool name stands for; nullopt for an unknown name.
std::optional<ProgType> prog_type_from_name(std::string_view name);

// bpftool's name of an attach type ("cgroup_inet_ingress", "xdp", "trace_fentry"), or an empty
// view for an unknown id.
std::string_view attach_type_name(AttachType type);
std::optional<AttachType> attach_type_from_name(std::string_view name);

// bpftool's name of a map type ("hash", "array", "prog_array", "lru_hash", "ringbuf"), or an
// empty view for an unknown id.
std::string_view map_type_name(MapType type);
std::optional<MapType> map_type_from_name(std::string_view name);

}  // namespace xbpf
