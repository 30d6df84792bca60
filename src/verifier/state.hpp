// The abstract state at one point of one path: registers and stack of every active frame (the
// main program and the bpf-to-bpf calls or callbacks it is in), and the references it holds.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "verifier/reg_state.hpp"

namespace xbpf::verifier {

// What one stack byte holds.
enum class StackByte : uint8_t {
    Invalid,  // never written
    Misc,     // some number
    Zero,     // the number 0
    Spill,    // part of the spilled register of its slot
};

// 8 bytes of stack, fp - 8*(i+1) .. fp - 8*i for slot i. A register stored here (8 bytes, or a
// narrower scalar) is kept whole so that loading it back gives the same facts.
struct StackSlot {
    std::array<StackByte, 8> bytes{};  // bytes[k] is at slot start + k
    uint8_t spill_start = 0;           // the spilled register's bytes within the slot
    uint8_t spill_size = 0;            // 0: nothing spilled
    RegState spilled;
};

struct FrameState {
    std::array<RegState, 11> regs;
    std::vector<StackSlot> stack;  // grows on demand: slot i is fp-8(i+1)..fp-8i
    uint32_t callsite = 0;         // instruction that called this frame (frames > 0)
    uint32_t function = 0;         // index of the function running in this frame
    // A callback frame: its exit returns to the helper call at `callsite`, which may call the
    // callback again.
    bool callback = false;
    int32_t callback_helper = 0;  // the helper that calls it (bpf_loop, for_each_map_elem)
    // A callback frame: r1..r5 as the helper passes them, to enter it again.
    std::vector<RegState> callback_args;
};

// A reference the program must release before it exits (a ring-buffer reservation).
struct Reference {
    uint32_t id = 0;
    uint32_t pc = 0;  // where it was acquired
};

struct VerifierState {
    std::vector<FrameState> frames;
    std::vector<Reference> refs;

    FrameState& cur() { return frames.back(); }
    const FrameState& cur() const { return frames.back(); }
    RegState& reg(int r) { return frames.back().regs[static_cast<size_t>(r)]; }
    const RegState& reg(int r) const { return frames.back().regs[static_cast<size_t>(r)]; }
    size_t depth() const { return frames.size() - 1; }
};

// Registers live at an instruction (bit r set: r may be read before written), per frame: the
// innermost frame at its current instruction, outer frames at their return sites.
using LiveMask = uint16_t;

// Which numbers of a frame's state were found to matter while exploring from it (a bound used
// for memory, a size, a branch its range decided...): register r is bit r of `regs`, the
// scalar spilled in stack slot i (fp-8(i+1)..fp-8i) bit i of `slots`. Every other number of an
// explored state stands for any number when states are compared (as Linux's precision marks).
struct FramePrecision {
    uint16_t regs = 0;
    uint64_t slots = 0;
    bool empty() const { return regs == 0 && slots == 0; }
};
using Precision = std::vector<FramePrecision>;  // per frame, outermost first

// Whether every concrete state of `cur` is also a concrete state of `old` as far as exploring
// it is concerned (so exploring `cur` cannot find anything exploring `old` did not). Dead
// registers are ignored; numbers of `old` that `precise` does not mark match any number
// (`precise` null: every number is compared exactly).
bool covers(const VerifierState& old, const VerifierState& cur,
            const std::vector<LiveMask>& live_per_frame, const Precision* precise);
// A state holding the concrete states of both (they must have the same frames and
// references); false when their shapes are too different to combine.
// New ids (for packet positions the join unlinks) are taken from `fresh_ids`.
bool join_into(VerifierState& cur, const VerifierState& other, bool widen, uint32_t& fresh_ids);

// Stack access helpers. Offsets are from the frame pointer (negative).
StackSlot* stack_slot(FrameState& frame, int32_t fp_off, bool create);
const StackSlot* stack_slot(const FrameState& frame, int32_t fp_off);
StackByte stack_byte(const FrameState& frame, int32_t fp_off);

// Replaces every register (all frames, spills) that satisfies `pred` by `make(reg)`.
template <typename Pred, typename Fn>
void for_each_reg(VerifierState& state, Pred pred, Fn fn) {
    for (auto& frame : state.frames) {
        for (auto& r : frame.regs) {
            if (pred(r)) fn(r);
        }
        for (auto& slot : frame.stack) {
            if (slot.spill_size != 0 && pred(slot.spilled)) fn(slot.spilled);
        }
    }
}

}  // namespace xbpf::verifier
