// Comparing and combining abstract states: the subsumption test that prunes a path whose state
// an already explored state covers, and the join used when a point collects too many states.
#include "verifier/state.hpp"

#include <algorithm>

namespace xbpf::verifier {

namespace {

constexpr uint64_t kUMax = ~uint64_t{0};

// A consistent renaming of ids between an old and a current state: linked registers in the old
// state must be linked the same way in the current one.
class IdMap {
  public:
    bool check(uint32_t old_id, uint32_t cur_id) {
        if (old_id == 0) return true;
        if (cur_id == 0) return false;
        for (const auto& [o, c] : pairs_) {
            if (o == old_id) return c == cur_id;
            if (c == cur_id) return false;
        }
        pairs_.emplace_back(old_id, cur_id);
        return true;
    }
    // Both zero or a consistent pair (references, packet groups).
    bool check_exact(uint32_t old_id, uint32_t cur_id) {
        if (old_id == 0 || cur_id == 0) return old_id == cur_id;
        return check(old_id, cur_id);
    }

  private:
    std::vector<std::pair<uint32_t, uint32_t>> pairs_;
};

bool reg_covers(const RegState& o, const RegState& c, IdMap& ids, bool precise) {
    if (o.type == RegType::NotInit) return true;
    if (o.type != c.type) return false;
    if (o.type == RegType::Scalar) {
        // Whether it may be read through is part of its type.
        if (o.kernel_mem != c.kernel_mem) return false;
        // What the number measures, when the old state knew it, the new one must know too.
        if (o.has_pkt_len && (!c.has_pkt_len || o.pkt_len_off != c.pkt_len_off ||
                              !ids.check_exact(o.pkt_len_id, c.pkt_len_id))) {
            return false;
        }
        // A number whose value never mattered below `o` stands for any number; copies of it
        // must still be copies (a branch on one refines the others).
        if (!precise) return ids.check(o.id, c.id);
        return c.value.within(o.value) && ids.check(o.id, c.id);
    }
    if (o.frame != c.frame || o.off != c.off || o.map != c.map || o.mem_size != c.mem_size ||
        o.read_only != c.read_only) {
        return false;
    }
    if (!c.value.within(o.value)) return false;
    if (!ids.check_exact(o.ref_id, c.ref_id)) return false;
    switch (o.type) {
        case RegType::Packet:
        case RegType::PacketMeta: return c.range >= o.range && ids.check_exact(o.id, c.id);
        default: return is_nullable(o.type) ? ids.check_exact(o.id, c.id) : true;
    }
}

bool slot_covers(const StackSlot* o, const StackSlot* c, IdMap& ids, bool precise) {
    static const StackSlot kEmpty{};
    if (o == nullptr) o = &kEmpty;
    if (c == nullptr) c = &kEmpty;
    // A spilled number that may be any number (unknown, or never found to matter) accepts any
    // number in the same bytes.
    const bool old_spill_any = o->spill_size != 0 && o->spilled.type == RegType::Scalar &&
                               !o->spilled.kernel_mem &&
                               (!precise || (o->spill_size == 8 && o->spilled.value.is_unknown()));
    for (size_t k = 0; k < 8; ++k) {
        const StackByte ob = o->bytes[k];
        const StackByte cb = c->bytes[k];
        const bool c_scalar_spill = cb == StackByte::Spill && c->spilled.type == RegType::Scalar;
        switch (ob) {
            case StackByte::Invalid: break;
            case StackByte::Misc:
                if (cb == StackByte::Invalid) return false;
                if (cb == StackByte::Spill && !c_scalar_spill) return false;
                break;
            case StackByte::Zero:
                if (cb == StackByte::Zero) break;
                if (c_scalar_spill && c->spilled.is_const(0)) break;
                return false;
            case StackByte::Spill:
                if (cb == StackByte::Spill) break;
                if (old_spill_any && (cb == StackByte::Misc || cb == StackByte::Zero)) break;
                return false;
        }
    }
    if (o->spill_size != 0 &&
        std::find(o->bytes.begin(), o->bytes.end(), StackByte::Spill) != o->bytes.end()) {
        if (c->spill_size == 0) return old_spill_any;
        if (o->spill_start != c->spill_start || o->spill_size != c->spill_size) {
            return old_spill_any && c->spilled.type == RegType::Scalar;
        }
        if (!reg_covers(o->spilled, c->spilled, ids, precise)) return false;
    }
    return true;
}

Scalar widen(const Scalar& old, const Scalar& cur) {
    Scalar r = join(old, cur);
    if (cur.umin < old.umin) r.umin = 0;
    if (cur.umax > old.umax) r.umax = kUMax;
    if (cur.smin < old.smin) r.smin = std::numeric_limits<int64_t>::min();
    if (cur.smax > old.smax) r.smax = std::numeric_limits<int64_t>::max();
    if (r.umin == 0 && r.umax == kUMax) r.bits = tnum_union(r.bits, Tnum::unknown());
    r.normalize();
    return r;
}

bool join_reg(RegState& c, const RegState& o, bool widen_scalars, IdMap& ids, uint32_t& fresh) {
    if (c.type == RegType::NotInit || o.type == RegType::NotInit) {
        c = RegState{};
        return true;
    }
    if (c.type != o.type) return false;
    if (c.type == RegType::Scalar) {
        if (!ids.check_exact(o.id, c.id)) c.id = 0;
        c.kernel_mem = c.kernel_mem && o.kernel_mem;
        if (!(c.has_pkt_len && o.has_pkt_len && c.pkt_len_off == o.pkt_len_off &&
              ids.check_exact(o.pkt_len_id, c.pkt_len_id))) {
            c.has_pkt_len = false;
        }
        c.value = widen_scalars ? widen(o.value, c.value) : join(o.value, c.value);
        return true;
    }
    if (c.frame != o.frame || c.off != o.off || c.map != o.map || c.mem_size != o.mem_size ||
        c.read_only != o.read_only || !ids.check_exact(o.ref_id, c.ref_id)) {
        return false;
    }
    if (!ids.check_exact(o.id, c.id)) {
        // Linked differently on the two sides: only a packet position can be unlinked (it
        // then gets an id of its own, and no range).
        if (c.type != RegType::Packet && c.type != RegType::PacketMeta) return false;
        c.id = ++fresh;
        c.range = 0;
    }
    c.value = widen_scalars ? widen(o.value, c.value) : join(o.value, c.value);
    c.range = std::min(c.range, o.range);
    if ((c.type == RegType::Packet || c.type == RegType::PacketMeta) && c.id == 0 &&
        !c.value.is_const()) {
        c.id = ++fresh;
        c.range = 0;
    }
    return true;
}

}  // namespace

StackSlot* stack_slot(FrameState& frame, int32_t fp_off, bool create) {
    if (fp_off >= 0) return nullptr;
    const auto index = static_cast<size_t>((-fp_off - 1) / 8);
    if (index >= frame.stack.size()) {
        if (!create) return nullptr;
        frame.stack.resize(index + 1);
    }
    return &frame.stack[index];
}

const StackSlot* stack_slot(const FrameState& frame, int32_t fp_off) {
    if (fp_off >= 0) return nullptr;
    const auto index = static_cast<size_t>((-fp_off - 1) / 8);
    return index < frame.stack.size() ? &frame.stack[index] : nullptr;
}

StackByte stack_byte(const FrameState& frame, int32_t fp_off) {
    const StackSlot* slot = stack_slot(frame, fp_off);
    if (slot == nullptr) return StackByte::Invalid;
    // Slot i starts at fp - 8(i+1); byte k of it is at that start + k.
    const int32_t start = -8 * ((-fp_off - 1) / 8 + 1);
    return slot->bytes[static_cast<size_t>(fp_off - start)];
}

bool covers(const VerifierState& old, const VerifierState& cur,
            const std::vector<LiveMask>& live_per_frame, const Precision* precise) {
    if (old.frames.size() != cur.frames.size() || old.refs.size() != cur.refs.size()) return false;
    IdMap ids;
    for (size_t f = 0; f < old.frames.size(); ++f) {
        const FrameState& of = old.frames[f];
        const FrameState& cf = cur.frames[f];
        if (of.callsite != cf.callsite || of.function != cf.function ||
            of.callback != cf.callback) {
            return false;
        }
        const LiveMask live = f < live_per_frame.size() ? live_per_frame[f] : LiveMask{0x7ff};
        const FramePrecision all{0xffff, ~uint64_t{0}};
        const FramePrecision& p = precise == nullptr    ? all
                                  : f < precise->size() ? (*precise)[f]
                                                        : all;
        for (int r = 0; r < 10; ++r) {
            if ((live & (1u << r)) == 0) continue;
            if (!reg_covers(of.regs[static_cast<size_t>(r)], cf.regs[static_cast<size_t>(r)], ids,
                            (p.regs >> r & 1) != 0)) {
                return false;
            }
        }
        const size_t slots = std::max(of.stack.size(), cf.stack.size());
        for (size_t i = 0; i < slots; ++i) {
            const StackSlot* os = i < of.stack.size() ? &of.stack[i] : nullptr;
            const StackSlot* cs = i < cf.stack.size() ? &cf.stack[i] : nullptr;
            if (os == nullptr) continue;  // old knew nothing there
            const bool slot_precise = i >= 64 || (p.slots >> i & 1) != 0;
            if (!slot_covers(os, cs, ids, slot_precise)) return false;
        }
    }
    for (size_t i = 0; i < old.refs.size(); ++i) {
        if (!ids.check_exact(old.refs[i].id, cur.refs[i].id)) return false;
    }
    return true;
}

bool join_into(VerifierState& cur, const VerifierState& other, bool widen_scalars,
               uint32_t& fresh_ids) {
    IdMap ids;
    if (cur.frames.size() != other.frames.size() || cur.refs.size() != other.refs.size()) {
        return false;
    }
    for (size_t i = 0; i < cur.refs.size(); ++i) {
        if (cur.refs[i].id != other.refs[i].id) return false;
    }
    VerifierState result = cur;
    for (size_t f = 0; f < cur.frames.size(); ++f) {
        FrameState& cf = result.frames[f];
        const FrameState& of = other.frames[f];
        if (cf.callsite != of.callsite || cf.function != of.function ||
            cf.callback != of.callback) {
            return false;
        }
        for (size_t r = 0; r < 10; ++r) {
            if (!join_reg(cf.regs[r], of.regs[r], widen_scalars, ids, fresh_ids)) return false;
        }
        if (cf.stack.size() < of.stack.size()) cf.stack.resize(of.stack.size());
        for (size_t i = 0; i < cf.stack.size(); ++i) {
            static const StackSlot kEmpty{};
            StackSlot& cs = cf.stack[i];
            const StackSlot& os = i < of.stack.size() ? of.stack[i] : kEmpty;
            const bool same_spill = cs.spill_size != 0 && cs.spill_size == os.spill_size &&
                                    cs.spill_start == os.spill_start;
            bool spill_kept = false;
            if (same_spill) {
                RegState joined = cs.spilled;
                if (join_reg(joined, os.spilled, widen_scalars, ids, fresh_ids) &&
                    joined.type != RegType::NotInit) {
                    cs.spilled = joined;
                    spill_kept = true;
                } else if (is_pointer(cs.spilled.type) || is_pointer(os.spilled.type)) {
                    return false;
                }
            } else if ((cs.spill_size != 0 && is_pointer(cs.spilled.type)) ||
                       (os.spill_size != 0 && is_pointer(os.spilled.type))) {
                return false;
            }
            for (size_t k = 0; k < 8; ++k) {
                const StackByte a = cs.bytes[k];
                const StackByte b = os.bytes[k];
                if (a == StackByte::Invalid || b == StackByte::Invalid) {
                    cs.bytes[k] = StackByte::Invalid;
                } else if (a == b && (a != StackByte::Spill || spill_kept)) {
                    cs.bytes[k] = a;
                } else {
                    cs.bytes[k] = StackByte::Misc;
                }
            }
            if (!spill_kept) {
                cs.spill_size = 0;
                cs.spill_start = 0;
                cs.spilled = RegState{};
                for (auto& byte : cs.bytes) {
                    if (byte == StackByte::Spill) byte = StackByte::Misc;
                }
            }
        }
    }
    cur = std::move(result);
    return true;
}

}  // namespace xbpf::verifier
