// Known bits of a 64-bit value ("tristate numbers"): each bit is known 0, known 1, or unknown.
// `value` holds the known 1 bits, `mask` the unknown bits; value & mask is always 0.
#pragma once

#include <cstdint>

namespace xbpf::verifier {

struct Tnum {
    uint64_t value = 0;
    uint64_t mask = ~uint64_t{0};

    static constexpr Tnum constant(uint64_t v) { return Tnum{v, 0}; }
    static constexpr Tnum unknown() { return Tnum{0, ~uint64_t{0}}; }
    // The smallest tnum holding every value of [min, max].
    static Tnum range(uint64_t min, uint64_t max);

    bool is_const() const { return mask == 0; }
    uint64_t min() const { return value; }
    uint64_t max() const { return value | mask; }
    // Every value this tnum allows is also allowed by `outer`.
    bool within(const Tnum& outer) const {
        return (mask & ~outer.mask) == 0 && (value & ~outer.mask) == outer.value;
    }
    bool contains(uint64_t v) const { return (v & ~mask) == value; }

    friend bool operator==(const Tnum&, const Tnum&) = default;
};

Tnum tnum_add(Tnum a, Tnum b);
Tnum tnum_sub(Tnum a, Tnum b);
Tnum tnum_and(Tnum a, Tnum b);
Tnum tnum_or(Tnum a, Tnum b);
Tnum tnum_xor(Tnum a, Tnum b);
Tnum tnum_mul(Tnum a, Tnum b);
Tnum tnum_lshift(Tnum a, unsigned shift);
Tnum tnum_rshift(Tnum a, unsigned shift);
Tnum tnum_arshift(Tnum a, unsigned shift, unsigned width);
// Both facts at once; `ok` is false when they contradict each other.
Tnum tnum_intersect(Tnum a, Tnum b, bool& ok);
// Either value (the union of the two sets, over-approximated).
Tnum tnum_union(Tnum a, Tnum b);
// The low `bytes` bytes, upper bits known zero.
Tnum tnum_truncate(Tnum a, unsigned bytes);
// Sign-extends the low `bits` bits.
Tnum tnum_sign_extend(Tnum a, unsigned bits);

}  // namespace xbpf::verifier
