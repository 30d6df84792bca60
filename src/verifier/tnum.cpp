// Known-bits arithmetic. Each operation returns a tnum holding every result the operation can
// produce from values the operands allow (the soundness condition the tests check by sampling).
#include "verifier/tnum.hpp"

#include <bit>

namespace xbpf::verifier {

Tnum Tnum::range(uint64_t min, uint64_t max) {
    if (min > max) return unknown();
    const uint64_t differ = min ^ max;
    if (differ == 0) return constant(min);
    // Bits from the highest differing bit down can take any value across the range.
    const int top = 63 - std::countl_zero(differ);
    const uint64_t low = top >= 63 ? ~uint64_t{0} : ((uint64_t{1} << (top + 1)) - 1);
    return Tnum{min & ~low, low};
}

Tnum tnum_add(Tnum a, Tnum b) {
    const uint64_t sm = a.mask + b.mask;
    const uint64_t sv = a.value + b.value;
    const uint64_t sigma = sm + sv;
    const uint64_t chi = sigma ^ sv;
    const uint64_t mu = chi | a.mask | b.mask;
    return Tnum{sv & ~mu, mu};
}

Tnum tnum_sub(Tnum a, Tnum b) {
    const uint64_t dv = a.value - b.value;
    const uint64_t alpha = dv + a.mask;
    const uint64_t beta = dv - b.mask;
    const uint64_t chi = alpha ^ beta;
    const uint64_t mu = chi | a.mask | b.mask;
    return Tnum{dv & ~mu, mu};
}

Tnum tnum_and(Tnum a, Tnum b) {
    const uint64_t alpha = a.value | a.mask;
    const uint64_t beta = b.value | b.mask;
    const uint64_t v = a.value & b.value;
    return Tnum{v, alpha & beta & ~v};
}

Tnum tnum_or(Tnum a, Tnum b) {
    const uint64_t v = a.value | b.value;
    const uint64_t mu = a.mask | b.mask;
    return Tnum{v, mu & ~v};
}

Tnum tnum_xor(Tnum a, Tnum b) {
    const uint64_t v = a.value ^ b.value;
    const uint64_t mu = a.mask | b.mask;
    return Tnum{v & ~mu, mu};
}

Tnum tnum_mul(Tnum a, Tnum b) {
    // Shift-and-add over the bits of a: a known 1 bit adds b, an unknown bit adds b or 0.
    Tnum acc = Tnum::constant(0);
    for (int i = 0; i < 64 && (a.value | a.mask) >> i; ++i) {
        const uint64_t bit = uint64_t{1} << i;
        Tnum shifted = tnum_lshift(b, static_cast<unsigned>(i));
        if (a.value & bit) {
            acc = tnum_add(acc, shifted);
        } else if (a.mask & bit) {
            acc = tnum_add(acc, Tnum{0, shifted.value | shifted.mask});
        }
    }
    return acc;
}

Tnum tnum_lshift(Tnum a, unsigned shift) {
    if (shift >= 64) return Tnum::constant(0);
    return Tnum{a.value << shift, a.mask << shift};
}

Tnum tnum_rshift(Tnum a, unsigned shift) {
    if (shift >= 64) return Tnum::constant(0);
    return Tnum{a.value >> shift, a.mask >> shift};
}

Tnum tnum_arshift(Tnum a, unsigned shift, unsigned width) {
    if (width == 32) {
        const auto v = static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(a.value)) >>
                                             (shift & 31));
        const auto m = static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(a.mask)) >>
                                             (shift & 31));
        return Tnum{v, m};
    }
    shift &= 63;
    return Tnum{static_cast<uint64_t>(static_cast<int64_t>(a.value) >> shift),
                static_cast<uint64_t>(static_cast<int64_t>(a.mask) >> shift)};
}

Tnum tnum_intersect(Tnum a, Tnum b, bool& ok) {
    // Bits known in both must agree.
    const uint64_t known_both = ~a.mask & ~b.mask;
    ok = ((a.value ^ b.value) & known_both) == 0;
    const uint64_t v = a.value | b.value;
    const uint64_t mu = a.mask & b.mask;
    return Tnum{v & ~mu, mu};
}

Tnum tnum_union(Tnum a, Tnum b) {
    const uint64_t mu = a.mask | b.mask | (a.value ^ b.value);
    return Tnum{a.value & ~mu, mu};
}

Tnum tnum_truncate(Tnum a, unsigned bytes) {
    if (bytes >= 8) return a;
    const uint64_t keep = (uint64_t{1} << (bytes * 8)) - 1;
    return Tnum{a.value & keep, a.mask & keep};
}

Tnum tnum_sign_extend(Tnum a, unsigned bits) {
    if (bits >= 64) return a;
    const unsigned shift = 64 - bits;
    return Tnum{static_cast<uint64_t>(static_cast<int64_t>(a.value << shift) >> shift),
                static_cast<uint64_t>(static_cast<int64_t>(a.mask << shift) >> shift)};
}

}  // namespace xbpf::verifier
