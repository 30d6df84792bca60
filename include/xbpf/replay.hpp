// Replaying a capture through a packet program: every frame of a pcap or pcapng file runs
// through an XDP (or tc / socket filter) program as if it had arrived on an interface, and the
// frames the program lets through — passed, transmitted back, possibly modified — can be
// written to another capture. This is the engine of `xbpf run`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

#include "xbpf/engine.hpp"
#include "xbpf/error.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf {

struct ReplayOptions {
    // Where to write the frames that get through (empty: write nothing). XDP: XDP_PASS and
    // XDP_TX, as they are after the program's changes; tc: everything not dropped or
    // redirected; socket filters: accepted packets, cut to the length the filter returned.
    std::filesystem::path output;
    // Passes over the capture (the output is written on the first pass only).
    uint32_t repeat = 1;
    // Called now and then with the bytes of the capture read so far and in all.
    std::function<void(uint64_t done, uint64_t total)> progress;
    TraceLog* trace = nullptr;  // bpf_trace_printk output; null: TraceLog::global()
    // Checked runs: memory the program may touch besides the packet, its context and stack
    // (its global variables).
    std::span<const MemoryRegion> extra_regions;
};

// What the program decided, frame by frame, in the vocabulary of XDP. tc verdicts count as:
// TC_ACT_OK/UNSPEC/PIPE/RECLASSIFY/REPEAT pass, TC_ACT_SHOT/STOLEN/QUEUED/TRAP drop,
// TC_ACT_REDIRECT redirect; socket filters: 0 drop, anything else pass. A return value outside
// the type's verdicts counts as aborted, as Linux treats an unknown XDP action.
struct ReplayStats {
    uint64_t packets = 0;  // frames run, over all passes
    uint64_t pass = 0;
    uint64_t drop = 0;
    uint64_t tx = 0;
    uint64_t redirect = 0;
    uint64_t aborted = 0;
    uint64_t written = 0;        // frames written to the output
    double program_seconds = 0;  // time spent in the program (packets / this = packets per second)
    double total_seconds = 0;    // including reading and writing the captures
};

// Replays `capture` through a program prepared for `type` (its context accesses rewritten).
// Types: xdp, sched_cls, sched_act, socket_filter. Errors: unreadable or non-Ethernet captures,
// a frame the type cannot take (too long for one XDP buffer), a fault of a checked run — each
// naming the frame.
Result<ReplayStats> replay_capture(const Executable& program, const ProgramType& type,
                                   const std::filesystem::path& capture,
                                   const ReplayOptions& options = {});

}  // namespace xbpf
