#include "verifier/program_info.hpp"

#include <algorithm>
#include <set>

#include "xbpf/isa.hpp"

namespace xbpf::verifier {

namespace {

constexpr LiveMask bit(int r) {
    return static_cast<LiveMask>(1u << r);
}
constexpr LiveMask kArgs = bit(1) | bit(2) | bit(3) | bit(4) | bit(5);
constexpr LiveMask kCallClobbers = bit(0) | kArgs;

bool is_conditional_jump(const Insn& insn) {
    if (!is_jmp_class(insn.opcode)) return false;
    const uint8_t code = insn.opcode & op::kCodeMask;
    return code != op::JA && code != op::CALL && code != op::EXIT;
}

bool is_jump(const Insn& insn) {
    if (!is_jmp_class(insn.opcode)) return false;
    const uint8_t code = insn.opcode & op::kCodeMask;
    return code != op::CALL && code != op::EXIT;
}

// Registers an instruction reads (use) and writes (def).
void uses_defs(const Insn& insn, const HelperCatalog* helpers, LiveMask& use, LiveMask& def) {
    use = 0;
    def = 0;
    const uint8_t cls = insn_class(insn.opcode);
    const uint8_t code = insn.opcode & op::kCodeMask;
    switch (cls) {
        case op::ALU:
        case op::ALU64:
            def = bit(insn.dst);
            if (code == op::MOV) {
                if ((insn.opcode & op::kSourceMask) == op::X) use = bit(insn.src);
            } else {
                use = bit(insn.dst);
                if ((insn.opcode & op::kSourceMask) == op::X && code != op::END &&
                    code != op::NEG) {
                    use |= bit(insn.src);
                }
            }
            break;
        case op::LDX:
            use = bit(insn.src);
            def = bit(insn.dst);
            break;
        case op::ST: use = bit(insn.dst); break;
        case op::STX:
            use = bit(insn.dst) | bit(insn.src);
            if ((insn.opcode & op::kModeMask) == op::ATOMIC) {
                if (insn.imm == op::CMPXCHG) {
                    use |= bit(0);
                    def = bit(0);
                } else if (insn.imm & op::FETCH) {
                    def = bit(insn.src);
                }
            }
            break;
        case op::LD:
            if (is_lddw(insn)) {
                def = bit(insn.dst);
            } else {  // legacy packet load
                use = bit(6);
                if ((insn.opcode & op::kModeMask) == op::IND) use |= bit(insn.src);
                def = kCallClobbers;
            }
            break;
        default:  // JMP, JMP32
            if (code == op::EXIT) {
                use = bit(0);
            } else if (code == op::CALL) {
                def = kCallClobbers;
                use = kArgs;
                if (insn.src == op::kCallHelper && helpers != nullptr) {
                    if (const auto* h = helpers->find(insn.imm)) {
                        use = 0;
                        for (int a = 0; a < 5; ++a) {
                            if (h->prototype.args[static_cast<size_t>(a)] != HelperArg::None) {
                                use |= bit(a + 1);
                            }
                        }
                    }
                }
                if ((insn.opcode & op::kSourceMask) == op::X) use |= bit(insn.dst);
            } else if (code != op::JA) {
                use = bit(insn.dst);
                if ((insn.opcode & op::kSourceMask) == op::X) use |= bit(insn.src);
            }
            break;
    }
}

}  // namespace

ProgramInfo::ProgramInfo(std::span<const Insn> program, const ProgramSpec* origin,
                         const HelperCatalog* helpers)
    : prune_point_(program.size(), false),
      loop_head_(program.size(), false),
      loop_body_(program.size(), false),
      second_slot_(program.size(), false),
      live_(program.size(), 0) {
    for (size_t pc = 0; pc < program.size(); ++pc) {
        if (is_lddw(program[pc]) && pc + 1 < program.size()) second_slot_[++pc] = true;
    }
    find_functions(program, origin);
    // Loop bodies as ranges [head, backward jump]: +1 where one starts, -1 after it ends.
    std::vector<int32_t> body_delta(program.size() + 1, 0);
    for (size_t pc = 0; pc < program.size(); ++pc) {
        if (second_slot_[pc]) continue;
        const Insn& insn = program[pc];
        if (is_jump(insn)) {
            const int64_t target = branch_target(program, pc);
            if (target >= 0 && static_cast<size_t>(target) < program.size()) {
                prune_point_[static_cast<size_t>(target)] = true;
                if (static_cast<size_t>(target) <= pc) {
                    loop_head_[static_cast<size_t>(target)] = true;
                    ++body_delta[static_cast<size_t>(target)];
                    --body_delta[pc + 1];
                }
            }
            if (is_conditional_jump(insn) && pc + 1 < program.size()) prune_point_[pc + 1] = true;
        } else if (insn.opcode == op::CALL_IMM && insn.src == op::kCallLocal &&
                   pc + 1 < program.size()) {
            prune_point_[pc + 1] = true;
        }
    }
    int32_t open_loops = 0;
    for (size_t pc = 0; pc < program.size(); ++pc) {
        open_loops += body_delta[pc];
        loop_body_[pc] = open_loops > 0;
    }
    for (const auto& f : functions_)
        prune_point_[f.start] = true;
    compute_liveness(program, helpers);
    stack_live_ = compute_stack_liveness(program, functions_, second_slot_);
}

void ProgramInfo::find_functions(std::span<const Insn> program, const ProgramSpec* origin) {
    std::set<uint32_t> starts{0};
    for (size_t pc = 0; pc < program.size(); ++pc) {
        if (second_slot_[pc]) continue;
        const Insn& insn = program[pc];
        const bool local_call = insn.opcode == op::CALL_IMM && insn.src == op::kCallLocal;
        const bool code_addr = is_lddw(insn) && insn.src == op::kImmCodeAddr;
        if (local_call || code_addr) {
            const int64_t target = branch_target(program, pc);
            if (target >= 0 && static_cast<size_t>(target) < program.size()) {
                starts.insert(static_cast<uint32_t>(target));
            }
        }
    }
    if (origin != nullptr) {
        for (const auto& fi : origin->func_info) {
            if (fi.insn < program.size()) starts.insert(fi.insn);
        }
    }
    for (auto it = starts.begin(); it != starts.end(); ++it) {
        FunctionInfo f;
        f.start = *it;
        auto next = std::next(it);
        f.end = next == starts.end() ? static_cast<uint32_t>(program.size()) : *next;
        functions_.push_back(f);
    }
    if (origin == nullptr) return;
    for (auto& f : functions_) {
        if (f.start == 0) f.name = origin->name;
        for (const auto& a : origin->appended) {
            if (a.insn == f.start) f.name = a.name;
        }
        for (const auto& fi : origin->func_info) {
            if (fi.insn != f.start || origin->btf == nullptr) continue;
            const BtfType* t = origin->btf->type(fi.type_id);
            if (t == nullptr || t->kind != BtfKind::Func) continue;
            f.btf_type = fi.type_id;
            if (!t->name.empty()) f.name = std::string(t->name);
            f.global = t->linkage == 1;
        }
    }
}

uint32_t ProgramInfo::function_of(uint32_t pc) const {
    auto it = std::upper_bound(functions_.begin(), functions_.end(), pc,
                               [](uint32_t v, const FunctionInfo& f) { return v < f.start; });
    return static_cast<uint32_t>(std::distance(functions_.begin(), it) - 1);
}

int ProgramInfo::function_starting_at(uint32_t pc) const {
    const uint32_t f = function_of(pc);
    return functions_[f].start == pc ? static_cast<int>(f) : -1;
}

void ProgramInfo::compute_liveness(std::span<const Insn> program, const HelperCatalog* helpers) {
    const size_t n = program.size();
    std::vector<LiveMask> use(n), def(n);
    for (size_t pc = 0; pc < n; ++pc) {
        if (!second_slot_[pc]) uses_defs(program[pc], helpers, use[pc], def[pc]);
    }
    // Backward iteration to a fixed point; for loop-free code one pass in reverse order
    // suffices, loops add a pass per nesting level.
    bool changed = true;
    while (changed) {
        changed = false;
        for (size_t i = n; i-- > 0;) {
            if (second_slot_[i]) continue;
            const Insn& insn = program[i];
            LiveMask out = 0;
            auto add = [&](int64_t succ) {
                if (succ >= 0 && static_cast<size_t>(succ) < n)
                    out |= live_[static_cast<size_t>(succ)];
            };
            const uint8_t code = insn.opcode & op::kCodeMask;
            const size_t next = i + (is_lddw(insn) ? 2 : 1);
            if (is_jmp_class(insn.opcode) && code == op::EXIT) {
                // no successor in this function
            } else if (is_jump(insn)) {
                add(branch_target(program, i));
                if (is_conditional_jump(insn)) add(static_cast<int64_t>(next));
            } else {
                add(static_cast<int64_t>(next));
            }
            const LiveMask in = static_cast<LiveMask>(use[i] | (out & ~def[i]));
            if (in != live_[i]) {
                live_[i] = in;
                changed = true;
            }
        }
    }
}

}  // namespace xbpf::verifier
