// Packet access helpers of the __sk_buff types (skb_load_bytes, skb_load_bytes_relative,
// skb_store_bytes) and of XDP (xdp_adjust_head/tail/meta, xdp_get_buff_len, xdp_load_bytes,
// xdp_store_bytes). The packet pointers live in the native context (r1); the buffer around
// them, which bounds how far the packet may move or grow, comes from the run environment.
#include <linux/bpf.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "runtime/helpers/implementations.hpp"
#include "runtime/helpers/run_environment.hpp"
#include "runtime/progtypes/native_contexts.hpp"

namespace xbpf::helpers {
namespace {

using progtypes::NativeSkb;
using progtypes::NativeXdp;

constexpr size_t kEthernetHeader = 14;  // ETH_HLEN
// Linux keeps a struct xdp_frame (40 bytes on 64-bit hosts) at the start of the headroom, so a
// packet may not grow into it.
constexpr size_t kXdpFrameSize = 40;
constexpr size_t kMaxMetadata = 32;

uint64_t error(int e) {
    return static_cast<uint64_t>(static_cast<int64_t>(-e));
}
NativeSkb& skb_of(uint64_t r) {
    return *reinterpret_cast<NativeSkb*>(static_cast<uintptr_t>(r));
}
NativeXdp& xdp_of(uint64_t r) {
    return *reinterpret_cast<NativeXdp*>(static_cast<uintptr_t>(r));
}
void* ptr(uint64_t r) {
    return reinterpret_cast<void*>(static_cast<uintptr_t>(r));
}

uint64_t skb_load_bytes(uint64_t ctx, uint64_t offset, uint64_t to, uint64_t len, uint64_t,
                        RunContext&) {
    const NativeSkb& skb = skb_of(ctx);
    const auto off = static_cast<uint32_t>(offset);
    const auto packet_len = static_cast<uint64_t>(skb.data_end - skb.data);
    if (off > 0xffff || off + len > packet_len) {
        std::memset(ptr(to), 0, len);
        return error(EFAULT);
    }
    std::memcpy(ptr(to), skb.data + off, len);
    return 0;
}

uint64_t skb_load_bytes_relative(uint64_t ctx, uint64_t offset, uint64_t to, uint64_t len,
                                 uint64_t start_header, RunContext& run) {
    const NativeSkb& skb = skb_of(ctx);
    const RunEnvironment* env = environment(run);
    const uint8_t* mac = env != nullptr ? env->packet.mac_header : nullptr;
    const uint8_t* net = env != nullptr ? env->packet.network_header : nullptr;
    const uint8_t* base = start_header == BPF_HDR_START_MAC   ? mac
                          : start_header == BPF_HDR_START_NET ? net
                                                              : nullptr;
    const auto off = static_cast<uint32_t>(offset);
    if (base == nullptr || mac == nullptr || off > 0xffff || base + off < mac ||
        base + off + len > skb.data_end) {
        std::memset(ptr(to), 0, len);
        return error(EFAULT);
    }
    std::memcpy(ptr(to), base + off, len);
    return 0;
}

uint64_t skb_store_bytes(uint64_t ctx, uint64_t offset, uint64_t from, uint64_t len, uint64_t flags,
                         RunContext&) {
    NativeSkb& skb = skb_of(ctx);
    if ((flags & ~static_cast<uint64_t>(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) != 0)
        return error(EINVAL);
    const auto off = static_cast<uint32_t>(offset);
    if (off > INT_MAX || off + len > static_cast<uint64_t>(skb.data_end - skb.data))
        return error(EFAULT);
    std::memmove(skb.data + off, ptr(from), len);
    // The packet carries no offloaded checksum to recompute; the hash is cleared as asked.
    if ((flags & BPF_F_INVALIDATE_HASH) != 0) skb.uapi.hash = 0;
    return 0;
}

uint64_t xdp_adjust_head(uint64_t ctx, uint64_t delta, uint64_t, uint64_t, uint64_t,
                         RunContext& run) {
    NativeXdp& xdp = xdp_of(ctx);
    const RunEnvironment* env = environment(run);
    if (env == nullptr || env->packet.hard_start == nullptr) return error(EINVAL);
    const auto offset = static_cast<int32_t>(delta);
    const size_t metalen = static_cast<size_t>(xdp.data - xdp.data_meta);
    const uint8_t* lowest = env->packet.hard_start + kXdpFrameSize + metalen;
    uint8_t* data = xdp.data + offset;
    if (data < lowest || data > xdp.data_end - kEthernetHeader) return error(EINVAL);
    if (metalen != 0) std::memmove(xdp.data_meta + offset, xdp.data_meta, metalen);
    xdp.data_meta += offset;
    xdp.data = data;
    return 0;
}

uint64_t xdp_adjust_meta(uint64_t ctx, uint64_t delta, uint64_t, uint64_t, uint64_t,
                         RunContext& run) {
    NativeXdp& xdp = xdp_of(ctx);
    const RunEnvironment* env = environment(run);
    if (env == nullptr || env->packet.hard_start == nullptr) return error(EINVAL);
    uint8_t* meta = xdp.data_meta + static_cast<int32_t>(delta);
    if (meta < env->packet.hard_start + kXdpFrameSize || meta > xdp.data) return error(EINVAL);
    const size_t metalen = static_cast<size_t>(xdp.data - meta);
    if ((metalen & 3) != 0 || metalen > kMaxMetadata) return error(EACCES);
    xdp.data_meta = meta;
    return 0;
}

uint64_t xdp_adjust_tail(uint64_t ctx, uint64_t delta, uint64_t, uint64_t, uint64_t,
                         RunContext& run) {
    NativeXdp& xdp = xdp_of(ctx);
    const RunEnvironment* env = environment(run);
    if (env == nullptr || env->packet.hard_end == nullptr) return error(EINVAL);
    const auto offset = static_cast<int32_t>(delta);
    uint8_t* data_end = xdp.data_end + offset;
    if (data_end > env->packet.hard_end || data_end < xdp.data + kEthernetHeader)
        return error(EINVAL);
    // Grown bytes are zeroed, as Linux clears them.
    if (offset > 0) std::memset(xdp.data_end, 0, static_cast<size_t>(offset));
    xdp.data_end = data_end;
    return 0;
}

uint64_t xdp_get_buff_len(uint64_t ctx, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    const NativeXdp& xdp = xdp_of(ctx);
    return static_cast<uint64_t>(xdp.data_end - xdp.data);
}

// Where [offset, offset + len) of an XDP packet is, or an errno.
uint8_t* xdp_range(const NativeXdp& xdp, uint64_t offset, uint64_t len, int& err) {
    const auto off = static_cast<uint32_t>(offset);
    if (off > 0xffff || len > 0xffff) {
        err = EFAULT;
        return nullptr;
    }
    if (off + len > static_cast<uint64_t>(xdp.data_end - xdp.data)) {
        err = EINVAL;
        return nullptr;
    }
    return xdp.data + off;
}

uint64_t xdp_load_bytes(uint64_t ctx, uint64_t offset, uint64_t buf, uint64_t len, uint64_t,
                        RunContext&) {
    int err = 0;
    const uint8_t* p = xdp_range(xdp_of(ctx), offset, len, err);
    if (p == nullptr) return error(err);
    std::memcpy(ptr(buf), p, len);
    return 0;
}

uint64_t xdp_store_bytes(uint64_t ctx, uint64_t offset, uint64_t buf, uint64_t len, uint64_t,
                         RunContext&) {
    int err = 0;
    uint8_t* p = xdp_range(xdp_of(ctx), offset, len, err);
    if (p == nullptr) return error(err);
    std::memmove(p, ptr(buf), len);
    return 0;
}

}  // namespace

void add_packet_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_skb_load_bytes, skb_load_bytes});
    out.push_back({BPF_FUNC_skb_load_bytes_relative, skb_load_bytes_relative});
    out.push_back({BPF_FUNC_skb_store_bytes, skb_store_bytes});
    out.push_back({BPF_FUNC_xdp_adjust_head, xdp_adjust_head});
    out.push_back({BPF_FUNC_xdp_adjust_meta, xdp_adjust_meta});
    out.push_back({BPF_FUNC_xdp_adjust_tail, xdp_adjust_tail});
    out.push_back({BPF_FUNC_xdp_get_buff_len, xdp_get_buff_len});
    out.push_back({BPF_FUNC_xdp_load_bytes, xdp_load_bytes});
    out.push_back({BPF_FUNC_xdp_store_bytes, xdp_store_bytes});
}

}  // namespace xbpf::helpers
