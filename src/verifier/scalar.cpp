// Interval and known-bits arithmetic for scalars. Every function over-approximates: the result
// holds every value the concrete operation can produce from values the operands hold.
#include "verifier/scalar.hpp"

#include <fmt/format.h>
#include <algorithm>

#include "xbpf/insn.hpp"

namespace xbpf::verifier {

namespace {

constexpr int64_t kSMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kSMax = std::numeric_limits<int64_t>::max();
constexpr uint64_t kUMax = std::numeric_limits<uint64_t>::max();

// The exact result of an ALU operation on concrete values (RFC 9669 semantics).
uint64_t eval_alu(uint8_t code, uint64_t a, uint64_t b, bool is64, bool is_signed) {
    if (!is64) {
        a = static_cast<uint32_t>(a);
        b = static_cast<uint32_t>(b);
    }
    uint64_t r = 0;
    switch (code) {
        case op::ADD: r = a + b; break;
        case op::SUB: r = a - b; break;
        case op::MUL: r = a * b; break;
        case op::OR: r = a | b; break;
        case op::AND: r = a & b; break;
        case op::XOR: r = a ^ b; break;
        case op::LSH: r = a << (b & (is64 ? 63 : 31)); break;
        case op::RSH: r = a >> (b & (is64 ? 63 : 31)); break;
        case op::ARSH:
            r = is64 ? static_cast<uint64_t>(static_cast<int64_t>(a) >> (b & 63))
                     : static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(a)) >>
                                             (b & 31));
            break;
        case op::DIV:
            if (b == 0) {
                r = 0;
            } else if (!is_signed) {
                r = a / b;
            } else if (is64) {
                const auto sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
                r = (sa == kSMin && sb == -1) ? a : static_cast<uint64_t>(sa / sb);
            } else {
                const auto sa = static_cast<int32_t>(a), sb = static_cast<int32_t>(b);
                r = (sa == std::numeric_limits<int32_t>::min() && sb == -1)
                        ? a
                        : static_cast<uint32_t>(sa / sb);
            }
            break;
        case op::MOD:
            if (b == 0) {
                r = a;
            } else if (!is_signed) {
                r = a % b;
            } else if (is64) {
                const auto sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
                r = (sb == -1) ? 0 : static_cast<uint64_t>(sa % sb);
            } else {
                const auto sa = static_cast<int32_t>(a), sb = static_cast<int32_t>(b);
                r = (sb == -1) ? 0 : static_cast<uint32_t>(sa % sb);
            }
            break;
        default: r = 0; break;
    }
    return is64 ? r : static_cast<uint32_t>(r);
}

Scalar from_bits(Tnum bits) {
    Scalar s;
    s.bits = bits;
    s.umin = bits.min();
    s.umax = bits.max();
    s.normalize();
    return s;
}

Scalar meet(const Scalar& a, const Scalar& b, bool& ok) {
    Scalar r;
    r.smin = std::max(a.smin, b.smin);
    r.smax = std::min(a.smax, b.smax);
    r.umin = std::max(a.umin, b.umin);
    r.umax = std::min(a.umax, b.umax);
    bool bits_ok = true;
    r.bits = tnum_intersect(a.bits, b.bits, bits_ok);
    ok = bits_ok && r.normalize();
    return r;
}

// 64-bit arithmetic proper; the 32-bit forms are built on it.
Scalar alu64(uint8_t code, const Scalar& a, const Scalar& b, bool is_signed) {
    Scalar r;
    switch (code) {
        case op::ADD: {
            r.bits = tnum_add(a.bits, b.bits);
            int64_t lo, hi;
            if (!__builtin_add_overflow(a.smin, b.smin, &lo) &&
                !__builtin_add_overflow(a.smax, b.smax, &hi)) {
                r.smin = lo;
                r.smax = hi;
            }
            uint64_t ulo, uhi;
            if (!__builtin_add_overflow(a.umin, b.umin, &ulo) &&
                !__builtin_add_overflow(a.umax, b.umax, &uhi)) {
                r.umin = ulo;
                r.umax = uhi;
            }
            break;
        }
        case op::SUB: {
            r.bits = tnum_sub(a.bits, b.bits);
            int64_t lo, hi;
            if (!__builtin_sub_overflow(a.smin, b.smax, &lo) &&
                !__builtin_sub_overflow(a.smax, b.smin, &hi)) {
                r.smin = lo;
                r.smax = hi;
            }
            if (a.umin >= b.umax) {
                r.umin = a.umin - b.umax;
                r.umax = a.umax - b.umin;
            }
            break;
        }
        case op::MUL: {
            r.bits = tnum_mul(a.bits, b.bits);
            if (a.umax <= 0xffffffffu && b.umax <= 0xffffffffu) {
                r.umin = a.umin * b.umin;
                r.umax = a.umax * b.umax;
            }
            break;
        }
        case op::AND:
            r.bits = tnum_and(a.bits, b.bits);
            r.umax = std::min(a.umax, b.umax);
            // The result is no larger than a non-negative operand, whatever the other's sign.
            if (a.smin >= 0 || b.smin >= 0) {
                r.smin = 0;
                r.smax = std::max(a.smin >= 0 ? a.smax : 0, b.smin >= 0 ? b.smax : 0);
                if (a.smin >= 0 && b.smin >= 0) r.smax = std::min(a.smax, b.smax);
            }
            break;
        case op::OR:
            r.bits = tnum_or(a.bits, b.bits);
            r.umin = std::max(a.umin, b.umin);
            break;
        case op::XOR: r.bits = tnum_xor(a.bits, b.bits); break;
        case op::LSH:
            if (b.is_const()) {
                const unsigned s = b.const_value() & 63;
                r.bits = tnum_lshift(a.bits, s);
                if (s == 0 || a.umax <= (kUMax >> s)) {
                    r.umin = a.umin << s;
                    r.umax = a.umax << s;
                }
            }
            break;
        case op::RSH:
            if (b.is_const()) {
                const unsigned s = b.const_value() & 63;
                r.bits = tnum_rshift(a.bits, s);
                r.umin = a.umin >> s;
                r.umax = a.umax >> s;
            } else {
                r.umax = a.umax;
            }
            break;
        case op::ARSH:
            if (b.is_const()) {
                const unsigned s = b.const_value() & 63;
                r.bits = tnum_arshift(a.bits, s, 64);
                r.smin = a.smin >> s;
                r.smax = a.smax >> s;
            } else {
                r.smin = std::min<int64_t>(a.smin, 0);
                r.smax = std::max<int64_t>(a.smax, 0);
            }
            break;
        case op::DIV:
            if (is_signed) break;
            if (b.is_const()) {
                const uint64_t c = b.const_value();
                if (c == 0) return Scalar::constant(0);
                r.umin = a.umin / c;
                r.umax = a.umax / c;
            } else if (b.umin > 0) {
                r.umin = a.umin / b.umax;
                r.umax = a.umax / b.umin;
            } else {
                r.umax = a.umax;
            }
            break;
        case op::MOD:
            if (is_signed) {
                if (b.is_const() && b.const_value() != 0) {
                    const int64_t c = static_cast<int64_t>(b.const_value());
                    if (c == kSMin) break;
                    const int64_t m = (c < 0 ? -c : c) - 1;
                    r.smin = a.smin >= 0 ? 0 : -m;
                    r.smax = a.smax <= 0 ? 0 : m;
                }
                break;
            }
            if (b.umin > 0) {
                if (a.umax < b.umin) return a;
                r.umax = std::min(a.umax, b.umax - 1);
            } else {
                r.umax = a.umax;  // x % 0 is x
            }
            break;
        default: break;
    }
    r.normalize();
    return r;
}

Scalar as_signed32(const Scalar& v) {
    return v.truncated(4).sign_extended(32);
}

int compare64(uint8_t code, const Scalar& a, const Scalar& b) {
    switch (code) {
        case op::JEQ:
            if (a.is_const() && b.is_const()) return a.const_value() == b.const_value();
            if (a.umin > b.umax || b.umin > a.umax || a.smin > b.smax || b.smin > a.smax) return 0;
            if (((a.bits.value ^ b.bits.value) & ~a.bits.mask & ~b.bits.mask) != 0) return 0;
            return -1;
        case op::JNE: {
            const int eq = compare64(op::JEQ, a, b);
            return eq < 0 ? -1 : !eq;
        }
        case op::JGT:
            if (a.umin > b.umax) return 1;
            if (a.umax <= b.umin) return 0;
            return -1;
        case op::JGE:
            if (a.umin >= b.umax) return 1;
            if (a.umax < b.umin) return 0;
            return -1;
        case op::JLT: return compare64(op::JGT, b, a);
        case op::JLE: return compare64(op::JGE, b, a);
        case op::JSGT:
            if (a.smin > b.smax) return 1;
            if (a.smax <= b.smin) return 0;
            return -1;
        case op::JSGE:
            if (a.smin >= b.smax) return 1;
            if (a.smax < b.smin) return 0;
            return -1;
        case op::JSLT: return compare64(op::JSGT, b, a);
        case op::JSLE: return compare64(op::JSGE, b, a);
        case op::JSET:
            if ((a.bits.value & b.bits.value) != 0) return 1;
            if ((a.bits.max() & b.bits.max()) == 0) return 0;
            return -1;
        default: return -1;
    }
}

uint8_t negate(uint8_t code) {
    switch (code) {
        case op::JEQ: return op::JNE;
        case op::JNE: return op::JEQ;
        case op::JGT: return op::JLE;
        case op::JLE: return op::JGT;
        case op::JGE: return op::JLT;
        case op::JLT: return op::JGE;
        case op::JSGT: return op::JSLE;
        case op::JSLE: return op::JSGT;
        case op::JSGE: return op::JSLT;
        case op::JSLT: return op::JSGE;
        default: return code;
    }
}

bool is_signed_cmp(uint8_t code) {
    return code == op::JSGT || code == op::JSGE || code == op::JSLT || code == op::JSLE;
}

// Narrows a and b so that `a code b` holds (code is never JSET here, nor negated JSET).
bool refine64(uint8_t code, Scalar& a, Scalar& b) {
    switch (code) {
        case op::JEQ: {
            bool ok = true;
            Scalar m = meet(a, b, ok);
            if (!ok) return false;
            a = m;
            b = m;
            return true;
        }
        case op::JNE:
            // Only a constant on one side can shave a bound off the other.
            for (int side = 0; side < 2; ++side) {
                Scalar& x = side == 0 ? a : b;
                const Scalar& c = side == 0 ? b : a;
                if (!c.is_const()) continue;
                const uint64_t v = c.const_value();
                if (x.is_const() && x.const_value() == v) return false;
                if (x.umin == v) ++x.umin;
                if (x.umax == v) --x.umax;
                if (x.smin == static_cast<int64_t>(v)) ++x.smin;
                if (x.smax == static_cast<int64_t>(v)) --x.smax;
            }
            break;
        case op::JGT:
            if (b.umin == kUMax || a.umax == 0) return false;
            a.umin = std::max(a.umin, b.umin + 1);
            b.umax = std::min(b.umax, a.umax - 1);
            break;
        case op::JGE:
            a.umin = std::max(a.umin, b.umin);
            b.umax = std::min(b.umax, a.umax);
            break;
        case op::JLT: return refine64(op::JGT, b, a);
        case op::JLE: return refine64(op::JGE, b, a);
        case op::JSGT:
            if (b.smin == kSMax || a.smax == kSMin) return false;
            a.smin = std::max(a.smin, b.smin + 1);
            b.smax = std::min(b.smax, a.smax - 1);
            break;
        case op::JSGE:
            a.smin = std::max(a.smin, b.smin);
            b.smax = std::min(b.smax, a.smax);
            break;
        case op::JSLT: return refine64(op::JSGT, b, a);
        case op::JSLE: return refine64(op::JSGE, b, a);
        default: break;
    }
    return a.normalize() && b.normalize();
}

// Carries what a 32-bit comparison learnt about the low half (`low`, zero-extended) back to
// the 64-bit value.
bool apply_low_half(Scalar& v, const Scalar& low) {
    if (v.umax <= 0xffffffffu) {
        bool ok = true;
        v = meet(v, low, ok);
        return ok;
    }
    bool ok = true;
    v.bits = tnum_intersect(v.bits, Tnum{low.bits.value, low.bits.mask | 0xffffffff00000000u}, ok);
    return ok && v.normalize();
}

}  // namespace

Scalar Scalar::constant(uint64_t v) {
    Scalar s;
    s.smin = s.smax = static_cast<int64_t>(v);
    s.umin = s.umax = v;
    s.bits = Tnum::constant(v);
    return s;
}

Scalar Scalar::unsigned_range(uint64_t min, uint64_t max) {
    Scalar s;
    s.umin = min;
    s.umax = max;
    s.normalize();
    return s;
}

bool Scalar::contains(uint64_t v) const {
    const auto sv = static_cast<int64_t>(v);
    return v >= umin && v <= umax && sv >= smin && sv <= smax && bits.contains(v);
}

bool Scalar::within(const Scalar& o) const {
    return smin >= o.smin && smax <= o.smax && umin >= o.umin && umax <= o.umax &&
           bits.within(o.bits);
}

bool Scalar::normalize() {
    for (int round = 0; round < 2; ++round) {
        if (umin > umax || smin > smax) return false;
        bool ok = true;
        bits = tnum_intersect(bits, Tnum::range(umin, umax), ok);
        if (!ok) return false;
        if (static_cast<uint64_t>(smin) <= static_cast<uint64_t>(smax)) {
            bits = tnum_intersect(
                bits, Tnum::range(static_cast<uint64_t>(smin), static_cast<uint64_t>(smax)), ok);
            if (!ok) return false;
        }
        umin = std::max(umin, bits.min());
        umax = std::min(umax, bits.max());
        if (umin > umax) return false;
        // Unsigned bounds on one side of the sign boundary are signed bounds too, and back.
        if (static_cast<int64_t>(umin) <= static_cast<int64_t>(umax)) {
            smin = std::max(smin, static_cast<int64_t>(umin));
            smax = std::min(smax, static_cast<int64_t>(umax));
        }
        if (smin > smax) return false;
        if (static_cast<uint64_t>(smin) <= static_cast<uint64_t>(smax)) {
            umin = std::max(umin, static_cast<uint64_t>(smin));
            umax = std::min(umax, static_cast<uint64_t>(smax));
        }
        if (umin > umax) return false;
    }
    return true;
}

Scalar Scalar::truncated(unsigned bytes) const {
    if (bytes >= 8) return *this;
    const unsigned width = bytes * 8;
    const uint64_t mask = (uint64_t{1} << width) - 1;
    Scalar r;
    r.bits = tnum_truncate(bits, bytes);
    if ((umin >> width) == (umax >> width)) {
        r.umin = umin & mask;
        r.umax = umax & mask;
    } else {
        r.umin = 0;
        r.umax = mask;
    }
    r.smin = 0;
    r.smax = static_cast<int64_t>(mask);
    r.normalize();
    return r;
}

Scalar Scalar::sign_extended(unsigned width) const {
    if (width >= 64) return *this;
    Scalar t = truncated(width / 8);
    const uint64_t sign = uint64_t{1} << (width - 1);
    auto sext = [width](uint64_t v) {
        const unsigned shift = 64 - width;
        return static_cast<int64_t>(v << shift) >> shift;
    };
    Scalar r;
    r.bits = tnum_sign_extend(t.bits, width);
    if (t.umax < sign) {
        r.smin = static_cast<int64_t>(t.umin);
        r.smax = static_cast<int64_t>(t.umax);
    } else if (t.umin >= sign) {
        r.smin = sext(t.umin);
        r.smax = sext(t.umax);
    } else {
        r.smin = -static_cast<int64_t>(sign);
        r.smax = static_cast<int64_t>(sign - 1);
    }
    r.normalize();
    return r;
}

std::string Scalar::to_string() const {
    if (is_const()) {
        const auto v = static_cast<int64_t>(const_value());
        if (v >= -4096 && v <= 4096) return fmt::format("{}", v);
        return fmt::format("{:#x}", const_value());
    }
    if (is_unknown()) return "any";
    std::string out;
    auto add = [&out](const std::string& part) {
        if (!out.empty()) out += ", ";
        out += part;
    };
    if (umin != 0 || umax != kUMax) add(fmt::format("[{}, {}]", umin, umax));
    if ((smin != kSMin || smax != kSMax) &&
        !(smin == static_cast<int64_t>(umin) && smax == static_cast<int64_t>(umax))) {
        add(fmt::format("signed [{}, {}]", smin, smax));
    }
    if (bits.mask != ~uint64_t{0} && bits != Tnum::range(umin, umax)) {
        add(fmt::format("bits {:#x}/{:#x}", bits.value, bits.mask));
    }
    return out;
}

Scalar join(const Scalar& a, const Scalar& b) {
    Scalar r;
    r.smin = std::min(a.smin, b.smin);
    r.smax = std::max(a.smax, b.smax);
    r.umin = std::min(a.umin, b.umin);
    r.umax = std::max(a.umax, b.umax);
    r.bits = tnum_union(a.bits, b.bits);
    r.normalize();
    return r;
}

Scalar scalar_alu(uint8_t code, const Scalar& dst, const Scalar& src, bool is64, bool is_signed) {
    if (dst.is_const() && src.is_const()) {
        return Scalar::constant(
            eval_alu(code, dst.const_value(), src.const_value(), is64, is_signed));
    }
    if (is64) return alu64(code, dst, src, is_signed);
    // 32-bit: compute on the low halves, then keep the low half of the result. Operations
    // whose result depends on the sign of the operands see them sign-extended.
    Scalar a = dst.truncated(4);
    Scalar b = src.truncated(4);
    if (code == op::LSH || code == op::RSH || code == op::ARSH) {
        b = b.is_const() ? Scalar::constant(b.const_value() & 31) : Scalar::unsigned_range(0, 31);
    }
    if (code == op::ARSH || (is_signed && (code == op::DIV || code == op::MOD))) {
        a = a.sign_extended(32);
        if (code != op::ARSH) b = b.sign_extended(32);
    }
    if (code == op::LSH && !b.is_const()) return Scalar::unsigned_range(0, 0xffffffffu);
    return alu64(code, a, b, is_signed).truncated(4);
}

Scalar scalar_neg(const Scalar& v, bool is64) {
    return scalar_alu(op::SUB, Scalar::constant(0), v, is64, false);
}

Scalar scalar_endian(const Scalar& v, unsigned bits, bool swap) {
    Scalar t = v.truncated(bits / 8);
    if (!swap) return t;
    auto swap_bytes = [bits](uint64_t x) {
        switch (bits) {
            case 16: return static_cast<uint64_t>(__builtin_bswap16(static_cast<uint16_t>(x)));
            case 32: return static_cast<uint64_t>(__builtin_bswap32(static_cast<uint32_t>(x)));
            default: return __builtin_bswap64(x);
        }
    };
    return from_bits(Tnum{swap_bytes(t.bits.value), swap_bytes(t.bits.mask)});
}

int branch_outcome(uint8_t code, const Scalar& a, const Scalar& b, bool is64) {
    if (is64) return compare64(code, a, b);
    if (is_signed_cmp(code)) return compare64(code, as_signed32(a), as_signed32(b));
    return compare64(code, a.truncated(4), b.truncated(4));
}

bool refine_branch(uint8_t code, Scalar& a, Scalar& b, bool is64, bool taken) {
    const int known = branch_outcome(code, a, b, is64);
    if (known >= 0) return (known == 1) == taken;
    if (code == op::JSET) {
        // Only "no common bit" with a constant mask teaches something: those bits are 0.
        if (taken) return true;
        for (int side = 0; side < 2; ++side) {
            Scalar& x = side == 0 ? a : b;
            const Scalar& c = side == 0 ? b : a;
            if (!c.is_const()) continue;
            uint64_t cleared = c.const_value();
            if (!is64) cleared &= 0xffffffffu;
            bool ok = true;
            x.bits = tnum_intersect(x.bits, Tnum{0, ~cleared}, ok);
            if (!ok || !x.normalize()) return false;
        }
        return true;
    }
    const uint8_t cond = taken ? code : negate(code);
    if (is64) return refine64(cond, a, b);
    // 32-bit: refine views of the low halves, then carry the result back.
    const bool sign = is_signed_cmp(cond);
    Scalar la = sign ? as_signed32(a) : a.truncated(4);
    Scalar lb = sign ? as_signed32(b) : b.truncated(4);
    if (!refine64(cond, la, lb)) return false;
    return apply_low_half(a, la.truncated(4)) && apply_low_half(b, lb.truncated(4));
}

}  // namespace xbpf::verifier
