// What the code generator needs to know about a validated program beyond each instruction:
// where functions start, which instructions are jumped to (and from behind, i.e. loop heads),
// and which registers are live after each instruction.
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <vector>

#include "xbpf/insn.hpp"

namespace xbpf::jit {

// Per-instruction flags.
enum : uint8_t {
    kJumpTarget = 1 << 0,     // some jump lands here
    kLoopHead = 1 << 1,       // some jump from here or later lands here
    kFunctionStart = 1 << 2,  // pc 0, a local call target or a code address taken by lddw
    kSecondSlot = 1 << 3,     // the second slot of an lddw
};

// Registers as a bit set: bit n is rn.
using RegSet = uint16_t;
inline constexpr RegSet reg_bit(int r) {
    return static_cast<RegSet>(1u << r);
}
// Calls f(r) for each register of `set`, lowest first (the set as it was when called).
template <typename F>
void for_each_register(RegSet set, F&& f) {
    for (; set != 0; set &= static_cast<RegSet>(set - 1))
        f(std::countr_zero(set));
}
inline constexpr RegSet kCallArgs = 0x3e;      // r1..r5
inline constexpr RegSet kCallClobbers = 0x3f;  // r0..r5

// Registers an instruction reads and writes.
struct UseDef {
    RegSet use = 0;
    RegSet def = 0;
};
UseDef use_def(const Insn& insn);

struct ProgramFacts {
    std::vector<uint8_t> flags;             // per slot
    std::vector<RegSet> live_after;         // per slot: registers read later before being written
    std::vector<uint32_t> functions;        // function starts, ascending (functions[0] == 0)
    bool takes_function_addresses = false;  // an lddw loads a function's address
    bool has_callx = false;

    // Per slot, and one more entry (0) past the end: registers read from here on before written.
    std::vector<RegSet> live_before;
    std::vector<UseDef> use_def;  // per slot

    bool is(size_t pc, uint8_t flag) const { return (flags[pc] & flag) != 0; }
    bool live(size_t pc, int reg) const { return (live_after[pc] & reg_bit(reg)) != 0; }
};

// Computes the facts of a program that passed validate_program().
ProgramFacts analyze_program(std::span<const Insn> program);

// Whether execution can continue from `pc` to the next instruction (not exit, not goto).
bool falls_through(const Insn& insn);

}  // namespace xbpf::jit
