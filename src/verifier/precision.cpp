// Precision: which numbers' exact values the proof relied on. A stored state is compared with a
// new arrival number by number only where exploring below it relied on the number (a bound used
// for a memory access or a pointer, a helper's size, a branch whose outcome the range decided,
// the return value); elsewhere any number covers any number, so paths that differ in counters,
// hashes or accumulators nobody checks are pruned (as Linux's precision tracking does).
//
// When a rule relies on a number, require_precise() follows the data flow backwards along the
// instructions the path executed (its trail) to each stored state it descends from, and marks
// there the registers and spilled stack slots the number was computed from. Pruning against a
// state only happens once it is completely explored, so its marks are final by then; a path
// pruned against a state inherits that state's marks as its own requirements.
#include "verifier/analyzer.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::verifier {

namespace {

constexpr size_t kMaxFrames = 16;
constexpr uint16_t kArgRegs = 0x3e;        // r1-r5
constexpr uint16_t kCallClobbered = 0x3f;  // r0-r5

bool any_need(const Precision& needs) {
    for (const auto& f : needs) {
        if (!f.empty()) return true;
    }
    return false;
}

uint16_t bit(int r) {
    return static_cast<uint16_t>(1u << r);
}

}  // namespace

void Analyzer::backtrack(const std::vector<TrailStep>& trail, uint32_t next_pc, uint8_t next_frame,
                         Precision& needs) const {
    uint32_t after_pc = next_pc;
    for (size_t i = trail.size(); i-- > 0;) {
        const TrailStep& s = trail[i];
        const uint8_t after_frame = i + 1 < trail.size() ? trail[i + 1].frame : next_frame;
        const Insn& insn = prog_[s.pc];
        FramePrecision& nf = needs[s.frame];
        const uint8_t cls = insn_class(insn.opcode);
        const uint8_t code = insn.opcode & op::kCodeMask;
        const bool use_reg = (insn.opcode & op::kSourceMask) == op::X;
        const uint16_t dst = bit(insn.dst);
        const uint16_t src = bit(insn.src);
        switch (cls) {
            case op::ALU:
            case op::ALU64:
                if ((nf.regs & dst) == 0) break;
                if (code == op::MOV) {
                    nf.regs &= static_cast<uint16_t>(~dst);
                    if (use_reg) nf.regs |= src;
                } else if (use_reg && code != op::NEG && code != op::END) {
                    nf.regs |= src;  // dst = dst op src
                }
                break;
            case op::LDX:
                if ((nf.regs & dst) == 0) break;
                nf.regs &= static_cast<uint16_t>(~dst);
                if (s.stack_slot == TrailStep::kSeveralSlots) {
                    needs[s.stack_frame].slots = ~uint64_t{0};
                } else if (s.stack_slot != TrailStep::kNoSlot) {
                    needs[s.stack_frame].slots |= uint64_t{1} << s.stack_slot;
                }
                break;
            case op::ST:
            case op::STX: {
                if (s.stack_slot == TrailStep::kNoSlot) break;
                FramePrecision& target = needs[s.stack_frame];
                const bool atomic = (insn.opcode & op::kModeMask) == op::ATOMIC;
                const bool several = s.stack_slot == TrailStep::kSeveralSlots;
                const uint64_t slot = several ? ~uint64_t{0} : uint64_t{1} << s.stack_slot;
                if (atomic) {
                    // The fetched register takes the old value; the slot takes old op src.
                    const uint16_t fetched = insn.imm == op::CMPXCHG  ? bit(0)
                                             : (insn.imm & op::FETCH) ? src
                                                                      : 0;
                    if ((nf.regs & fetched) != 0) {
                        nf.regs &= static_cast<uint16_t>(~fetched);
                        target.slots |= slot;
                    }
                    if ((target.slots & slot) != 0) nf.regs |= src;
                    break;
                }
                if ((target.slots & slot) == 0) break;
                if (cls == op::STX) nf.regs |= src;
                // A whole-slot store replaces everything the slot held before.
                if (!several && access_size(insn.opcode) == 8) target.slots &= ~slot;
                break;
            }
            case op::LD:
                if (is_lddw(insn)) {
                    nf.regs &= static_cast<uint16_t>(~dst);
                } else {
                    nf.regs &= static_cast<uint16_t>(~kCallClobbered);  // r0 from the packet
                }
                break;
            default:  // JMP, JMP32
                if (code == op::CALL) {
                    const bool entered = after_frame != 0xff && after_frame > s.frame;
                    // r0-r5 after the call are the call's; before it, r1-r5 are the arguments.
                    nf.regs &= static_cast<uint16_t>(~kCallClobbered);
                    if (insn.src == op::kCallLocal && entered) {
                        nf.regs |= needs[s.frame + 1u].regs & kArgRegs;
                    }
                    for (size_t f = s.frame + 1u; f < needs.size(); ++f)
                        needs[f] = FramePrecision{};
                } else if (code == op::EXIT) {
                    if (after_frame != 0xff && after_frame + 1u == s.frame) {
                        // Back in the caller: r0 is this function's r0 unless a helper called
                        // it (a callback), whose result the caller never sees.
                        FramePrecision& caller = needs[after_frame];
                        const bool function_return = after_pc > 0 &&
                                                     prog_[after_pc - 1].opcode == op::CALL_IMM &&
                                                     prog_[after_pc - 1].src == op::kCallLocal;
                        if (function_return && (caller.regs & bit(0)) != 0) nf.regs |= bit(0);
                        caller.regs &= static_cast<uint16_t>(~bit(0));
                    } else if (after_frame == s.frame) {
                        // A callback entered again: the new frame's values are the helper's.
                        nf = FramePrecision{};
                    }
                } else if (code != op::JA && use_reg && any_need(needs)) {
                    // A comparison of two registers refines both and every copy of either;
                    // a needed number may be such a copy, so both operands are needed.
                    nf.regs |= static_cast<uint16_t>(dst | src);
                }
                break;
        }
        after_pc = s.pc;
    }
}

void Analyzer::require_precise(Path& path, Precision needs) {
    needs.resize(kMaxFrames);
    // The instruction being executed has not changed its operands yet: skip its own step.
    std::vector<TrailStep> own;
    const std::vector<TrailStep>* trail = &path.trail;
    if (in_step_ && !path.trail.empty() && path.trail.back().pc == path.pc) {
        own.assign(path.trail.begin(), path.trail.end() - 1);
        trail = &own;
    }
    backtrack(*trail, path.pc, static_cast<uint8_t>(path.state.depth()), needs);
    uint32_t idx = path.checkpoint;
    while (idx != Path::kNoCheckpoint && any_need(needs)) {
        StoredState& s = stored_[idx];
        bool added = false;
        for (size_t f = 0; f < s.precise.size(); ++f) {
            FramePrecision want = needs[f];
            if (s.state) {
                // Only numbers can be imprecise: pointers are always compared exactly.
                const FrameState& frame = s.state->frames[f];
                for (int r = 0; r < 11; ++r) {
                    if (!frame.regs[static_cast<size_t>(r)].is_scalar())
                        want.regs &= static_cast<uint16_t>(~bit(r));
                }
                for (size_t i = 0; i < 64; ++i) {
                    const bool scalar_spill = i < frame.stack.size() &&
                                              frame.stack[i].spill_size != 0 &&
                                              frame.stack[i].spilled.is_scalar();
                    if (!scalar_spill) want.slots &= ~(uint64_t{1} << i);
                }
            }
            FramePrecision& have = s.precise[f];
            FramePrecision fresh{static_cast<uint16_t>(want.regs & ~have.regs),
                                 want.slots & ~have.slots};
            have.regs |= fresh.regs;
            have.slots |= fresh.slots;
            added |= !fresh.empty();
            needs[f] = fresh;
        }
        for (size_t f = s.precise.size(); f < needs.size(); ++f)
            needs[f] = FramePrecision{};
        // Marks already present were propagated further up when they were set.
        if (!added) break;
        backtrack(s.trail, s.pc, static_cast<uint8_t>(s.precise.size() - 1), needs);
        idx = s.parent;
    }
}

void Analyzer::require_precise_reg(Path& path, int regno) {
    if (regno < 0 || regno > 10 || !path.state.reg(regno).is_scalar()) return;
    Precision needs(path.state.frames.size());
    needs.back().regs = bit(regno);
    require_precise(path, std::move(needs));
}

void Analyzer::require_precise_slot(Path& path, uint8_t frame, int32_t fp_off) {
    if (fp_off >= 0 || fp_off < -kStackSize || frame >= path.state.frames.size()) return;
    Precision needs(path.state.frames.size());
    needs[frame].slots = uint64_t{1} << ((-fp_off - 1) / 8);
    require_precise(path, std::move(needs));
}

}  // namespace xbpf::verifier
