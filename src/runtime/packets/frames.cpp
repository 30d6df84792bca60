#include "runtime/packets/frames.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace xbpf::packets {
namespace {

constexpr uint16_t kEthP8023Min = 0x0600;  // ETH_P_802_3_MIN: below it the field is a length
enum PacketType : uint32_t { kHost = 0, kBroadcast = 1, kMulticast = 2, kOtherHost = 3 };

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

// cgroup_skb reads the socket Linux attaches to a packet: family and addresses from the IP
// header.
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

Error einval(std::string message) {
    return Error(fmt::format("EINVAL: {}", message));
}

}  // namespace

XdpFrame::XdpFrame(const ProgramType& type, TraceLog* trace) : buffer_(kPage, 0) {
    env_.type = &type;
    env_.context = &native_;
    env_.packet.hard_start = buffer_.data();
    env_.packet.hard_end = buffer_.data() + kPage - kTailroom;
    env_.trace = trace;
    regions_ = {
        MemoryRegion{reinterpret_cast<uintptr_t>(&native_), sizeof native_, false, "context"},
        MemoryRegion{reinterpret_cast<uintptr_t>(buffer_.data()), kPage - kTailroom, true,
                     "packet"}};
}

Status XdpFrame::load(std::span<const uint8_t> bytes, uint32_t metadata) {
    if (bytes.size() - metadata > kMaxFrame) {
        return einval(
            fmt::format("a {}-byte frame does not fit one {}-byte buffer (multi-buffer XDP is "
                        "not supported)",
                        bytes.size() - metadata, kMaxFrame));
    }
    native_ = {};
    native_.data_meta = buffer_.data() + kHeadroom - metadata;
    std::memcpy(native_.data_meta, bytes.data(), bytes.size());
    native_.data = native_.data_meta + metadata;
    native_.data_end = native_.data_meta + bytes.size();
    // Linux runs a test frame on the loopback's queue 0.
    native_.uapi.ingress_ifindex = kLoopbackIfindex;
    native_.uapi.rx_queue_index = 0;
    env_.redirect = {};
    return {};
}

SkbFrame::SkbFrame(const ProgramType& type, TraceLog* trace)
    : type_(type), buffer_(kHeadroom + kMaxFrame, 0) {
    env_.type = &type;
    env_.context = &native_;
    env_.packet.hard_start = buffer_.data();
    env_.packet.hard_end = buffer_.data() + buffer_.size();
    env_.trace = trace;
    const bool tc = type.id == BPF_PROG_TYPE_SCHED_CLS || type.id == BPF_PROG_TYPE_SCHED_ACT;
    hidden_ = tc ? 0 : kEthernetHeader;
}

Status SkbFrame::load(std::span<const uint8_t> bytes, const __sk_buff& in) {
    const size_t size = bytes.size();
    if (size < kEthernetHeader || size > kMaxFrame) {
        return einval(fmt::format("a packet has from {} to {} bytes, not {}", kEthernetHeader,
                                  kMaxFrame, size));
    }
    uint8_t* frame = buffer_.data() + kHeadroom;
    std::memcpy(frame, bytes.data(), size);
    const auto proto_be = static_cast<uint16_t>(frame[12] << 8 | frame[13]);

    native_ = {};
    __sk_buff& s = native_.uapi;
    native_.data = frame + hidden_;
    native_.data_end = frame + size;
    native_.data_meta = native_.data;
    s.len = static_cast<uint32_t>(size - hidden_);
    s.pkt_type = packet_type(frame);
    s.mark = in.mark;
    s.priority = in.priority;
    s.ingress_ifindex = in.ingress_ifindex;
    s.ifindex = kLoopbackIfindex;
    std::memcpy(s.cb, in.cb, sizeof s.cb);
    // skb->protocol is big-endian; the 32-bit field holds its bytes as they are in the frame.
    // 802.3 frames (a length, not a type) carry ETH_P_802_3 (0x0001).
    const uint16_t proto = proto_be >= kEthP8023Min ? proto_be : 0x0001;
    s.protocol = static_cast<uint16_t>((proto >> 8) | (proto << 8));
    s.tstamp = in.tstamp;
    s.wire_len = in.wire_len != 0 ? in.wire_len : s.len;
    s.gso_segs = in.gso_segs;
    s.gso_size = in.gso_size;
    s.hwtstamp = in.hwtstamp;
    if (type_.id == BPF_PROG_TYPE_CGROUP_SKB) {
        fill_socket_fields(s, proto, frame + kEthernetHeader, size - kEthernetHeader);
    }
    env_.packet.mac_header = frame;
    env_.packet.network_header = frame + kEthernetHeader;
    env_.redirect = {};
    regions_ = {
        MemoryRegion{reinterpret_cast<uintptr_t>(&native_), sizeof native_, true, "context"},
        MemoryRegion{reinterpret_cast<uintptr_t>(frame), size, true, "packet"}};
    return {};
}

}  // namespace xbpf::packets
