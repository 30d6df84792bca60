// BPF_PROG_RUN for XDP: the frame sits in a page-sized buffer after XDP_PACKET_HEADROOM bytes
// of headroom and before room for struct skb_shared_info, as Linux lays out xdp_buff for a
// test run, so adjust_head/tail/meta move within the same bounds they have in Linux.
#include <fmt/format.h>
#include <linux/bpf.h>

#include <cstring>

#include "runtime/progtypes/native_contexts.hpp"
#include "runtime/test_run/run_loop.hpp"

namespace xbpf::test_run_detail {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kHeadroom = XDP_PACKET_HEADROOM;  // 256
constexpr size_t kTailroom = 320;                  // SKB_DATA_ALIGN(sizeof(skb_shared_info))
constexpr size_t kMaxFrame = kPage - kHeadroom - kTailroom;
constexpr size_t kEthernetHeader = 14;
constexpr size_t kMaxMetadata = 32;
constexpr uint32_t kLoopbackIfindex = 1;

}  // namespace

Result<TestRunResult> run_xdp(const Executable& program, const ProgramType& type,
                              const TestRunOptions& options) {
    const size_t size = options.data_in.size();
    if (size < kEthernetHeader) {
        return linux_error("EINVAL", fmt::format("data_in has {} bytes; an XDP frame needs at "
                                                 "least the {}-byte Ethernet header",
                                                 size, kEthernetHeader));
    }
    auto md_bytes = context_from(options.ctx_in, sizeof(xdp_md));
    if (!md_bytes) return std::move(md_bytes).error();
    xdp_md md;
    std::memcpy(&md, md_bytes->data(), sizeof md);
    uint32_t metalen = 0;
    if (!options.ctx_in.empty()) {
        if (md.data_meta != 0)
            return linux_error("EINVAL", "ctx_in.data_meta must be 0 (metadata starts data_in)");
        if (md.data_end != size) {
            return linux_error("EINVAL", fmt::format("ctx_in.data_end is {} but data_in has {} "
                                                     "bytes",
                                                     md.data_end, size));
        }
        if (md.data > md.data_end)
            return linux_error("EINVAL", "ctx_in.data is beyond ctx_in.data_end");
        if ((md.data & 3) != 0 || md.data > kMaxMetadata) {
            return linux_error("EINVAL", fmt::format("ctx_in.data ({} bytes of metadata) must be "
                                                     "a multiple of 4 and at most {}",
                                                     md.data, kMaxMetadata));
        }
        if (md.egress_ifindex != 0) return linux_error("EINVAL", "ctx_in.egress_ifindex must be 0");
        if (md.ingress_ifindex != 0 && md.ingress_ifindex != kLoopbackIfindex) {
            return linux_error("ENODEV", fmt::format("no interface with ifindex {} (xbpf has only "
                                                     "the loopback, 1)",
                                                     md.ingress_ifindex));
        }
        if (md.rx_queue_index != 0) {
            return linux_error("EINVAL", fmt::format("ctx_in.rx_queue_index {} is not a queue of "
                                                     "the interface (it has 1)",
                                                     md.rx_queue_index));
        }
        metalen = md.data;
    }
    if (size - metalen > kMaxFrame) {
        return linux_error("EINVAL", fmt::format("a {}-byte frame does not fit one {}-byte buffer "
                                                 "(multi-buffer XDP is not supported)",
                                                 size - metalen, kMaxFrame));
    }

    std::vector<uint8_t> buffer(kPage, 0);
    progtypes::NativeXdp native{};
    native.data_meta = buffer.data() + kHeadroom - metalen;
    std::memcpy(native.data_meta, options.data_in.data(), size);
    native.data = native.data_meta + metalen;
    native.data_end = native.data_meta + size;
    // Without an interface named, Linux runs the program on the loopback's queue 0.
    native.uapi.ingress_ifindex = kLoopbackIfindex;
    native.uapi.rx_queue_index = 0;

    helpers::RunEnvironment env;
    env.type = &type;
    env.context = &native;
    env.packet.hard_start = buffer.data();
    env.packet.hard_end = buffer.data() + kPage - kTailroom;
    env.trace = options.trace;
    const MemoryRegion regions[] = {
        {reinterpret_cast<uintptr_t>(&native), sizeof native, false, "context"},
        {reinterpret_cast<uintptr_t>(buffer.data()), kPage - kTailroom, true, "packet"},
    };
    auto loop = run_repeatedly(program, env, &native, regions, options);
    if (!loop) return std::move(loop).error();

    TestRunResult result;
    result.retval = static_cast<uint32_t>(loop->retval);
    result.duration_ns = loop->duration_ns;
    result.data_out.assign(native.data_meta, native.data_end);
    xdp_md out = md;
    out.data = static_cast<uint32_t>(native.data - native.data_meta);
    out.data_end = static_cast<uint32_t>(native.data_end - native.data_meta);
    out.data_meta = 0;
    result.ctx_out.resize(sizeof out);
    std::memcpy(result.ctx_out.data(), &out, sizeof out);
    result.redirected = env.redirect.set;
    result.redirect_ifindex = env.redirect.ifindex;
    return result;
}

}  // namespace xbpf::test_run_detail
