// Builds a program's final instructions the way libbpf does: its own code, then every function
// it reaches through calls and function addresses (transitively), each appended once, with the
// call and lddw offsets rewritten to the new positions (imm = target - (pc + 1)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "loader/code_sections.hpp"
#include "xbpf/error.hpp"
#include "xbpf/insn.hpp"
#include "xbpf/object.hpp"

namespace xbpf::loader {

// Where a run of a section's code landed in the program.
struct Placement {
    uint32_t section = 0;
    uint32_t start = 0;  // first slot in the section
    uint32_t count = 0;
    uint32_t program_start = 0;  // first slot in the program
};

struct LinkedProgram {
    std::vector<Insn> insns;
    std::vector<Placement> placements;  // [0] is the program's own code
    std::vector<AppendedFunction> appended;
};

// Bounds the memory a whole object may expand to: appending subprograms to every program can
// otherwise grow quadratically with a crafted object.
class LinkBudget {
  public:
    explicit LinkBudget(size_t bytes) : remaining_(bytes) {}
    // Takes `bytes` from the budget; false when it would run out.
    bool take(size_t bytes) {
        if (bytes > remaining_) return false;
        remaining_ -= bytes;
        return true;
    }

  private:
    size_t remaining_;
};

// Linux's limit on the instructions of one program (BPF_COMPLEXITY_LIMIT_INSNS).
inline constexpr size_t kMaxProgramInsns = 1'000'000;

Result<LinkedProgram> link_program(const CodeSections& code, uint32_t section,
                                   const CodeFunction& entry, LinkBudget& budget);

}  // namespace xbpf::loader
