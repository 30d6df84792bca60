// Which stack slots may be read before they are written, per instruction: dead slots (a spilled
// temporary, a map key written before every lookup) are cleared before states are stored and
// compared, so paths that differ only in them are pruned. This is what lets long chains of
// lookups and unrolled loops verify in linear time.
//
// The analysis is per function and static, in two passes:
// 1. Forward: which registers hold the frame pointer plus a known constant (r10, copies of it,
//    and constants added to those). If the frame pointer escapes in a way the analysis cannot
//    follow (stored to memory, a variable added to it, different offsets meeting at a join
//    and then used), every slot of the function counts as live everywhere.
// 2. Backward: loads through such a register use the slots they touch; 8-byte stores of a
//    whole slot kill it; a call (helper or function) that receives a pointer to fp+c may read
//    every slot from c up to the frame pointer.
#include <algorithm>

#include "verifier/program_info.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::verifier {

namespace {

// What the forward pass knows about a register.
struct FpValue {
    enum Kind : uint8_t { None, Offset, Unknown } kind = None;  // Unknown: fp + something
    int32_t off = 0;
    friend bool operator==(const FpValue&, const FpValue&) = default;
};

using FpRegs = std::array<FpValue, 11>;

FpValue meet(const FpValue& a, const FpValue& b) {
    if (a == b) return a;
    if (a.kind == FpValue::None && b.kind == FpValue::None) return a;
    return FpValue{FpValue::Unknown, 0};
}

// Slots touched by bytes [lo, hi) relative to the frame pointer, as a mask.
uint64_t slots_of(int64_t lo, int64_t hi) {
    uint64_t mask = 0;
    lo = std::max<int64_t>(lo, -kStackSize);
    hi = std::min<int64_t>(hi, 0);
    for (int64_t b = lo; b < hi; b += 1) {
        const auto slot = static_cast<unsigned>((-b - 1) / 8);
        if (slot < 64) mask |= uint64_t{1} << slot;
    }
    return mask;
}

bool is_exit(const Insn& insn) {
    return is_jmp_class(insn.opcode) && (insn.opcode & op::kCodeMask) == op::EXIT;
}

bool is_call(const Insn& insn) {
    return is_jmp_class(insn.opcode) && (insn.opcode & op::kCodeMask) == op::CALL;
}

bool is_branch(const Insn& insn) {
    if (!is_jmp_class(insn.opcode)) return false;
    const uint8_t code = insn.opcode & op::kCodeMask;
    return code != op::CALL && code != op::EXIT;
}

class FunctionStack {
  public:
    FunctionStack(std::span<const Insn> prog, const std::vector<bool>& second_slot, uint32_t start,
                  uint32_t end)
        : prog_(prog), second_(second_slot), start_(start), end_(end) {}

    // Fills live[start, end); false when the frame pointer escapes (all slots live).
    bool run(std::vector<uint64_t>& live) {
        if (!forward()) return false;
        backward(live);
        return true;
    }

  private:
    std::vector<uint32_t> successors(uint32_t pc) const {
        const Insn& insn = prog_[pc];
        const uint32_t next = pc + (is_lddw(insn) ? 2 : 1);
        if (is_exit(insn)) return {};
        if (is_branch(insn)) {
            const auto target = static_cast<uint32_t>(branch_target(prog_, pc));
            if ((insn.opcode & op::kCodeMask) == op::JA) return {target};
            return {target, next};
        }
        return {next};
    }

    bool inside(uint32_t pc) const { return pc >= start_ && pc < end_; }

    // The forward pass: registers holding fp + constant at each instruction's entry.
    bool forward() {
        const size_t n = end_ - start_;
        in_.assign(n, FpRegs{});
        std::vector<bool> reached(n, false), queued(n, false);
        FpRegs entry{};
        entry[kFramePointer] = FpValue{FpValue::Offset, 0};
        in_[0] = entry;
        reached[0] = true;
        std::vector<uint32_t> work{start_};
        queued[0] = true;
        while (!work.empty()) {
            const uint32_t pc = work.back();
            work.pop_back();
            queued[pc - start_] = false;
            FpRegs out = in_[pc - start_];
            if (!transfer(pc, out)) return false;
            for (uint32_t s : successors(pc)) {
                if (!inside(s) || second_[s]) return false;  // leaves the function
                const size_t i = s - start_;
                FpRegs merged = out;
                if (reached[i]) {
                    for (size_t r = 0; r < merged.size(); ++r)
                        merged[r] = meet(in_[i][r], out[r]);
                }
                if (!reached[i] || merged != in_[i]) {
                    reached[i] = true;
                    in_[i] = merged;
                    if (!queued[i]) {
                        queued[i] = true;
                        work.push_back(s);
                    }
                }
            }
        }
        return true;
    }

    // Applies one instruction to `regs`; false when the frame pointer escapes.
    bool transfer(uint32_t pc, FpRegs& regs) const {
        const Insn& insn = prog_[pc];
        const uint8_t cls = insn_class(insn.opcode);
        const uint8_t code = insn.opcode & op::kCodeMask;
        const bool use_reg = (insn.opcode & op::kSourceMask) == op::X;
        auto fp = [&regs](int r) { return regs[static_cast<size_t>(r)].kind != FpValue::None; };
        switch (cls) {
            case op::ALU64:
            case op::ALU: {
                FpValue& d = regs[insn.dst];
                if (code == op::MOV) {
                    if (use_reg && cls == op::ALU64 && insn.off == 0) {
                        d = regs[insn.src];
                    } else {
                        if (use_reg && fp(insn.src))
                            return false;  // a 32-bit or sign-extended copy
                        d = FpValue{};
                    }
                    return true;
                }
                if (use_reg && fp(insn.src) && code != op::END && code != op::NEG) {
                    // fp - fp is a distance (a number); anything else mixes the address in.
                    if (code == op::SUB && cls == op::ALU64 && fp(insn.dst)) {
                        d = FpValue{};
                        return true;
                    }
                    return false;
                }
                if (!fp(insn.dst)) return true;
                if (cls == op::ALU64 && !use_reg && (code == op::ADD || code == op::SUB)) {
                    if (d.kind == FpValue::Offset) {
                        const int64_t off = static_cast<int64_t>(d.off) +
                                            (code == op::ADD ? insn.imm : -int64_t{insn.imm});
                        if (off < -(1 << 20) || off > (1 << 20)) return false;
                        d.off = static_cast<int32_t>(off);
                    }
                    return true;
                }
                if (cls == op::ALU64 && use_reg && (code == op::ADD || code == op::SUB)) {
                    d = FpValue{FpValue::Unknown, 0};  // a variable offset: usable only as Unknown
                    return true;
                }
                return false;  // other arithmetic on a stack address
            }
            case op::LDX: regs[insn.dst] = FpValue{}; return true;
            case op::ST: return true;
            case op::STX:
                if (fp(insn.src)) return false;  // a stack address stored in memory
                if ((insn.opcode & op::kModeMask) == op::ATOMIC && (insn.imm & op::FETCH)) {
                    if (insn.imm == op::CMPXCHG)
                        regs[0] = FpValue{};
                    else
                        regs[insn.src] = FpValue{};
                }
                return true;
            case op::LD:
                if (is_lddw(insn)) {
                    regs[insn.dst] = FpValue{};
                } else {
                    for (int r = 0; r <= 5; ++r)
                        regs[static_cast<size_t>(r)] = FpValue{};
                }
                return true;
            default:
                if (is_call(insn)) {
                    if (use_reg) return false;  // callx: who knows what it reads
                    for (int r = 0; r <= 5; ++r)
                        regs[static_cast<size_t>(r)] = FpValue{};
                } else if (is_exit(insn) && fp(0)) {
                    return false;
                }
                return true;
        }
    }

    // Stack bytes an instruction may read (uses) and whole slots it overwrites (kills).
    void uses_kills(uint32_t pc, uint64_t& use, uint64_t& kill) const {
        use = kill = 0;
        const Insn& insn = prog_[pc];
        const FpRegs& regs = in_[pc - start_];
        const uint8_t cls = insn_class(insn.opcode);
        auto range = [&](int base, int32_t off, int size, uint64_t& out) {
            const FpValue& v = regs[static_cast<size_t>(base)];
            if (v.kind == FpValue::None) return;
            if (v.kind == FpValue::Unknown) {
                out |= ~uint64_t{0};
                return;
            }
            const int64_t lo = static_cast<int64_t>(v.off) + off;
            out |= slots_of(lo, lo + size);
        };
        if (cls == op::LDX) {
            range(insn.src, insn.off, access_size(insn.opcode), use);
        } else if (cls == op::ST || cls == op::STX) {
            const int size = access_size(insn.opcode);
            const FpValue& v = regs[insn.dst];
            const bool atomic = (insn.opcode & op::kModeMask) == op::ATOMIC;
            if (atomic) {
                range(insn.dst, insn.off, size, use);
            } else if (v.kind == FpValue::Offset && size == 8 &&
                       (static_cast<int64_t>(v.off) + insn.off) % 8 == 0) {
                const int64_t at = static_cast<int64_t>(v.off) + insn.off;
                kill = slots_of(at, at + 8);
            } else if (v.kind == FpValue::Unknown) {
                // A store at an unknown offset overwrites some bytes of some slots: no kill.
            }
        } else if (is_call(insn)) {
            // Anything reachable through a stack pointer argument, up to the frame pointer.
            for (int r = 1; r <= 5; ++r) {
                const FpValue& v = regs[static_cast<size_t>(r)];
                if (v.kind == FpValue::Offset) use |= slots_of(v.off, 0);
                if (v.kind == FpValue::Unknown) use |= ~uint64_t{0};
            }
        }
    }

    void backward(std::vector<uint64_t>& live) const {
        bool changed = true;
        while (changed) {
            changed = false;
            for (uint32_t pc = end_; pc-- > start_;) {
                if (second_[pc]) continue;
                uint64_t out = 0;
                for (uint32_t s : successors(pc)) {
                    if (inside(s)) out |= live[s];
                }
                uint64_t use = 0, kill = 0;
                uses_kills(pc, use, kill);
                const uint64_t in = use | (out & ~kill);
                if (in != live[pc]) {
                    live[pc] = in;
                    changed = true;
                }
            }
        }
    }

    std::span<const Insn> prog_;
    const std::vector<bool>& second_;
    uint32_t start_, end_;
    std::vector<FpRegs> in_;
};

}  // namespace

std::vector<uint64_t> compute_stack_liveness(std::span<const Insn> program,
                                             const std::vector<FunctionInfo>& functions,
                                             const std::vector<bool>& second_slot) {
    std::vector<uint64_t> live(program.size(), 0);
    for (const auto& f : functions) {
        FunctionStack analysis(program, second_slot, f.start, f.end);
        if (!analysis.run(live)) {
            std::fill(live.begin() + f.start, live.begin() + f.end, ~uint64_t{0});
        }
    }
    return live;
}

}  // namespace xbpf::verifier
