#include "xbpf/replay.hpp"

#include <fmt/format.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <chrono>
#include <memory>
#include <optional>

#include "runtime/packets/frames.hpp"
#include "xbpf/capture.hpp"
#include "xbpf/map.hpp"

namespace xbpf {
namespace {

enum class Verdict { Pass, Drop, Tx, Redirect, Aborted };

Verdict xdp_verdict(uint64_t r0) {
    switch (static_cast<uint32_t>(r0)) {
        case XDP_ABORTED: return Verdict::Aborted;
        case XDP_DROP: return Verdict::Drop;
        case XDP_PASS: return Verdict::Pass;
        case XDP_TX: return Verdict::Tx;
        case XDP_REDIRECT: return Verdict::Redirect;
        default: return Verdict::Aborted;
    }
}

Verdict tc_verdict(uint64_t r0) {
    switch (static_cast<int32_t>(r0)) {
        case TC_ACT_UNSPEC:
        case TC_ACT_OK:
        case TC_ACT_RECLASSIFY:
        case TC_ACT_PIPE:
        case TC_ACT_REPEAT: return Verdict::Pass;
        case TC_ACT_SHOT:
        case TC_ACT_STOLEN:
        case TC_ACT_QUEUED:
        case TC_ACT_TRAP: return Verdict::Drop;
        case TC_ACT_REDIRECT: return Verdict::Redirect;
        default: return Verdict::Aborted;
    }
}

// Runs one frame and says what happened; `out` receives the bytes to write when it passes.
class FrameRunner {
  public:
    FrameRunner(const Executable& program, const ProgramType& type, const ReplayOptions& options)
        : program_(program), type_(type), options_(options) {
        if (type.id == BPF_PROG_TYPE_XDP) {
            xdp_ = std::make_unique<packets::XdpFrame>(type, options.trace);
        } else {
            skb_ = std::make_unique<packets::SkbFrame>(type, options.trace);
        }
        ctx_.engine = program.engine();
        // Memory helpers hand out is recorded only where a checked run will look.
        if (program.checked()) ctx_.dynamic_regions = &granted_;
    }

    Result<Verdict> run(std::span<const uint8_t> bytes, std::vector<uint8_t>& out) {
        granted_.clear();
        ctx_.tail_calls_done = 0;
        ctx_.fault.reset();
        if (packets::XdpFrame* xdp = xdp_.get()) {
            if (auto s = xdp->load(bytes); !s) return std::move(s).error();
            const uint64_t r0 =
                run_on(xdp->environment(), &xdp->context(), xdp->regions(), nullptr, 0);
            if (ctx_.fault) return fault();
            const Verdict v = xdp_verdict(r0);
            if (v == Verdict::Pass || v == Verdict::Tx)
                out.assign(xdp->frame().begin(), xdp->frame().end());
            return v;
        }
        packets::SkbFrame& skb = *skb_;
        if (auto s = skb.load(bytes); !s) return std::move(s).error();
        const auto packet = skb.packet();
        const uint64_t r0 =
            run_on(skb.environment(), &skb.context(), skb.regions(), packet.data(), packet.size());
        if (ctx_.fault) return fault();
        if (type_.id == BPF_PROG_TYPE_SOCKET_FILTER) {
            // The filter's result is how many bytes of the packet to keep; 0 drops it.
            const auto keep = static_cast<uint32_t>(r0);
            if (keep == 0) return Verdict::Drop;
            const auto frame = skb.frame();
            out.assign(frame.begin(), frame.begin() + static_cast<ptrdiff_t>(
                                                          skb.hidden_header() +
                                                          std::min<size_t>(keep, packet.size())));
            return Verdict::Pass;
        }
        const Verdict v = tc_verdict(r0);
        if (v == Verdict::Pass) out.assign(skb.frame().begin(), skb.frame().end());
        return v;
    }

  private:
    uint64_t run_on(helpers::RunEnvironment& env, void* context,
                    std::span<const MemoryRegion> regions, const uint8_t* legacy,
                    size_t legacy_len) {
        ctx_.host = &env;
        ctx_.legacy_packet = legacy;
        ctx_.legacy_packet_len = legacy_len;
        regions_.assign(regions.begin(), regions.end());
        regions_.insert(regions_.end(), options_.extra_regions.begin(),
                        options_.extra_regions.end());
        RunOptions run_options;
        run_options.regions = regions_;
        const uint64_t args[1] = {reinterpret_cast<uintptr_t>(context)};
        return program_.run(ctx_, args, run_options);
    }

    Error fault() const {
        return Error(fmt::format("the program faulted at instruction {}: {}", ctx_.fault->pc,
                                 ctx_.fault->message),
                     ErrorKind::Fault);
    }

    const Executable& program_;
    const ProgramType& type_;
    const ReplayOptions& options_;
    // One of the two, by program type.
    std::unique_ptr<packets::XdpFrame> xdp_;
    std::unique_ptr<packets::SkbFrame> skb_;
    RunContext ctx_;
    std::vector<MemoryRegion> granted_;
    std::vector<MemoryRegion> regions_;
};

void count(ReplayStats& stats, Verdict v) {
    switch (v) {
        case Verdict::Pass: ++stats.pass; break;
        case Verdict::Drop: ++stats.drop; break;
        case Verdict::Tx: ++stats.tx; break;
        case Verdict::Redirect: ++stats.redirect; break;
        case Verdict::Aborted: ++stats.aborted; break;
    }
}

}  // namespace

Result<ReplayStats> replay_capture(const Executable& program, const ProgramType& type,
                                   const std::filesystem::path& capture,
                                   const ReplayOptions& options) {
    switch (type.id) {
        case BPF_PROG_TYPE_XDP:
        case BPF_PROG_TYPE_SCHED_CLS:
        case BPF_PROG_TYPE_SCHED_ACT:
        case BPF_PROG_TYPE_SOCKET_FILTER: break;
        default:
            return Error(
                fmt::format("captures replay through xdp, sched_cls, sched_act and socket_filter "
                            "programs, not {}",
                            type.name));
    }
    using clock = std::chrono::steady_clock;
    const auto started = clock::now();
    ReplayStats stats;
    std::optional<CaptureWriter> writer;
    FrameRunner runner(program, type, options);
    std::vector<uint8_t> out;
    CapturedFrame frame;
    clock::duration in_program{};
    const uint32_t passes = options.repeat == 0 ? 1 : options.repeat;
    for (uint32_t pass = 0; pass < passes; ++pass) {
        auto reader = CaptureReader::open(capture);
        if (!reader) return std::move(reader).error();
        if (reader->link_type() != kLinkTypeEthernet) {
            return Error(fmt::format(
                             "link type {} is not Ethernet (1); programs expect Ethernet frames",
                             reader->link_type()))
                .in(capture.string());
        }
        if (pass == 0 && !options.output.empty()) {
            auto w =
                CaptureWriter::create(options.output, kLinkTypeEthernet, reader->snap_length());
            if (!w) return std::move(w).error();
            writer.emplace(std::move(*w));
        }
        uint64_t frame_number = 0;
        // Objects the program reaches through maps (tail-call targets, inner maps) stay alive
        // while the guard is held; renewing it now and then lets removed ones be freed.
        std::optional<MapReadGuard> guard;
        while (true) {
            auto more = reader->next(frame);
            if (!more) return std::move(more).error();
            if (!*more) break;
            ++frame_number;
            if (frame_number % 4096 == 1) {
                guard.reset();
                guard.emplace();
                if (options.progress) options.progress(reader->position(), reader->file_size());
            }
            out.clear();
            const auto before = clock::now();
            auto verdict = runner.run(frame.data, out);
            in_program += clock::now() - before;
            if (!verdict) {
                return std::move(verdict)
                    .error()
                    .in(fmt::format("frame {}", frame_number))
                    .in(capture.string());
            }
            ++stats.packets;
            count(stats, *verdict);
            if (writer && pass == 0 && !out.empty()) {
                CapturedFrame written{std::move(out), 0, frame.timestamp_ns};
                written.original_length = static_cast<uint32_t>(written.data.size());
                if (auto s = writer->write(written); !s) return std::move(s).error();
                out = std::move(written.data);
                ++stats.written;
            }
        }
        if (options.progress) options.progress(reader->file_size(), reader->file_size());
    }
    if (writer) {
        if (auto s = writer->close(); !s) return std::move(s).error();
    }
    stats.program_seconds = std::chrono::duration<double>(in_program).count();
    stats.total_seconds = std::chrono::duration<double>(clock::now() - started).count();
    return stats;
}

}  // namespace xbpf
