// BPF_PROG_RUN for XDP: ctx_in checked as Linux checks it, the frame laid out as Linux lays
// out an xdp_buff (packets::XdpFrame).
#include <fmt/format.h>
#include <linux/bpf.h>

#include <cstring>

#include "runtime/packets/frames.hpp"
#include "runtime/test_run/run_loop.hpp"

namespace xbpf::test_run_detail {
namespace {

using packets::kEthernetHeader;
using packets::kLoopbackIfindex;
constexpr size_t kMaxMetadata = 32;

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
    packets::XdpFrame frame(type, options.trace);
    if (auto loaded = frame.load(options.data_in, metalen); !loaded)
        return std::move(loaded).error();
    auto& native = frame.context();
    auto loop = run_repeatedly(program, frame.environment(), &native, frame.regions(), options);
    if (!loop) return std::move(loop).error();

    TestRunResult result;
    result.retval = static_cast<uint32_t>(loop->retval);
    result.duration_ns = loop->duration_ns;
    const auto out_bytes = frame.frame_with_metadata();
    result.data_out.assign(out_bytes.begin(), out_bytes.end());
    xdp_md out = md;
    out.data = static_cast<uint32_t>(native.data - native.data_meta);
    out.data_end = static_cast<uint32_t>(native.data_end - native.data_meta);
    out.data_meta = 0;
    result.ctx_out.resize(sizeof out);
    std::memcpy(result.ctx_out.data(), &out, sizeof out);
    result.redirected = frame.environment().redirect.set;
    result.redirect_ifindex = frame.environment().redirect.ifindex;
    return result;
}

}  // namespace xbpf::test_run_detail
