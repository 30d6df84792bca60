// Facts about the program's structure computed once before exploration: its functions, the
// instructions where paths meet (where states are stored and compared), and which registers
// are live at each instruction (dead registers are ignored when states are compared).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "verifier/state.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/insn.hpp"
#include "xbpf/object.hpp"

namespace xbpf::verifier {

struct FunctionInfo {
    uint32_t start = 0;
    uint32_t end = 0;       // one past the last slot
    std::string name;       // from the loader or BTF; "" when unknown
    bool global = false;    // BTF linkage global: verified once, on its own
    uint32_t btf_type = 0;  // its BTF FUNC type (0: none)
};

class ProgramInfo {
  public:
    ProgramInfo(std::span<const Insn> program, const ProgramSpec* origin,
                const HelperCatalog* helpers);

    const std::vector<FunctionInfo>& functions() const { return functions_; }
    // Index of the function containing `pc`.
    uint32_t function_of(uint32_t pc) const;
    // Index of the function starting at `pc`, or -1.
    int function_starting_at(uint32_t pc) const;
    bool is_prune_point(uint32_t pc) const { return prune_point_[pc]; }
    // The target of a backward jump: where loops start again.
    bool is_loop_head(uint32_t pc) const { return loop_head_[pc]; }
    // Between a loop head and a backward jump to it (inclusive): code a loop may run again.
    bool in_loop_body(uint32_t pc) const { return loop_body_[pc]; }
    bool is_second_slot(uint32_t pc) const { return second_slot_[pc]; }
    LiveMask live_in(uint32_t pc) const { return live_[pc]; }
    // Stack slots (bit i: fp-8(i+1)..fp-8i) of the function at `pc` that may be read before
    // they are written from `pc` on, calls included (stack_liveness.cpp).
    uint64_t stack_live_in(uint32_t pc) const { return stack_live_[pc]; }

  private:
    void find_functions(std::span<const Insn> program, const ProgramSpec* origin);
    void compute_liveness(std::span<const Insn> program, const HelperCatalog* helpers);

    std::vector<FunctionInfo> functions_;
    std::vector<bool> prune_point_;
    std::vector<bool> loop_head_;
    std::vector<bool> loop_body_;
    std::vector<bool> second_slot_;
    std::vector<LiveMask> live_;
    std::vector<uint64_t> stack_live_;
};

// See ProgramInfo::stack_live_in.
std::vector<uint64_t> compute_stack_liveness(std::span<const Insn> program,
                                             const std::vector<FunctionInfo>& functions,
                                             const std::vector<bool>& second_slot);

}  // namespace xbpf::verifier
