// Ring buffer and perf event output helpers.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "runtime/helpers/implementations.hpp"
#include "runtime/helpers/run_environment.hpp"
#include "runtime/progtypes/native_contexts.hpp"
#include "xbpf/map_perf.hpp"
#include "xbpf/map_ringbuf.hpp"

namespace xbpf::helpers {
namespace {

void* ptr(uint64_t r) {
    return reinterpret_cast<void*>(static_cast<uintptr_t>(r));
}
RingBufMap& ring_of(uint64_t r) {
    return *static_cast<RingBufMap*>(reinterpret_cast<Map*>(static_cast<uintptr_t>(r)));
}

uint64_t ringbuf_output(uint64_t map, uint64_t data, uint64_t size, uint64_t flags, uint64_t,
                        RunContext&) {
    return static_cast<uint64_t>(ring_of(map).output(ptr(data), size, flags));
}

uint64_t ringbuf_reserve(uint64_t map, uint64_t size, uint64_t flags, uint64_t, uint64_t,
                         RunContext& ctx) {
    void* record = ring_of(map).reserve(size, flags);
    ctx.allow_region(record, static_cast<size_t>(size), true, "ring buffer record");
    return reinterpret_cast<uintptr_t>(record);
}

uint64_t ringbuf_submit(uint64_t sample, uint64_t flags, uint64_t, uint64_t, uint64_t,
                        RunContext&) {
    RingBufMap::submit(ptr(sample), flags);
    return 0;
}

uint64_t ringbuf_discard(uint64_t sample, uint64_t flags, uint64_t, uint64_t, uint64_t,
                         RunContext&) {
    RingBufMap::discard(ptr(sample), flags);
    return 0;
}

uint64_t ringbuf_query(uint64_t map, uint64_t flags, uint64_t, uint64_t, uint64_t, RunContext&) {
    return ring_of(map).query(flags);
}

// The packet bytes a packet program may append to a perf sample (BPF_F_CTXLEN_MASK).
struct PacketView {
    const uint8_t* data = nullptr;
    size_t len = 0;
};

PacketView packet_of(const RunContext& ctx) {
    const RunEnvironment* env = environment(ctx);
    if (env == nullptr || env->type == nullptr || env->context == nullptr) return {};
    if (env->type->id == BPF_PROG_TYPE_XDP) {
        const auto* xdp = static_cast<const progtypes::NativeXdp*>(env->context);
        return {xdp->data, static_cast<size_t>(xdp->data_end - xdp->data)};
    }
    const ContextField* data = env->type->field_at(offsetof(__sk_buff, data), 4);
    if (data != nullptr && data->kind == ContextFieldKind::PacketStart &&
        env->type->context_size == sizeof(__sk_buff)) {
        const auto* skb = static_cast<const progtypes::NativeSkb*>(env->context);
        return {skb->data, static_cast<size_t>(skb->data_end - skb->data)};
    }
    return {};
}

// bpf_perf_event_output. Packet programs (xdp, __sk_buff types) may ask, in the upper 32 bits
// of flags, for that many bytes of the packet to follow the data, as Linux's skb and xdp
// variants of the helper do.
uint64_t perf_event_output(uint64_t, uint64_t map, uint64_t flags, uint64_t data, uint64_t size,
                           RunContext& ctx) {
    auto& perf =
        *static_cast<PerfEventArrayMap*>(reinterpret_cast<Map*>(static_cast<uintptr_t>(map)));
    const uint64_t packet_bytes = (flags & BPF_F_CTXLEN_MASK) >> 32;
    const uint64_t index_flags = flags & ~BPF_F_CTXLEN_MASK;
    if (packet_bytes == 0) return static_cast<uint64_t>(perf.output(index_flags, ptr(data), size));
    const PacketView packet = packet_of(ctx);
    if (packet.data == nullptr) return static_cast<uint64_t>(-EINVAL);
    if (packet_bytes > packet.len) return static_cast<uint64_t>(-EFAULT);
    thread_local std::vector<uint8_t> sample;
    sample.resize(size + packet_bytes);
    if (size != 0) std::memcpy(sample.data(), ptr(data), size);
    std::memcpy(sample.data() + size, packet.data, packet_bytes);
    return static_cast<uint64_t>(perf.output(index_flags, sample.data(), sample.size()));
}

}  // namespace

void add_ringbuf_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_ringbuf_output, ringbuf_output});
    out.push_back({BPF_FUNC_ringbuf_reserve, ringbuf_reserve});
    out.push_back({BPF_FUNC_ringbuf_submit, ringbuf_submit});
    out.push_back({BPF_FUNC_ringbuf_discard, ringbuf_discard});
    out.push_back({BPF_FUNC_ringbuf_query, ringbuf_query});
    out.push_back({BPF_FUNC_perf_event_output, perf_event_output});
}

}  // namespace xbpf::helpers
