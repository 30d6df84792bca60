// Conditional jumps: which way a branch can go, and what each way teaches: bounds of compared
// numbers (and of every copy of them), NULL checks of possibly-NULL pointers, and packet ranges
// proven by comparing a packet pointer with data_end.
#include <fmt/format.h>

#include "verifier/analyzer.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::verifier {

namespace {

constexpr int32_t kMaxPacketRange = 0xffff;

uint8_t swap_operands(uint8_t code) {
    switch (code) {
        case op::JGT: return op::JLT;
        case op::JLT: return op::JGT;
        case op::JGE: return op::JLE;
        case op::JLE: return op::JGE;
        case op::JSGT: return op::JSLT;
        case op::JSLT: return op::JSGT;
        case op::JSGE: return op::JSLE;
        case op::JSLE: return op::JSGE;
        default: return code;
    }
}

// For `pkt <code> end` (packet pointer on the left): the number of bytes from the pointer's
// origin proven inside the packet when the branch goes `taken`, or -1 for nothing.
int32_t packet_range_for(uint8_t code, bool taken, int32_t off) {
    // Which relation holds on this branch: pkt <= end (range off) or pkt < end (range off + 1).
    bool le = false, lt = false;
    switch (code) {
        case op::JGT: le = !taken; break;  // !(pkt > end): pkt <= end
        case op::JGE: lt = !taken; break;  // !(pkt >= end): pkt < end
        case op::JLT: lt = taken; break;
        case op::JLE: le = taken; break;
        default: break;
    }
    if (off < 0) return -1;
    if (le) return off;
    if (lt) return off + 1;
    return -1;
}

}  // namespace

void Analyzer::mark_ptr_or_null(VerifierState& state, uint32_t id, bool is_null) {
    for_each_reg(
        state, [id](const RegState& r) { return r.id == id && is_nullable(r.type); },
        [is_null](RegState& r) {
            if (is_null) {
                const uint32_t origin = r.origin_pc;
                r = RegState::scalar(Scalar::constant(0));
                r.origin_pc = origin;
            } else {
                r.type = non_null(r.type);
            }
        });
    if (is_null) {
        // A NULL reservation needs no release.
        std::erase_if(state.refs, [id](const Reference& ref) { return ref.id == id; });
    }
}

void Analyzer::apply_packet_length(Path& path, VerifierState& state, int regno) {
    const RegState& len = state.reg(regno);
    if (!len.has_pkt_len || len.value.smin <= 0) return;
    // data_end - (position + off) >= k (signed: a negative distance is not a length), so the
    // position's first off + k bytes are inside the packet.
    const int64_t proven = static_cast<int64_t>(len.pkt_len_off) + len.value.smin;
    if (proven <= 0) return;
    const int32_t range = static_cast<int32_t>(std::min<int64_t>(proven, kMaxPacketRange));
    const uint32_t id = len.pkt_len_id;
    bool used = false;
    for_each_reg(
        state, [id](const RegState& r) { return r.type == RegType::Packet && r.id == id; },
        [range, &used](RegState& r) {
            if (r.range < range) used = true;
            r.range = std::max(r.range, range);
        });
    // The length's lower bound now proves packet bytes: it matters.
    if (used) require_precise_reg(path, regno);
}

void Analyzer::propagate_scalar_bounds(VerifierState& state, const RegState& reg) {
    if (reg.id == 0 || reg.type != RegType::Scalar) return;
    for_each_reg(
        state, [&reg](const RegState& r) { return r.type == RegType::Scalar && r.id == reg.id; },
        [&reg](RegState& r) { r.value = reg.value; });
}

std::optional<uint32_t> Analyzer::check_jump(Path& path, const Insn& insn) {
    const uint32_t pc = path.pc;
    const uint8_t code = insn.opcode & op::kCodeMask;
    const bool is64 = insn_class(insn.opcode) == op::JMP;
    if (code == op::JA) return static_cast<uint32_t>(branch_target(prog_, pc));
    if (code == op::CALL) return check_call(path, insn);
    if (code == op::EXIT) return check_exit(path);

    const uint32_t target = static_cast<uint32_t>(branch_target(prog_, pc));
    const bool use_reg = (insn.opcode & op::kSourceMask) == op::X;
    RegState a = read_reg(path, insn.dst);
    RegState b = use_reg ? read_reg(path, insn.src)
                         : RegState::scalar(Scalar::constant(
                               is64 ? static_cast<uint64_t>(static_cast<int64_t>(insn.imm))
                                    : static_cast<uint32_t>(insn.imm)));

    // Explores the taken branch with `taken_state` (pushed) and continues with `fall_state`.
    auto branch = [&](std::optional<VerifierState> taken_state,
                      std::optional<VerifierState> fall_state) -> std::optional<uint32_t> {
        if (taken_state && fall_state) {
            fork(path, target, std::move(*taken_state), true);
            history_.push_back(BranchStep{pc, false, path.history});
            path.history = static_cast<uint32_t>(history_.size() - 1);
            path.state = std::move(*fall_state);
            return pc + 1;
        }
        if (taken_state) {
            path.state = std::move(*taken_state);
            return target;
        }
        if (fall_state) {
            path.state = std::move(*fall_state);
            return pc + 1;
        }
        return std::nullopt;  // neither way is possible: the path is dead
    };

    if (a.is_scalar() && b.is_scalar()) {
        std::optional<VerifierState> taken, fall;
        for (int way = 0; way < 2; ++way) {
            Scalar va = a.value, vb = b.value;
            if (!refine_branch(code, va, vb, is64, way == 0)) continue;
            VerifierState s = path.state;
            RegState& ra = s.reg(insn.dst);
            ra.value = va;
            propagate_scalar_bounds(s, ra);
            apply_packet_length(path, s, insn.dst);
            if (use_reg) {
                RegState& rb = s.reg(insn.src);
                rb.value = vb;
                propagate_scalar_bounds(s, rb);
                apply_packet_length(path, s, insn.src);
            }
            (way == 0 ? taken : fall) = std::move(s);
        }
        // The ranges decided the outcome: they matter (a loop bound, a length check...).
        if (!taken || !fall) {
            require_precise_reg(path, insn.dst);
            if (use_reg) require_precise_reg(path, insn.src);
        }
        return branch(std::move(taken), std::move(fall));
    }

    // A pointer compared with 0: a NULL check.
    const bool a_ptr = is_pointer(a.type);
    const bool b_ptr = is_pointer(b.type);
    if (a_ptr != b_ptr && (code == op::JEQ || code == op::JNE) && is64) {
        const RegState& ptr = a_ptr ? a : b;
        const RegState& num = a_ptr ? b : a;
        if (num.is_const(0)) {
            // The number being 0 makes this a NULL check.
            if (use_reg) require_precise_reg(path, a_ptr ? insn.src : insn.dst);
            const bool eq = code == op::JEQ;
            if (is_nullable(ptr.type)) {
                VerifierState taken = path.state, fall = path.state;
                mark_ptr_or_null(taken, ptr.id, eq);
                mark_ptr_or_null(fall, ptr.id, !eq);
                return branch(std::move(taken), std::move(fall));
            }
            // A pointer that cannot be NULL: the comparison's outcome is known.
            if (eq) return branch(std::nullopt, path.state);
            return branch(path.state, std::nullopt);
        }
    }

    if (a_ptr && b_ptr && is64) {
        // Packet pointer against the packet end (or metadata pointer against packet start).
        const RegState* pkt = nullptr;
        int pkt_reg = -1;
        uint8_t rel = code;
        auto is_end_for = [](const RegState& p, const RegState& e) {
            if (p.type == RegType::Packet) return e.type == RegType::PacketEnd;
            if (p.type == RegType::PacketMeta) {
                return e.type == RegType::Packet && e.off == 0 && e.id == 0 && e.value.is_const();
            }
            return false;
        };
        if (is_end_for(a, b)) {
            pkt = &a;
            pkt_reg = insn.dst;
        } else if (is_end_for(b, a)) {
            pkt = &b;
            pkt_reg = insn.src;
            rel = swap_operands(code);
        }
        if (pkt != nullptr) {
            std::optional<VerifierState> ways[2];
            for (int way = 0; way < 2; ++way) {
                VerifierState s = path.state;
                const int32_t range = packet_range_for(rel, way == 0, pkt->off);
                if (range > 0) {
                    const uint32_t id = pkt->id;
                    const RegType type = pkt->type;
                    const int32_t capped = std::min(range, kMaxPacketRange);
                    for_each_reg(
                        s, [id, type](const RegState& r) { return r.type == type && r.id == id; },
                        [capped](RegState& r) { r.range = std::max(r.range, capped); });
                }
                ways[way] = std::move(s);
            }
            (void)pkt_reg;
            return branch(std::move(ways[0]), std::move(ways[1]));
        }
    }

    // Any other comparison involving a pointer: both ways, nothing learnt.
    const std::string compares =
        fmt::format("compares r{} ({}) with {} ({})", insn.dst, a.to_string(),
                    use_reg ? fmt::format("r{}", insn.src) : "a constant", b.to_string());
    if (!privileged_) {
        reject(pc,
               compares +
                   ": comparing pointers with numbers or with pointers into other regions "
                   "would leak addresses",
               {insn.dst, insn.src});
    }
    note_privileged(pc, compares);
    return branch(path.state, path.state);
}

}  // namespace xbpf::verifier
