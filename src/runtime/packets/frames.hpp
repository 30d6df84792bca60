// Packets as programs receive them (internal): an XDP frame laid out like Linux's xdp_buff, and
// a socket buffer for the __sk_buff types. The test run (BPF_PROG_RUN) and the capture replay
// of `xbpf run` both build their packets here, so a program sees the same thing in both.
#pragma once

#include <linux/bpf.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/helpers/run_environment.hpp"
#include "runtime/progtypes/native_contexts.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/error.hpp"

namespace xbpf::packets {

inline constexpr size_t kEthernetHeader = 14;
inline constexpr uint32_t kLoopbackIfindex = 1;

// An XDP frame in a page: XDP_PACKET_HEADROOM (256) bytes of headroom before it and room for
// struct skb_shared_info after it, as Linux lays out an xdp_buff, so xdp_adjust_head/tail/meta
// move within the same bounds they have in Linux.
class XdpFrame {
  public:
    static constexpr size_t kPage = 4096;
    static constexpr size_t kHeadroom = XDP_PACKET_HEADROOM;
    static constexpr size_t kTailroom = 320;  // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
    static constexpr size_t kMaxFrame = kPage - kHeadroom - kTailroom;

    XdpFrame(const ProgramType& type, TraceLog* trace);
    XdpFrame(const XdpFrame&) = delete;
    XdpFrame& operator=(const XdpFrame&) = delete;

    // Places `bytes` in the buffer, the first `metadata` of them as metadata before the frame,
    // received on the loopback's queue 0. Fails (EINVAL) when the frame does not fit one buffer
    // (multi-buffer XDP is not supported).
    Status load(std::span<const uint8_t> bytes, uint32_t metadata = 0);

    progtypes::NativeXdp& context() { return native_; }
    helpers::RunEnvironment& environment() { return env_; }
    // What a checked run may touch: the context (read-only) and the whole packet buffer.
    std::span<const MemoryRegion> regions() const { return regions_; }
    // The frame as it is now (after any adjustments), without and with its metadata.
    std::span<const uint8_t> frame() const { return {native_.data, native_.data_end}; }
    std::span<const uint8_t> frame_with_metadata() const {
        return {native_.data_meta, native_.data_end};
    }

  private:
    std::vector<uint8_t> buffer_;
    progtypes::NativeXdp native_{};
    helpers::RunEnvironment env_;
    std::array<MemoryRegion, 2> regions_;
};

// A socket buffer on the loopback interface for the __sk_buff types: tc programs (sched_cls,
// sched_act) see it from the Ethernet header, socket filters and cgroup programs from the
// network header. len, protocol and pkt_type are derived from the frame as Linux derives them.
class SkbFrame {
  public:
    static constexpr size_t kHeadroom = 64;  // NET_SKB_PAD
    static constexpr size_t kMaxFrame = 4096 - kHeadroom - 320;

    SkbFrame(const ProgramType& type, TraceLog* trace);
    SkbFrame(const SkbFrame&) = delete;
    SkbFrame& operator=(const SkbFrame&) = delete;

    // Places an Ethernet frame in the buffer and fills the context from it; `fields` supplies
    // what the caller may set (mark, priority, ingress_ifindex, cb, tstamp, wire_len, gso_segs,
    // gso_size, hwtstamp). Fails (EINVAL) for a frame shorter than an Ethernet header or
    // longer than one buffer.
    Status load(std::span<const uint8_t> bytes, const __sk_buff& fields = {});

    progtypes::NativeSkb& context() { return native_; }
    helpers::RunEnvironment& environment() { return env_; }
    std::span<const MemoryRegion> regions() const { return regions_; }
    // Bytes before skb->data that the program does not see (14 for non-tc types).
    size_t hidden_header() const { return hidden_; }
    // The packet as the program sees it (from skb->data), and the whole frame from the
    // Ethernet header (the hidden header as the buffer holds it).
    std::span<const uint8_t> packet() const { return {native_.data, native_.data_end}; }
    std::span<const uint8_t> frame() const { return {native_.data - hidden_, native_.data_end}; }

  private:
    const ProgramType& type_;
    std::vector<uint8_t> buffer_;
    progtypes::NativeSkb native_{};
    helpers::RunEnvironment env_;
    std::array<MemoryRegion, 2> regions_;
    size_t hidden_ = 0;
};

}  // namespace xbpf::packets
