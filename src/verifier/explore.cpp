// Path exploration: a depth-first walk over paths with a work list of pending branches, states
// stored at join points, and pruning of a path whose state a completely explored state covers.
// docs/verifier.md gives the termination argument: a path is only pruned against a state whose
// every continuation was explored to its end (or, at a callback's entry, whose helper bounds the
// number of calls); loops are otherwise followed iteration by iteration, within the budget.
#include <fmt/format.h>
#include <algorithm>
#include <unordered_map>

#include "verifier/analyzer.hpp"

namespace xbpf::verifier {

namespace {

// A point with this many stored states starts joining new arrivals into an explored one.
constexpr size_t kJoinThreshold = 4;
// After this many joins at one point, bounds that keep growing jump to their limits.
constexpr uint16_t kWidenAfter = 0xffff;
// Stored states per point; complete ones are evicted beyond it.
constexpr size_t kMaxStatesPerPoint = 64;
// Bytes of stored states in all (bounding memory): beyond it no new state is stored, which
// only costs pruning opportunities.
constexpr size_t kMaxStoredBytes = size_t{64} << 20;
// A path stores a new state at a join point only after this many conditional jumps and
// instructions since its previous one (loop heads and function entries always store): states
// in between would mostly repeat what the next one says.
constexpr uint32_t kStoreAfterJumps = 2;
constexpr uint32_t kStoreAfterInsns = 8;
// A complete state that failed to prune this many more times than it succeeded is dropped.
constexpr uint32_t kMissesPerHit = 3;
constexpr uint32_t kMissAllowance = 3;

size_t state_bytes(const VerifierState& s) {
    size_t bytes = sizeof(VerifierState) + s.refs.size() * sizeof(Reference);
    for (const auto& f : s.frames) {
        bytes += sizeof(FrameState) + f.stack.size() * sizeof(StackSlot) +
                 f.callback_args.size() * sizeof(RegState);
    }
    return bytes;
}

}  // namespace

void reject(uint32_t pc, std::string reason, std::vector<int> regs) {
    Rejection r;
    r.pc = pc;
    r.reason = std::move(reason);
    r.regs = std::move(regs);
    throw r;
}

void Analyzer::explore_from(Path initial) {
    worklist_.push_back(std::move(initial));
    while (!worklist_.empty()) {
        Path path = std::move(worklist_.back());
        worklist_.pop_back();
        try {
            run_path(path);
        } catch (Rejection& r) {
            if (!r.described) {
                r.described = true;
                std::vector<int> regs = r.regs;
                if (regs.empty() && r.pc < prog_.size()) regs = {prog_[r.pc].dst, prog_[r.pc].src};
                std::sort(regs.begin(), regs.end());
                regs.erase(std::unique(regs.begin(), regs.end()), regs.end());
                r.state_text = describe_state(path.state, regs);
                r.path_text = describe_path(path.history);
            }
            throw;
        }
    }
}

void Analyzer::run_path(Path& path) {
    current_ = &path;
    while (true) {
        const uint32_t pc = path.pc;
        if (info_.is_prune_point(pc) && visit_prune_point(path)) {
            finish_path(path);
            return;
        }
        if (++visited_insns_ > budget_) {
            reject(pc, fmt::format(
                           "the program is too complex to verify: {} instructions were explored "
                           "across all paths without finishing (the limit is {}); a loop may "
                           "not have a bound the verifier can see, or branches multiply paths",
                           visited_insns_ - 1, budget_));
        }
        visited_[pc] = true;
        if (input_.options.verbose) log_state(path);
        ++path.insns_since_store;
        if (is_jmp_class(prog_[pc].opcode)) ++path.jumps_since_store;
        path.trail.push_back(
            TrailStep{pc, static_cast<uint8_t>(path.state.depth()), 0, TrailStep::kNoSlot});
        in_step_ = true;
        const auto next = step(path);
        in_step_ = false;
        if (!next) {
            finish_path(path);
            return;
        }
        path.pc = *next;
    }
}

void Analyzer::fork(const Path& from, uint32_t target, VerifierState state, bool taken) {
    Path other;
    other.state = std::move(state);
    other.pc = target;
    other.checkpoint = from.checkpoint;
    other.insns_since_store = from.insns_since_store;
    other.trail = from.trail;
    other.jumps_since_store = from.jumps_since_store;
    other.loop_epoch = from.loop_epoch;
    history_.push_back(BranchStep{from.pc, taken, from.history});
    other.history = static_cast<uint32_t>(history_.size() - 1);
    if (other.checkpoint != Path::kNoCheckpoint) ++stored_[other.checkpoint].branches;
    worklist_.push_back(std::move(other));
}

void Analyzer::finish_path(const Path& path) {
    uint32_t idx = path.checkpoint;
    while (idx != Path::kNoCheckpoint) {
        StoredState& s = stored_[idx];
        if (s.branches > 0 && --s.branches > 0) break;
        idx = s.parent;
    }
}

std::vector<LiveMask> Analyzer::live_masks(const VerifierState& state, uint32_t pc) const {
    std::vector<LiveMask> live(state.frames.size());
    for (size_t f = 0; f < state.frames.size(); ++f) {
        const uint32_t at = f + 1 < state.frames.size() ? state.frames[f + 1].callsite + 1 : pc;
        live[f] = at < prog_.size() ? info_.live_in(at) : LiveMask{0};
    }
    return live;
}

void Analyzer::clean_dead_registers(VerifierState& state, uint32_t pc) const {
    const auto live = live_masks(state, pc);
    std::unordered_map<uint32_t, int> scalar_ids;
    for (size_t f = 0; f < state.frames.size(); ++f) {
        FrameState& frame = state.frames[f];
        auto& regs = frame.regs;
        for (int r = 0; r < 10; ++r) {
            if ((live[f] & (1u << r)) == 0) regs[static_cast<size_t>(r)] = RegState{};
        }
        // Stack slots: an outer frame's callee may still read them through a pointer, so they
        // count as at the call itself.
        const uint32_t at = f + 1 < state.frames.size() ? state.frames[f + 1].callsite : pc;
        const uint64_t stack_live = at < prog_.size() ? info_.stack_live_in(at) : ~uint64_t{0};
        for (size_t i = 0; i < frame.stack.size() && i < 64; ++i) {
            if ((stack_live >> i & 1) == 0) frame.stack[i] = StackSlot{};
        }
        while (!frame.stack.empty() && frame.stack.back().spill_size == 0 &&
               std::all_of(frame.stack.back().bytes.begin(), frame.stack.back().bytes.end(),
                           [](StackByte b) { return b == StackByte::Invalid; })) {
            frame.stack.pop_back();
        }
    }
    // An id only one register holds links nothing: drop it so it does not block pruning.
    auto count = [&scalar_ids](RegState& r) {
        if (r.type == RegType::Scalar && r.id != 0) ++scalar_ids[r.id];
    };
    for_each_reg(
        state, [](const RegState&) { return true; }, count);
    for_each_reg(
        state, [&](const RegState& r) { return r.type == RegType::Scalar && r.id != 0; },
        [&](RegState& r) {
            if (scalar_ids[r.id] < 2) r.id = 0;
        });
}

bool Analyzer::visit_prune_point(Path& path) {
    const uint32_t pc = path.pc;
    if (info_.is_loop_head(pc)) path.loop_epoch = ++loop_epochs_;
    clean_dead_registers(path.state, pc);
    const auto live = live_masks(path.state, pc);
    auto& list = states_at_[pc];
    const bool callback_entry =
        path.state.cur().callback && info_.function_starting_at(pc) >= 0 &&
        static_cast<uint32_t>(info_.function_starting_at(pc)) == path.state.cur().function;
    // A state here still being explored is (in a depth-first walk) an ancestor of this path:
    // the path is going round a loop through this point.
    bool in_loop = false;
    for (size_t i = list.size(); i-- > 0;) {
        StoredState& s = stored_[list[i]];
        if (!s.state) continue;
        in_loop |= s.branches != 0;
        if (s.branches == 0 || callback_entry) {
            // A state still being explored has no final precision marks: compare exactly.
            const Precision* precise = s.branches == 0 ? &s.precise : nullptr;
            if (covers(*s.state, path.state, live, precise)) {
                ++s.hits;
                // What the state's exploration relied on, this path's continuation relies on.
                // A state still being explored (a callback's earlier entry) may yet rely on
                // anything: then every number on the way here matters.
                if (precise != nullptr) {
                    require_precise(path, s.precise);
                } else {
                    require_precise(path, Precision(path.state.frames.size(),
                                                    FramePrecision{0xffff, ~uint64_t{0}}));
                }
                return true;
            }
            if (s.branches == 0 && ++s.misses > s.hits * kMissesPerHit + kMissAllowance) {
                stored_bytes_ -= state_bytes(*s.state);
                s.state.reset();
                list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
            }
        } else if (covers(*s.state, path.state, live, nullptr) &&
                   covers(path.state, *s.state, live, nullptr)) {
            reject(pc,
                   "infinite loop: this instruction is reached again with exactly the same state, "
                   "so nothing the loop does brings it closer to its exit");
        }
    }
    // A callback entered again by its helper (bpf_loop...): the helper bounds how often, so the
    // caller's numbers are widened with those of the entry still being explored rather than
    // followed call by call (a counter in the caller's stack would never repeat). Linux gets the
    // same effect by comparing such entries without the numbers nothing depends on.
    if (callback_entry) {
        for (size_t i = list.size(); i-- > 0;) {
            const StoredState& s = stored_[list[i]];
            if (!s.state || s.branches == 0) continue;
            VerifierState joined = path.state;
            if (join_into(joined, *s.state, /*widen_scalars=*/true, next_id_)) {
                path.state = std::move(joined);
                break;
            }
        }
    }
    // Joins happen only where paths meet, never inside a loop being followed: joining an
    // iteration with a state from elsewhere would lose what the loop has done so far (a
    // counter's progress) and the loop would never be seen to end. Inside a loop's body the
    // explored states include earlier iterations' (an ancestor at this very point need not have
    // been stored to tell), so there only states of the same iteration are joined.
    const bool in_loop_body = info_.in_loop_body(pc);
    if (!in_loop && list.size() >= kJoinThreshold) {
        for (size_t i = list.size(); i-- > 0;) {
            const StoredState& s = stored_[list[i]];
            if (!s.state || s.branches != 0) continue;
            if (in_loop_body && s.loop_epoch != path.loop_epoch) continue;
            VerifierState joined = path.state;
            if (join_into(joined, *s.state, joins_at_[pc] >= kWidenAfter, next_id_)) {
                path.state = std::move(joined);
                if (joins_at_[pc] < 0xffff) ++joins_at_[pc];
                break;
            }
        }
    }
    if (list.size() >= kMaxStatesPerPoint) {
        for (size_t i = 0; i < list.size(); ++i) {
            StoredState& s = stored_[list[i]];
            if (s.branches == 0 || !s.state) {
                if (s.state) stored_bytes_ -= state_bytes(*s.state);
                s.state.reset();
                list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
                break;
            }
        }
        if (list.size() >= kMaxStatesPerPoint) {
            // Only states still being explored: drop the oldest (it only costs pruning).
            StoredState& oldest = stored_[list.front()];
            if (oldest.state) stored_bytes_ -= state_bytes(*oldest.state);
            oldest.state.reset();
            list.erase(list.begin());
        }
    }
    const bool must_store = info_.is_loop_head(pc) || info_.function_starting_at(pc) >= 0;
    if (!must_store &&
        (path.jumps_since_store < kStoreAfterJumps || path.insns_since_store < kStoreAfterInsns)) {
        return false;
    }
    const size_t bytes = state_bytes(path.state);
    if (stored_bytes_ + bytes > kMaxStoredBytes) return false;
    path.insns_since_store = 0;
    path.jumps_since_store = 0;
    stored_bytes_ += bytes;
    StoredState s;
    s.state = std::make_unique<VerifierState>(path.state);
    s.pc = pc;
    s.parent = path.checkpoint;
    s.loop_epoch = path.loop_epoch;
    s.branches = 1;
    s.trail = std::move(path.trail);
    path.trail.clear();
    s.precise.resize(path.state.frames.size());
    stored_.push_back(std::move(s));
    path.checkpoint = static_cast<uint32_t>(stored_.size() - 1);
    list.push_back(path.checkpoint);
    ++report_.stats.stored_states;
    return false;
}

}  // namespace xbpf::verifier
