// BPF_PROG_RUN for the __sk_buff types: the frame becomes a socket buffer on the loopback
// interface, with the fields Linux derives from it (len, protocol, pkt_type) and the ones
// ctx_in may set. tc programs see it from the Ethernet header; socket filters and cgroup
// programs from the network header.
#include <fmt/format.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cstring>

#include "runtime/progtypes/native_contexts.hpp"
#include "runtime/test_run/run_loop.hpp"

namespace xbpf::test_run_detail {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr size_t kHeadroom = 64;  // NET_SKB_PAD
constexpr size_t kMaxFrame = 4096 - kHeadroom - 320;
constexpr uint32_t kLoopbackIfindex = 1;
constexpr uint32_t kMaxGsoSegs = 65535;    // GSO_MAX_SEGS
constexpr uint32_t kMaxGsoSize = 65536;    // GSO_MAX_SIZE (for wire_len)
constexpr uint16_t kEthP8023Min = 0x0600;  // ETH_P_802_3_MIN
enum PacketType : uint32_t { kHost = 0, kBroadcast = 1, kMulticast = 2, kOtherHost = 3 };

bool zero(const __sk_buff& s, size_t from, size_t to) {
    const auto* b = reinterpret_cast<const uint8_t*>(&s);
    return std::all_of(b + from, b + to, [](uint8_t x) { return x == 0; });
}

// The fields of ctx_in Linux lets a test run set; every other byte must be zero.
Status check_skb_context(const __sk_buff& s) {
    struct Range {
        size_t from, to;
    };
    const Range must_be_zero[] = {
        {0, offsetof(__sk_buff, mark)},
        {offsetof(__sk_buff, mark) + 4, offsetof(__sk_buff, priority)},
        {offsetof(__sk_buff, ifindex) + 4, offsetof(__sk_buff, cb)},
        {offsetof(__sk_buff, cb) + sizeof s.cb, offsetof(__sk_buff, tstamp)},
        {offsetof(__sk_buff, gso_segs) + 4, offsetof(__sk_buff, gso_size)},
        {offsetof(__sk_buff, gso_size) + 4, offsetof(__sk_buff, hwtstamp)},
        {offsetof(__sk_buff, hwtstamp) + 8, sizeof s},
    };
    for (const auto& r : must_be_zero) {
        if (!zero(s, r.from, r.to)) {
            return test_run_detail::linux_error(
                "EINVAL", fmt::format("ctx_in sets bytes {}..{} of struct __sk_buff; a test run "
                                      "may set only mark, priority, ingress_ifindex, ifindex, "
                                      "cb, tstamp, wire_len, gso_segs, gso_size and hwtstamp",
                                      r.from, r.to - 1));
        }
    }
    if (s.gso_segs > kMaxGsoSegs)
        return test_run_detail::linux_error("EINVAL", "ctx_in.gso_segs exceeds GSO_MAX_SEGS");
    return {};
}

uint32_t packet_type(const uint8_t* dest_mac) {
    if ((dest_mac[0] & 1) != 0) {
        return std::all_of(dest_mac, dest_mac + 6, [](uint8_t b) { return b == 0xff; })
                   ? kBroadcast
                   : kMulticast;
    }
    // The loopback's address is all zeros.
    return std::all_of(dest_mac, dest_mac + 6, [](uint8_t b) { return b == 0; }) ? kHost
                                                                                 : kOtherHost;
}

// cgroup_skb reads the socket Linux attaches to a test packet: its family and addresses come
// from the IP header.
void fill_socket_fields(__sk_buff& s, uint16_t proto, const uint8_t* l3, size_t l3_len) {
    if (proto == 0x0800) {
        s.family = 2;  // AF_INET
        if (l3_len >= 20) {
            std::memcpy(&s.local_ip4, l3 + 12, 4);
            std::memcpy(&s.remote_ip4, l3 + 16, 4);
        }
    } else if (proto == 0x86dd) {
        s.family = 10;  // AF_INET6
        if (l3_len >= 40) {
            std::memcpy(s.local_ip6, l3 + 8, 16);
            std::memcpy(s.remote_ip6, l3 + 24, 16);
        }
    }
}

}  // namespace

Result<TestRunResult> run_skb(const Executable& program, const ProgramType& type,
                              const TestRunOptions& options) {
    const size_t size = options.data_in.size();
    if (size < kEthernetHeader || size > kMaxFrame) {
        return linux_error("EINVAL", fmt::format("data_in has {} bytes; a test packet has from "
                                                 "{} to {}",
                                                 size, kEthernetHeader, kMaxFrame));
    }
    auto ctx_bytes = context_from(options.ctx_in, sizeof(__sk_buff));
    if (!ctx_bytes) return std::move(ctx_bytes).error();
    __sk_buff in;
    std::memcpy(&in, ctx_bytes->data(), sizeof in);
    if (auto s = check_skb_context(in); !s) return std::move(s).error();
    if (in.ifindex != 0 && in.ifindex != kLoopbackIfindex) {
        return linux_error("ENODEV", fmt::format("no interface with ifindex {} (xbpf has only "
                                                 "the loopback, 1)",
                                                 in.ifindex));
    }
    const bool is_l2 = type.id == BPF_PROG_TYPE_SCHED_CLS || type.id == BPF_PROG_TYPE_SCHED_ACT;
    const size_t l2_len = is_l2 ? 0 : kEthernetHeader;  // bytes before skb->data
    if (in.wire_len != 0 && (in.wire_len < size - l2_len || in.wire_len > kMaxGsoSize))
        return linux_error("EINVAL", "ctx_in.wire_len is shorter than the packet or too long");

    std::vector<uint8_t> buffer(kHeadroom + kMaxFrame, 0);
    uint8_t* frame = buffer.data() + kHeadroom;
    std::memcpy(frame, options.data_in.data(), size);
    const uint16_t proto_be = static_cast<uint16_t>(frame[12] << 8 | frame[13]);

    progtypes::NativeSkb native{};
    __sk_buff& s = native.uapi;
    native.data = frame + l2_len;
    native.data_end = frame + size;
    native.data_meta = native.data;
    s.len = static_cast<uint32_t>(size - l2_len);
    s.pkt_type = packet_type(frame);
    s.mark = in.mark;
    s.priority = in.priority;
    s.ingress_ifindex = in.ingress_ifindex;
    s.ifindex = kLoopbackIfindex;
    std::memcpy(s.cb, in.cb, sizeof s.cb);
    // skb->protocol is big-endian; the 32-bit field holds its bytes as they are in the frame.
    // 802.3 frames (a length, not a type) carry ETH_P_802_3 (0x0001).
    const uint16_t proto = proto_be >= kEthP8023Min ? proto_be : 0x0001;
    s.protocol = static_cast<uint32_t>(static_cast<uint16_t>((proto >> 8) | (proto << 8)));
    s.tstamp = in.tstamp;
    s.wire_len = in.wire_len != 0 ? in.wire_len : s.len;
    s.gso_segs = in.gso_segs;
    s.gso_size = in.gso_size;
    s.hwtstamp = in.hwtstamp;
    if (type.id == BPF_PROG_TYPE_CGROUP_SKB)
        fill_socket_fields(s, proto, frame + kEthernetHeader, size - kEthernetHeader);

    helpers::RunEnvironment env;
    env.type = &type;
    env.context = &native;
    env.packet.hard_start = buffer.data();
    env.packet.hard_end = buffer.data() + buffer.size();
    env.packet.mac_header = frame;
    env.packet.network_header = frame + kEthernetHeader;
    env.trace = options.trace;
    const MemoryRegion regions[] = {
        {reinterpret_cast<uintptr_t>(&native), sizeof native, true, "context"},
        {reinterpret_cast<uintptr_t>(frame), size, true, "packet"},
    };
    auto loop = run_repeatedly(program, env, &native, regions, options, native.data,
                               static_cast<size_t>(native.data_end - native.data));
    if (!loop) return std::move(loop).error();

    TestRunResult result;
    result.retval = static_cast<uint32_t>(loop->retval);
    result.duration_ns = loop->duration_ns;
    // Linux hands back the frame from the Ethernet header; for programs that saw it from the
    // network header, the Ethernet header comes back zeroed.
    result.data_out.assign(l2_len, 0);
    result.data_out.insert(result.data_out.end(), native.data, native.data_end);
    __sk_buff out{};
    out.mark = s.mark;
    out.priority = s.priority;
    out.ingress_ifindex = s.ingress_ifindex;
    out.ifindex = s.ifindex;
    out.tstamp = s.tstamp;
    std::memcpy(out.cb, s.cb, sizeof out.cb);
    out.wire_len = s.wire_len;
    out.gso_segs = s.gso_segs;
    out.gso_size = s.gso_size;
    out.hwtstamp = s.hwtstamp;
    result.ctx_out.resize(sizeof out);
    std::memcpy(result.ctx_out.data(), &out, sizeof out);
    result.redirected = env.redirect.set;
    result.redirect_ifindex = env.redirect.ifindex;
    return result;
}

}  // namespace xbpf::test_run_detail
