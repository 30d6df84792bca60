// The entry point: structural checks, exploration from the program's entry, the whole-program
// checks that follow it (stack use across call chains, unreachable code), and the report.
#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <functional>

#include "verifier/analyzer.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {

namespace verifier {

Analyzer::Analyzer(const VerifierInput& input)
    : input_(input),
      prog_(input.program),
      type_(*input.type),
      info_(input.program, input.origin, input.helpers),
      privileged_(input.options.privileged),
      sleepable_(input.type->always_sleepable ||
                 (input.origin != nullptr && input.origin->sleepable)),
      states_at_(input.program.size()),
      joins_at_(input.program.size(), 0),
      visited_(input.program.size(), false),
      noted_privileged_(input.program.size(), false),
      access_kind_(input.program.size(), 0),
      ctx_access_(input.program.size()),
      stack_depth_(info_.functions().size(), 0),
      callees_(info_.functions().size()),
      global_verified_(info_.functions().size(), 0),
      global_params_(info_.functions().size()),
      budget_(input.options.max_visited_instructions) {
    history_.push_back(BranchStep{});
}

VerifierReport Analyzer::run() {
    Path entry;
    FrameState frame;
    frame.regs[1] = RegState::pointer(RegType::Context);
    frame.regs[kFramePointer] = RegState::pointer(RegType::Stack);
    entry.state.frames.push_back(std::move(frame));
    try {
        explore_from(std::move(entry));
        // Stack use along every call chain, frames rounded up to 32 bytes as Linux does.
        std::vector<int> on_chain(info_.functions().size(), 0);
        std::function<uint32_t(uint32_t, std::vector<uint32_t>&)> deepest =
            [&](uint32_t f, std::vector<uint32_t>& chain) -> uint32_t {
            const uint32_t own = (std::max<uint32_t>(stack_depth_[f], 1) + 31) / 32 * 32;
            on_chain[f] = 1;
            uint32_t best = 0;
            std::vector<uint32_t> best_chain;
            for (uint32_t c : callees_[f]) {
                if (on_chain[c]) continue;
                std::vector<uint32_t> sub;
                const uint32_t d = deepest(c, sub);
                if (d > best) {
                    best = d;
                    best_chain = sub;
                }
            }
            on_chain[f] = 0;
            chain.push_back(f);
            chain.insert(chain.end(), best_chain.begin(), best_chain.end());
            return own + best;
        };
        std::vector<uint32_t> chain;
        const uint32_t total = deepest(0, chain);
        report_.stats.max_stack_depth = stack_depth_.empty() ? 0 : total;
        if (total > static_cast<uint32_t>(kStackSize) && chain.size() > 1) {
            std::string names;
            for (uint32_t f : chain) {
                const auto& fn = info_.functions()[f];
                if (!names.empty()) names += " -> ";
                names += fn.name.empty() ? fmt::format("function at {}", fn.start) : fn.name;
            }
            reject(info_.functions()[chain.back()].start,
                   fmt::format("the call chain {} uses {} bytes of stack in all; the limit is {} "
                               "bytes across all frames",
                               names, total, kStackSize));
        }
    } catch (const Rejection& r) {
        report_.accepted = false;
        report_.pc = r.pc;
        report_.reason = r.reason;
        std::string msg = fmt::format("instruction {}: {}\n", r.pc, insn_text(r.pc));
        if (input_.origin != nullptr) {
            if (const LineInfo* line = input_.origin->line_at(r.pc);
                line != nullptr && line->line != 0) {
                msg += fmt::format("  at {}:{}: {}\n", line->file, line->line, line->source);
            }
        }
        msg += r.reason + "\n";
        if (!r.state_text.empty()) msg += "state:\n" + r.state_text;
        if (!r.path_text.empty()) msg += "path (branches from the start):\n" + r.path_text;
        report_.message = msg;
        report_.stats.visited_instructions = visited_insns_;
        return std::move(report_);
    }
    report_.accepted = true;
    // Unreachable instructions: reported, not fatal.
    for (size_t pc = 0; pc < prog_.size();) {
        if (visited_[pc] || info_.is_second_slot(static_cast<uint32_t>(pc))) {
            ++pc;
            continue;
        }
        size_t end = pc;
        while (end < prog_.size() && !visited_[end])
            ++end;
        report_.warnings.push_back(
            end - pc == 1 ? fmt::format("instruction {} is unreachable{}", pc,
                                        source_at(static_cast<uint32_t>(pc)))
                          : fmt::format("instructions {}-{} are unreachable{}", pc, end - 1,
                                        source_at(static_cast<uint32_t>(pc))));
        pc = end;
    }
    for (const auto& access : ctx_access_) {
        if (access.size != 0) report_.context_accesses.push_back(access);
    }
    report_.stats.visited_instructions = visited_insns_;
    return std::move(report_);
}

}  // namespace verifier

VerifierInput program_verifier_input(const ProgramSpec& spec, std::span<const MapSpec> maps,
                                     const ProgramType& type, const HelperCatalog& helpers) {
    VerifierInput input;
    input.program = spec.insns;
    input.type = &type;
    input.maps = maps;
    input.helpers = &helpers;
    input.origin = &spec;
    return input;
}

VerifierReport verify(const VerifierInput& input) {
    const auto start = std::chrono::steady_clock::now();
    VerifierReport report;
    auto finish = [&start](VerifierReport r) {
        r.stats.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return r;
    };
    auto fail = [&](std::string reason, std::optional<uint32_t> pc = std::nullopt) {
        report.accepted = false;
        report.reason = reason;
        report.pc = pc;
        report.message = pc ? fmt::format("instruction {}: {}\n", *pc, reason) : reason + "\n";
        return finish(std::move(report));
    };
    if (input.type == nullptr) return fail("no program type was given");
    if (input.program.empty()) return fail("the program has no instructions");
    // Linux refuses longer programs at BPF_PROG_LOAD with E2BIG, before verifying them.
    const size_t limit = input.options.privileged ? kMaxProgramInsns : kMaxUnprivilegedProgramInsns;
    if (input.program.size() > limit) {
        return fail(fmt::format(
            "the program has {} instructions; {} loads may have at most {} (Linux's {})",
            input.program.size(), input.options.privileged ? "privileged" : "unprivileged", limit,
            input.options.privileged ? "BPF_COMPLEXITY_LIMIT_INSNS" : "BPF_MAXINSNS"));
    }
    ValidateOptions vopts;
    vopts.require_resolved = false;
    if (auto s = validate_program(input.program, vopts); !s) return fail(s.error().to_string());
    verifier::Analyzer analyzer(input);
    return finish(analyzer.run());
}

}  // namespace xbpf
