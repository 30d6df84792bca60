// The host's state for one run, as the helpers see it (internal). Whoever runs a program (the
// test run, a hook) fills one in and points RunContext::host at it; helpers that need the
// packet, the program type or the trace log find them here. Helpers that need none of it
// (maps, time, strings) work without one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xbpf/engine.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf::helpers {

// The buffer a packet lives in, so that helpers can move its start and end (xdp_adjust_head,
// xdp_adjust_tail, xdp_adjust_meta): the packet pointers themselves are in the native context.
struct PacketBuffer {
    uint8_t* hard_start = nullptr;  // first byte of the buffer (the headroom begins here)
    uint8_t* hard_end = nullptr;    // one past the last byte the packet may grow into
    // __sk_buff types: where the Ethernet and network headers start (bpf_skb_load_bytes_relative).
    uint8_t* mac_header = nullptr;
    uint8_t* network_header = nullptr;
};

// Where a redirect (bpf_redirect, bpf_redirect_map) asked the packet to go.
struct RedirectTarget {
    bool set = false;
    uint32_t ifindex = 0;      // bpf_redirect: the interface
    const Map* map = nullptr;  // bpf_redirect_map: the map and key
    uint32_t key = 0;
    uint64_t flags = 0;
};

struct RunEnvironment {
    const ProgramType* type = nullptr;
    void* context = nullptr;    // the native context the program received in r1
    PacketBuffer packet;        // xdp and __sk_buff types
    TraceLog* trace = nullptr;  // null: TraceLog::global()
    RedirectTarget redirect;
};

inline RunEnvironment* environment(const RunContext& ctx) {
    return static_cast<RunEnvironment*>(ctx.host);
}

// The program type id of the run, or 0 without an environment.
inline uint32_t program_type_id(const RunContext& ctx) {
    const RunEnvironment* env = environment(ctx);
    return env != nullptr && env->type != nullptr ? env->type->id : 0;
}

}  // namespace xbpf::helpers
