// The verifier: proves that every execution of a program is safe for its program type, or
// explains why it cannot, in words a person who has never read verifier internals can act on.
// No program runs in xbpf without it (docs/verifier.md describes what it proves and how).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "xbpf/helpers.hpp"
#include "xbpf/insn.hpp"
#include "xbpf/map_spec.hpp"
#include "xbpf/object.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf {

// Program size limits, as Linux's BPF_PROG_LOAD applies them: BPF_COMPLEXITY_LIMIT_INSNS for
// privileged loads, BPF_MAXINSNS otherwise. Longer programs are rejected before verification.
inline constexpr size_t kMaxProgramInsns = 1'000'000;
inline constexpr size_t kMaxUnprivilegedProgramInsns = 4096;

struct VerifierOptions {
    // Load as root would: pointers may be stored to maps or returned, and reads of stack bytes
    // never written are allowed, as Linux allows with CAP_BPF/CAP_PERFMON. Unprivileged loads
    // reject both.
    bool privileged = true;
    // Record the abstract state before every instruction in the report's log.
    bool verbose = false;
    // Give up (reject, saying why) after visiting this many instructions in all, as Linux does
    // at 1,000,000.
    uint64_t max_visited_instructions = 1'000'000;
};

struct VerifierInput {
    std::span<const Insn> program;  // structurally valid (validate_program), maps by index
    const ProgramType* type = nullptr;
    // lddw src 5/6 imm indexes these (the loader's Object::maps).
    std::span<const MapSpec> maps;
    const HelperCatalog* helpers = nullptr;
    // Optional: the program as the loader described it (its BTF, function and line info), for
    // source lines and function names in messages and for the types of global functions.
    const ProgramSpec* origin = nullptr;
    VerifierOptions options;
};

struct VerifierStats {
    uint64_t visited_instructions = 0;  // instruction visits in all, across paths and iterations
    uint64_t stored_states = 0;         // abstract states kept at join points
    uint32_t max_stack_depth = 0;       // bytes, over all frames of the deepest call chain
    double seconds = 0;
};

struct VerifierReport {
    bool accepted = false;
    // On rejection: the violated property in one sentence ("r3 may be NULL here: ...").
    std::string reason;
    // On rejection: the instruction it concerns.
    std::optional<uint32_t> pc;
    // On rejection: the whole explanation (instruction and its disassembly, source file:line
    // and text, the reason, the abstract state that matters, the branch path that leads there).
    std::string message;
    // Notes that do not reject the program (unreachable instructions...).
    std::vector<std::string> warnings;
    // On acceptance: every context access, for rewrite_context_accesses().
    std::vector<ContextAccess> context_accesses;
    // With options.verbose: the state before every instruction, one block per visit.
    std::string log;
    VerifierStats stats;
};

// Verifies a program. Deterministic: the same input gives the same report.
VerifierReport verify(const VerifierInput& input);

// The input for one program of a loaded object: its instructions and its loader description
// (BTF, function and line info) from `spec`, the object's maps, default options. The catalog
// defaults to Linux's helper prototypes.
VerifierInput program_verifier_input(const ProgramSpec& spec, std::span<const MapSpec> maps,
                                     const ProgramType& type,
                                     const HelperCatalog& helpers = HelperCatalog::linux_helpers());

}  // namespace xbpf
