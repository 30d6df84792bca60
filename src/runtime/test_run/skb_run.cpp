// BPF_PROG_RUN for the __sk_buff types: the frame becomes a socket buffer on the loopback
// interface, with the fields Linux derives from it (len, protocol, pkt_type) and the ones
// ctx_in may set. tc programs see it from the Ethernet header; socket filters and cgroup
// programs from the network header.
#include <fmt/format.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cstring>

#include "runtime/packets/frames.hpp"
#include "runtime/test_run/run_loop.hpp"

namespace xbpf::test_run_detail {
namespace {

using packets::kLoopbackIfindex;
constexpr uint32_t kMaxGsoSegs = 65535;  // GSO_MAX_SEGS
constexpr uint32_t kMaxGsoSize = 65536;  // GSO_MAX_SIZE (for wire_len)

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

}  // namespace

Result<TestRunResult> run_skb(const Executable& program, const ProgramType& type,
                              const TestRunOptions& options) {
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
    packets::SkbFrame frame(type, options.trace);
    if (auto loaded = frame.load(options.data_in, in); !loaded) return std::move(loaded).error();
    auto& native = frame.context();
    const __sk_buff& s = native.uapi;
    if (in.wire_len != 0 && (in.wire_len < s.len || in.wire_len > kMaxGsoSize))
        return linux_error("EINVAL", "ctx_in.wire_len is shorter than the packet or too long");
    auto loop = run_repeatedly(program, frame.environment(), &native, frame.regions(), options,
                               native.data, static_cast<size_t>(native.data_end - native.data));
    if (!loop) return std::move(loop).error();

    TestRunResult result;
    result.retval = static_cast<uint32_t>(loop->retval);
    result.duration_ns = loop->duration_ns;
    // Linux hands back the frame from the Ethernet header; for programs that saw it from the
    // network header, the Ethernet header comes back zeroed.
    result.data_out.assign(frame.hidden_header(), 0);
    const auto packet = frame.packet();
    result.data_out.insert(result.data_out.end(), packet.begin(), packet.end());
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
    result.redirected = frame.environment().redirect.set;
    result.redirect_ifindex = frame.environment().redirect.ifindex;
    return result;
}

}  // namespace xbpf::test_run_detail
