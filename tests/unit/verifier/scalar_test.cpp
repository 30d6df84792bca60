// The scalar domain against concrete arithmetic: for random operand sets, every concrete result
// must lie inside the abstract result (soundness of the transfer functions).
#include <gtest/gtest.h>

#include <random>

#include "verifier/scalar.hpp"
#include "xbpf/insn.hpp"

namespace xbpf::verifier {
namespace {

uint64_t concrete(uint8_t code, uint64_t a, uint64_t b, bool is64, bool sign) {
    return scalar_alu(code, Scalar::constant(a), Scalar::constant(b), is64, sign).const_value();
}

Scalar random_scalar(std::mt19937_64& rng, std::vector<uint64_t>& members) {
    const int kind = static_cast<int>(rng() % 4);
    uint64_t base = rng();
    if (kind == 0) base &= 0xff;
    if (kind == 1) base = static_cast<uint64_t>(-static_cast<int64_t>(rng() % 300));
    if (kind == 2) base &= 0xffffffff;
    const uint64_t width = rng() % 5 == 0 ? 0 : rng() % 64;
    Scalar s = Scalar::constant(base);
    members = {base};
    for (uint64_t i = 1; i <= width; ++i) {
        const uint64_t v = base + i * (1 + rng() % 3);
        members.push_back(v);
        s = join(s, Scalar::constant(v));
    }
    return s;
}

TEST(VerifierScalar, AluResultsContainEveryConcreteResult) {
    std::mt19937_64 rng(42);
    const uint8_t codes[] = {op::ADD, op::SUB, op::MUL, op::DIV, op::OR,  op::AND,
                             op::LSH, op::RSH, op::MOD, op::XOR, op::ARSH};
    for (int iter = 0; iter < 20000; ++iter) {
        std::vector<uint64_t> ma, mb;
        Scalar a = random_scalar(rng, ma);
        Scalar b = random_scalar(rng, mb);
        const uint8_t code = codes[rng() % std::size(codes)];
        const bool is64 = rng() % 2;
        const bool sign = (code == op::DIV || code == op::MOD) && rng() % 2;
        if (code == op::LSH || code == op::RSH || code == op::ARSH) {
            b = Scalar::unsigned_range(0, is64 ? 63 : 31);
            mb = {0, 1, 7, is64 ? 63u : 31u};
        }
        const Scalar r = scalar_alu(code, a, b, is64, sign);
        for (uint64_t x : ma) {
            for (uint64_t y : mb) {
                const uint64_t v = concrete(code, x, y, is64, sign);
                ASSERT_TRUE(r.contains(v))
                    << "op " << int(code) << " is64 " << is64 << " " << x << ", " << y << " -> "
                    << v << " not in " << r.to_string();
            }
        }
    }
}

TEST(VerifierScalar, BranchRefinementKeepsEveryValueThatTakesTheBranch) {
    std::mt19937_64 rng(7);
    const uint8_t codes[] = {op::JEQ,  op::JNE,  op::JGT,  op::JGE,  op::JLT, op::JLE,
                             op::JSGT, op::JSGE, op::JSLT, op::JSLE, op::JSET};
    for (int iter = 0; iter < 20000; ++iter) {
        std::vector<uint64_t> ma, mb;
        const Scalar a = random_scalar(rng, ma);
        const Scalar b = random_scalar(rng, mb);
        const uint8_t code = codes[rng() % std::size(codes)];
        const bool is64 = rng() % 2;
        for (int taken = 0; taken < 2; ++taken) {
            Scalar ra = a, rb = b;
            const bool feasible = refine_branch(code, ra, rb, is64, taken == 1);
            for (uint64_t x : ma) {
                for (uint64_t y : mb) {
                    Scalar cx = Scalar::constant(x), cy = Scalar::constant(y);
                    const int outcome = branch_outcome(code, cx, cy, is64);
                    if (outcome != taken) continue;
                    ASSERT_TRUE(feasible) << int(code) << " " << x << " " << y;
                    ASSERT_TRUE(ra.contains(x) && rb.contains(y))
                        << "code " << int(code) << " is64 " << is64 << " taken " << taken << " x "
                        << x << " y " << y << " a " << ra.to_string() << " b " << rb.to_string();
                }
            }
        }
    }
}

TEST(VerifierScalar, TruncationAndSignExtension) {
    const Scalar s = Scalar::unsigned_range(0x1ff, 0x2ff);
    EXPECT_EQ(s.truncated(1).umax, 0xffu);
    EXPECT_TRUE(Scalar::constant(0xff).sign_extended(8).is_const());
    EXPECT_EQ(static_cast<int64_t>(Scalar::constant(0xff).sign_extended(8).const_value()), -1);
}

}  // namespace
}  // namespace xbpf::verifier
