// Words for people: where an instruction is (index, disassembly, source line), where a value
// came from, the registers that matter, and the branches that lead to a point.
#include <fmt/format.h>

#include "verifier/analyzer.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::verifier {

std::string Analyzer::source_at(uint32_t pc) const {
    if (input_.origin == nullptr) return "";
    const LineInfo* line = input_.origin->line_at(pc);
    if (line == nullptr || line->line == 0) return "";
    std::string file(line->file);
    if (const auto slash = file.rfind('/'); slash != std::string::npos)
        file = file.substr(slash + 1);
    return fmt::format(" ({}:{})", file, line->line);
}

std::string Analyzer::insn_text(uint32_t pc) const {
    DisasmOptions options;
    options.labels = false;
    options.map_name = [this](const Insn& lddw) -> std::string {
        if ((lddw.src == op::kImmMapByIdx || lddw.src == op::kImmMapValueByIdx) && lddw.imm >= 0 &&
            static_cast<size_t>(lddw.imm) < input_.maps.size()) {
            return fmt::format("map[{}]", input_.maps[static_cast<size_t>(lddw.imm)].name);
        }
        return "";
    };
    return disassemble_insn(prog_, pc, options);
}

std::string Analyzer::describe_origin(const RegState& reg) const {
    const uint32_t pc = reg.origin_pc;
    if (pc >= prog_.size()) return "the value";
    const Insn& insn = prog_[pc];
    if (insn.opcode == op::CALL_IMM && insn.src == op::kCallHelper) {
        const HelperDefinition* h =
            input_.helpers != nullptr ? input_.helpers->find(insn.imm) : nullptr;
        const std::string name =
            h != nullptr ? h->prototype.name : std::string(linux_helper_name(insn.imm));
        return fmt::format("{} at instruction {}{}", name, pc, source_at(pc));
    }
    if (insn_class(insn.opcode) == op::LDX) {
        return fmt::format("the load at instruction {}{}", pc, source_at(pc));
    }
    return fmt::format("the value from instruction {}{}", pc, source_at(pc));
}

std::string Analyzer::describe_state(const VerifierState& state,
                                     const std::vector<int>& regs) const {
    std::string out;
    for (int r : regs) {
        if (r < 0 || r > 10) continue;
        out += fmt::format("  r{} = {}\n", r, state.reg(r).to_string());
    }
    return out;
}

std::string Analyzer::describe_path(uint32_t history) const {
    std::vector<const BranchStep*> steps;
    for (uint32_t i = history; i != 0; i = history_[i].parent)
        steps.push_back(&history_[i]);
    if (steps.empty()) return "  (no branches: straight from the start)\n";
    std::string out;
    size_t shown = 0;
    const size_t limit = 40;
    if (steps.size() > limit)
        out += fmt::format("  ... {} earlier branches\n", steps.size() - limit);
    for (size_t i = std::min(steps.size(), limit); i-- > 0;) {
        const BranchStep& s = *steps[i];
        out += fmt::format("  {}: {} ({}){}\n", s.pc, insn_text(s.pc),
                           s.taken ? "jumped" : "fell through", source_at(s.pc));
        ++shown;
    }
    return out;
}

void Analyzer::note_privileged(uint32_t pc, const std::string& what) {
    // Notes are for people: a handful say enough, and a long list would cost time on programs
    // that do it everywhere.
    constexpr size_t kMaxNotes = 16;
    if (!privileged_ || noted_privileged_[pc]) return;
    noted_privileged_[pc] = true;
    if (report_.warnings.size() >= kMaxNotes) return;
    report_.warnings.push_back(fmt::format(
        "instruction {}{}: {}; allowed because the load is privileged (an unprivileged load is "
        "rejected for it)",
        pc, source_at(pc), what));
}

void Analyzer::log_state(const Path& path) {
    const VerifierState& st = path.state;
    std::string regs;
    for (int r = 0; r <= 10; ++r) {
        const RegState& reg = st.reg(r);
        if (reg.type == RegType::NotInit) continue;
        if (r == 10 && st.frames.size() == 1) continue;
        regs += fmt::format(" r{}={}", r, reg.to_string());
    }
    std::string stack;
    const FrameState& frame = st.cur();
    for (size_t i = 0; i < frame.stack.size(); ++i) {
        const StackSlot& slot = frame.stack[i];
        std::string bytes;
        bool any = false;
        for (size_t k = 0; k < 8; ++k) {
            const char c = "?mzs"[static_cast<int>(slot.bytes[k])];
            bytes += c;
            if (c != '?') any = true;
        }
        if (!any) continue;
        stack += fmt::format(" fp-{}={}", (i + 1) * 8, bytes);
        if (slot.spill_size != 0) stack += fmt::format("({})", slot.spilled.to_string());
    }
    report_.log +=
        fmt::format("{}: {}{}\n   {}{}{}\n", path.pc, insn_text(path.pc), source_at(path.pc),
                    st.frames.size() > 1 ? fmt::format("[frame {}]", st.depth()) : "", regs, stack);
}

}  // namespace xbpf::verifier
