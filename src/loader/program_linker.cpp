#include "loader/program_linker.hpp"

#include <fmt/format.h>

#include <map>

namespace xbpf::loader {

namespace {

class Linker {
  public:
    Linker(const CodeSections& code, LinkBudget& budget) : code_(code), budget_(budget) {}

    Result<LinkedProgram> link(uint32_t section, const CodeFunction& entry) {
        if (auto s = place(section, entry); !s) return std::move(s).error();
        // Placements grow while earlier ones are scanned: breadth first over the call graph.
        for (size_t i = 0; i < out_.placements.size(); ++i) {
            if (auto s = resolve_targets(i); !s) return std::move(s).error();
        }
        return std::move(out_);
    }

  private:
    static std::string describe(const CodeSection& section, const CodeFunction& fn) {
        if (!fn.name.empty()) return fmt::format("function '{}'", fn.name);
        return fmt::format("code at instruction {} of {}", fn.start, section.elf->label());
    }

    // Appends a run of code to the program.
    Status place(uint32_t section, const CodeFunction& fn) {
        const CodeSection& source = code_.at(section);
        if (fn.count == 0) return Error(fmt::format("{} is empty", describe(source, fn)));
        if (out_.insns.size() + fn.count > kMaxProgramInsns) {
            return Error(
                fmt::format("the program grows past {} instructions with its "
                            "subprograms",
                            kMaxProgramInsns));
        }
        const size_t name_bytes = fn.name.empty() ? 32 : fn.name.size();
        if (!budget_.take(size_t{fn.count} * sizeof(Insn) + sizeof(Placement) + name_bytes)) {
            return Error("the object expands to too many instructions with its subprograms");
        }
        const auto program_start = static_cast<uint32_t>(out_.insns.size());
        // An lddw cut in two by the end of the function cannot be relocated or run.
        for (uint32_t i = 0; i < fn.count; ++i) {
            if (is_lddw(source.insns[fn.start + i])) {
                if (i + 1 == fn.count) {
                    return Error(fmt::format("the lddw at instruction {} is cut off by the end "
                                             "of {}",
                                             fn.start + i, describe(source, fn)))
                        .in(source.elf->label());
                }
                ++i;
            }
        }
        out_.insns.insert(out_.insns.end(), source.insns.begin() + fn.start,
                          source.insns.begin() + fn.start + fn.count);
        out_.placements.push_back({section, fn.start, fn.count, program_start});
        placed_[{section, fn.start}] = program_start;
        if (out_.placements.size() > 1) {
            std::string name = fn.name.empty() ? fmt::format("{}+{}", source.elf->name, fn.start)
                                               : std::string(fn.name);
            out_.appended.push_back({std::move(name), program_start});
        }
        return {};
    }

    // The program slot of a code location, placing the code that starts there if needed.
    Result<uint32_t> slot_of(const Placement& from, CodeTarget target) {
        if (target.section == from.section && target.slot >= from.start &&
            target.slot < from.start + from.count) {
            return from.program_start + (target.slot - from.start);
        }
        if (auto it = placed_.find(target); it != placed_.end()) return it->second;
        const CodeSection& section = code_.at(target.section);
        const CodeFunction fn = section.code_at(target.slot);
        if (auto s = place(target.section, fn); !s) return std::move(s).error();
        return placed_.at(target);
    }

    Status resolve_targets(size_t index) {
        const Placement here = out_.placements[index];
        const CodeSection& source = code_.at(here.section);
        for (uint32_t i = 0; i < here.count; ++i) {
            const uint32_t slot = here.start + i;
            const uint32_t pc = here.program_start + i;
            const Insn insn = out_.insns[pc];
            const bool local_call = insn.opcode == op::CALL_IMM && insn.src == op::kCallLocal;
            const bool code_address = is_lddw(insn) && insn.src == op::kImmCodeAddr;
            if (!local_call && !code_address) {
                if (is_lddw(insn)) ++i;
                continue;
            }
            CodeTarget target;
            if (auto it = source.relocated_targets.find(slot);
                it != source.relocated_targets.end()) {
                target = it->second;
            } else {
                // Resolved by clang within the section: relative to the next instruction.
                const int64_t to = int64_t{slot} + 1 + insn.imm;
                if (to < 0 || static_cast<uint64_t>(to) >= source.insns.size()) {
                    return Error(fmt::format("instruction {} {} instruction {}, outside the "
                                             "section ({} instructions)",
                                             slot, local_call ? "calls" : "takes the address of",
                                             to, source.insns.size()))
                        .in(source.elf->label());
                }
                target = {here.section, static_cast<uint32_t>(to)};
            }
            auto destination = slot_of(here, target);
            if (!destination) return std::move(destination).error();
            out_.insns[pc].imm = static_cast<int32_t>(int64_t{*destination} - (int64_t{pc} + 1));
            if (code_address) ++i;
        }
        return {};
    }

    const CodeSections& code_;
    LinkBudget& budget_;
    LinkedProgram out_;
    std::map<CodeTarget, uint32_t> placed_;  // code start -> program slot
};

}  // namespace

Result<LinkedProgram> link_program(const CodeSections& code, uint32_t section,
                                   const CodeFunction& entry, LinkBudget& budget) {
    Linker linker(code, budget);
    return linker.link(section, entry);
}

}  // namespace xbpf::loader
