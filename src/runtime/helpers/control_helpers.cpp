// Control-flow helpers: bpf_tail_call, bpf_redirect and bpf_redirect_map.
#include <linux/bpf.h>

#include <cerrno>

#include "runtime/helpers/implementations.hpp"
#include "runtime/helpers/run_environment.hpp"
#include "xbpf/map_objects.hpp"

namespace xbpf::helpers {
namespace {

constexpr uint64_t kTcActShot = 2;      // TC_ACT_SHOT
constexpr uint64_t kTcActRedirect = 7;  // TC_ACT_REDIRECT

// Linux's order: an index out of range fails before the count is taken, an empty slot after,
// so a miss on an empty slot still counts towards the limit of 33. On failure the program
// simply continues after the call.
uint64_t tail_call(uint64_t, uint64_t map, uint64_t index, uint64_t, uint64_t, RunContext& ctx) {
    auto& programs =
        *static_cast<ProgArrayMap*>(reinterpret_cast<Map*>(static_cast<uintptr_t>(map)));
    const auto slot = static_cast<uint32_t>(index);
    if (slot >= programs.max_entries()) return static_cast<uint64_t>(-ENOENT);
    if (ctx.tail_calls_done >= RunContext::kMaxTailCalls) return static_cast<uint64_t>(-ENOENT);
    ++ctx.tail_calls_done;
    // Valid while the runner holds its MapReadGuard (the runtime holds one for every run).
    const auto* target = dynamic_cast<const TailCallTarget*>(programs.tail_call_target(slot));
    const Executable* next = target != nullptr ? target->executable(ctx.engine) : nullptr;
    if (next == nullptr) return static_cast<uint64_t>(-ENOENT);
    ctx.tail_call = next;
    return 0;
}

void record(RunContext& ctx, const RedirectTarget& target) {
    if (RunEnvironment* env = environment(ctx)) env->redirect = target;
}

uint64_t redirect(uint64_t ifindex, uint64_t flags, uint64_t, uint64_t, uint64_t, RunContext& ctx) {
    if (program_type_id(ctx) == BPF_PROG_TYPE_XDP) {
        if (flags != 0) return XDP_ABORTED;
        record(ctx, {true, static_cast<uint32_t>(ifindex), nullptr, 0, flags});
        return XDP_REDIRECT;
    }
    if ((flags & ~static_cast<uint64_t>(BPF_F_INGRESS)) != 0) return kTcActShot;
    record(ctx, {true, static_cast<uint32_t>(ifindex), nullptr, 0, flags});
    return kTcActRedirect;
}

// The low two bits of flags are the action when the key has no target.
uint64_t redirect_map(uint64_t map, uint64_t key, uint64_t flags, uint64_t, uint64_t,
                      RunContext& ctx) {
    constexpr uint64_t kActionMask = XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX;
    if ((flags & ~(kActionMask | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS)) != 0) return XDP_ABORTED;
    Map& m = *reinterpret_cast<Map*>(static_cast<uintptr_t>(map));
    const auto index = static_cast<uint32_t>(key);
    if ((flags & BPF_F_BROADCAST) == 0 && m.lookup(&index) == nullptr) return flags & kActionMask;
    record(ctx, {true, 0, &m, index, flags});
    return XDP_REDIRECT;
}

}  // namespace

void add_control_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_tail_call, tail_call});
    out.push_back({BPF_FUNC_redirect, redirect});
    out.push_back({BPF_FUNC_redirect_map, redirect_map});
}

}  // namespace xbpf::helpers
