// Helpers that call back into the program: bpf_loop and bpf_for_each_map_elem. The callback is
// the value of an lddw of a function (BPF_PSEUDO_FUNC); the engine running the program maps it
// back to the function and runs it in a frame of its own (RunContext::call_function).
#include <linux/bpf.h>

#include <cerrno>

#include "runtime/helpers/implementations.hpp"
#include "xbpf/map.hpp"

namespace xbpf::helpers {
namespace {

constexpr uint32_t kMaxLoops = 1u << 23;  // Linux's BPF_MAX_LOOPS

// Memory helpers granted while a callback ran (map values it looked up...) is forgotten when it
// returns, so that a long loop does not grow a checked run's list of regions without bound:
// pointers a callback obtains do not outlive it.
class GrantedRegionsScope {
  public:
    explicit GrantedRegionsScope(RunContext& ctx)
        : regions_(ctx.dynamic_regions), size_(regions_ ? regions_->size() : 0) {}
    ~GrantedRegionsScope() {
        if (regions_ != nullptr && regions_->size() > size_) regions_->resize(size_);
    }
    GrantedRegionsScope(const GrantedRegionsScope&) = delete;
    GrantedRegionsScope& operator=(const GrantedRegionsScope&) = delete;

  private:
    std::vector<MemoryRegion>* regions_;
    size_t size_;
};

// bpf_loop(nr_loops, callback_fn, callback_ctx, flags): callback(index, ctx) returns 0 to go on,
// 1 to stop; the result is the number of calls made. nr_loops is a u32, as in Linux.
uint64_t loop(uint64_t nr_loops, uint64_t callback, uint64_t callback_ctx, uint64_t flags, uint64_t,
              RunContext& ctx) {
    if (flags != 0) return static_cast<uint64_t>(-EINVAL);
    const auto n = static_cast<uint32_t>(nr_loops);
    if (n > kMaxLoops) return static_cast<uint64_t>(-E2BIG);
    for (uint32_t i = 0; i < n; ++i) {
        GrantedRegionsScope scope(ctx);
        const uint64_t stop = ctx.call_function(callback, i, callback_ctx);
        if (ctx.fault) return 0;
        if (stop != 0) return i + 1;
    }
    return n;
}

// Calls the callback per element: callback(map, key, value, ctx) returns 0 to go on, 1 to stop.
class CallbackVisitor final : public Map::ElementVisitor {
  public:
    CallbackVisitor(RunContext& ctx, Map& map, uint64_t callback, uint64_t callback_ctx)
        : ctx_(ctx), map_(map), callback_(callback), callback_ctx_(callback_ctx) {}

    bool visit(const void* key, void* value) override {
        GrantedRegionsScope scope(ctx_);
        ctx_.allow_region(key, map_.key_size(), false, "map key");
        ctx_.allow_region(value, map_.value_size(), !map_.read_only_for_programs(), "map value");
        const uint64_t stop = ctx_.call_function(callback_, reinterpret_cast<uintptr_t>(&map_),
                                                 reinterpret_cast<uintptr_t>(key),
                                                 reinterpret_cast<uintptr_t>(value), callback_ctx_);
        return ctx_.fault.has_value() || stop != 0;
    }

  private:
    RunContext& ctx_;
    Map& map_;
    uint64_t callback_;
    uint64_t callback_ctx_;
};

// bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags): the number of elements visited.
uint64_t for_each_map_elem(uint64_t map, uint64_t callback, uint64_t callback_ctx, uint64_t flags,
                           uint64_t, RunContext& ctx) {
    if (flags != 0) return static_cast<uint64_t>(-EINVAL);
    Map& m = *reinterpret_cast<Map*>(static_cast<uintptr_t>(map));
    CallbackVisitor visitor(ctx, m, callback, callback_ctx);
    const long visited = m.for_each(visitor);
    return ctx.fault ? 0 : static_cast<uint64_t>(visited);
}

}  // namespace

void add_callback_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_loop, loop});
    out.push_back({BPF_FUNC_for_each_map_elem, for_each_map_elem});
}

}  // namespace xbpf::helpers
