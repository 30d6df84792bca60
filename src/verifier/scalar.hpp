// The numeric facts the verifier keeps about a 64-bit value: signed and unsigned intervals and
// known bits, kept consistent with each other (each refines the others after every operation).
// 32-bit operations are computed on the low half and zero-extended, as the ISA defines them.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "verifier/tnum.hpp"

namespace xbpf::verifier {

struct Scalar {
    int64_t smin = std::numeric_limits<int64_t>::min();
    int64_t smax = std::numeric_limits<int64_t>::max();
    uint64_t umin = 0;
    uint64_t umax = std::numeric_limits<uint64_t>::max();
    Tnum bits = Tnum::unknown();

    static Scalar unknown() { return Scalar{}; }
    static Scalar constant(uint64_t v);
    // [min, max] unsigned.
    static Scalar unsigned_range(uint64_t min, uint64_t max);

    bool is_const() const { return bits.is_const(); }
    uint64_t const_value() const { return bits.value; }
    bool is_unknown() const { return *this == unknown(); }
    bool contains(uint64_t v) const;
    // Every value of *this is a value of `outer`.
    bool within(const Scalar& outer) const;

    // Makes the intervals and the known bits agree; returns false when no value is left
    // (the facts contradict: the path is infeasible).
    bool normalize();

    // The low `bytes` bytes, zero-extended (a narrow load, a 32-bit ALU result).
    Scalar truncated(unsigned bytes) const;
    // The low `bits` bits sign-extended to 64 (movsx, ldsx).
    Scalar sign_extended(unsigned bits) const;

    std::string to_string() const;

    friend bool operator==(const Scalar&, const Scalar&) = default;
};

// Either value (interval hull, known bits in common).
Scalar join(const Scalar& a, const Scalar& b);

// ALU operations on 64-bit values; the 32-bit forms truncate their operands and result.
// `op` is an op::ADD..op::ARSH code; `is64` selects ALU64. Division and modulo follow RFC 9669
// (x / 0 = 0, x % 0 = x); `is_signed` selects sdiv/smod.
Scalar scalar_alu(uint8_t op, const Scalar& dst, const Scalar& src, bool is64, bool is_signed);
Scalar scalar_neg(const Scalar& v, bool is64);
// Byte swaps: to_le/to_be of 16/32/64 bits (swap is whether bytes are reversed).
Scalar scalar_endian(const Scalar& v, unsigned bits, bool swap);

// Conditional-jump facts. `code` is op::JEQ..op::JSLE (not JSET/JA); is64 false: JMP32 compares
// the low halves. branch_outcome says whether the condition is always true (1), always false
// (0) or either (-1). refine narrows both operands assuming the condition is `taken`; it returns
// false when that is impossible.
int branch_outcome(uint8_t code, const Scalar& a, const Scalar& b, bool is64);
bool refine_branch(uint8_t code, Scalar& a, Scalar& b, bool is64, bool taken);

}  // namespace xbpf::verifier
