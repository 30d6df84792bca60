// The interpreter: RFC 9669 semantics over a pre-decoded program.
//
// Speed comes from three choices. Programs are pre-decoded once into slots that hold the
// address of the code for their exact operation (opcode plus the variant chosen by off or imm:
// sdiv vs div, le16 vs be32, fetch-add vs xchg), so no decoding happens at run time. Dispatch
// is threaded (`goto *slot->handler`, the labels-as-values extension of GCC and clang), which
// gives every operation its own indirect branch and lets the CPU predict sequences. The
// checked mode is a second instantiation of the same code with bounds checks and an
// instruction budget compiled in, so the fast mode carries no trace of them.
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "vm/interpreter.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::vm {
namespace {

// Every operation the interpreter distinguishes. The X-macro keeps the enum and the label table
// in the same order.
#define XBPF_OPS(X)                                                                                   \
    X(ADD64_K)                                                                                        \
    X(ADD64_X)                                                                                        \
    X(SUB64_K)                                                                                        \
    X(SUB64_X)                                                                                        \
    X(MUL64_K)                                                                                        \
    X(MUL64_X)                                                                                        \
    X(DIV64_K)                                                                                        \
    X(DIV64_X) X(SDIV64_K) X(SDIV64_X) X(OR64_K) X(OR64_X) X(AND64_K) X(AND64_X) X(LSH64_K)           \
        X(LSH64_X) X(RSH64_K) X(RSH64_X) X(NEG64) X(MOD64_K) X(MOD64_X) X(SMOD64_K) X(SMOD64_X)       \
            X(XOR64_K) X(XOR64_X) X(MOV64_K) X(MOV64_X) X(MOVSX64_8) X(MOVSX64_16) X(MOVSX64_32)      \
                X(ARSH64_K) X(ARSH64_X) X(BSWAP16) X(BSWAP32) X(BSWAP64) X(ADD32_K) X(ADD32_X) X(     \
                    SUB32_K) X(SUB32_X) X(MUL32_K) X(MUL32_X) X(DIV32_K) X(DIV32_X) X(SDIV32_K)       \
                    X(SDIV32_X) X(OR32_K) X(OR32_X) X(AND32_K) X(AND32_X) X(LSH32_K) X(LSH32_X) X(    \
                        RSH32_K) X(RSH32_X) X(NEG32) X(MOD32_K) X(MOD32_X) X(SMOD32_K) X(SMOD32_X)    \
                        X(XOR32_K) X(XOR32_X) X(MOV32_K) X(MOV32_X) X(MOVSX32_8) X(MOVSX32_16) X(     \
                            ARSH32_K) X(ARSH32_X) X(LE16) X(LE32) X(LE64) X(BE16) X(BE32) X(BE64)     \
                            X(LDXB) X(LDXH) X(LDXW) X(LDXDW) X(LDXSB) X(LDXSH) X(LDXSW) X(STB) X(     \
                                STH) X(STW) X(STDW) X(STXB) X(STXH) X(STXW) X(STXDW)                  \
                                X(AADD32) X(AOR32) X(AAND32) X(AXOR32) X(AFADD32) X(AFOR32) X(        \
                                    AFAND32) X(AFXOR32) X(AXCHG32) X(ACMPXCHG32)                      \
                                    X(AADD64) X(AOR64) X(AAND64) X(AXOR64) X(AFADD64) X(AFOR64) X(    \
                                        AFAND64) X(AFXOR64)                                           \
                                        X(AXCHG64) X(ACMPXCHG64) X(LDDW) X(LDABSB) X(LDABSH) X(       \
                                            LDABSW) X(LDINDB) X(LDINDH)                               \
                                            X(LDINDW) X(                                              \
                                                JA) X(JA32) X(JEQ_K) X(JEQ_X) X(JGT_K)                \
                                                X(JGT_X) X(JGE_K) X(JGE_X) X(JSET_K) X(JSET_X) X(     \
                                                    JNE_K) X(JNE_X) X(JSGT_K) X(JSGT_X)               \
                                                    X(JSGE_K) X(                                      \
                                                        JSGE_X) X(JLT_K) X(JLT_X) X(JLE_K)            \
                                                        X(JLE_X) X(JSLT_K) X(JSLT_X) X(JSLE_K) X(     \
                                                            JSLE_X) X(JEQ32_K) X(JEQ32_X)             \
                                                            X(JGT32_K) X(JGT32_X) X(JGE32_K) X(       \
                                                                JGE32_X) X(JSET32_K) X(JSET32_X)      \
                                                                X(JNE32_K) X(JNE32_X) X(JSGT32_K) X(  \
                                                                    JSGT32_X) X(JSGE32_K)             \
                                                                    X(                                \
                                                                        JSGE32_X) X(JLT32_K)          \
                                                                        X(JLT32_X) X(JLE32_K) X(      \
                                                                            JLE32_X) X(JSLT32_K)      \
                                                                            X(                        \
                                                                                JSLT32_X) X(JSLE32_K) \
                                                                                X(                    \
                                                                                    JSLE32_X) X(CALL) \
                                                                                    X(CALL_LOCAL)     \
                                                                                        X(CALLX)      \
                                                                                            X(EXIT)

enum Operation : uint16_t {
#define XBPF_ENUM(name) OP_##name,
    XBPF_OPS(XBPF_ENUM)
#undef XBPF_ENUM
        OP_COUNT
};

// The operation an instruction performs, or OP_COUNT when the interpreter cannot run it
// (validation has already rejected malformed encodings; this only covers kfunc calls).
Operation operation_of(const Insn& insn) {
    const uint8_t cls = insn_class(insn.opcode);
    const uint8_t code = insn.opcode & op::kCodeMask;
    const bool x = (insn.opcode & op::kSourceMask) == op::X;
    const auto kx = [x](Operation k) { return static_cast<Operation>(k + (x ? 1 : 0)); };
    switch (cls) {
        case op::ALU64:
        case op::ALU: {
            const bool w = cls == op::ALU;
            const auto pick = [w, &kx](Operation k64, Operation k32) { return kx(w ? k32 : k64); };
            switch (code) {
                case op::ADD: return pick(OP_ADD64_K, OP_ADD32_K);
                case op::SUB: return pick(OP_SUB64_K, OP_SUB32_K);
                case op::MUL: return pick(OP_MUL64_K, OP_MUL32_K);
                case op::DIV:
                    return insn.off ? pick(OP_SDIV64_K, OP_SDIV32_K) : pick(OP_DIV64_K, OP_DIV32_K);
                case op::OR: return pick(OP_OR64_K, OP_OR32_K);
                case op::AND: return pick(OP_AND64_K, OP_AND32_K);
                case op::LSH: return pick(OP_LSH64_K, OP_LSH32_K);
                case op::RSH: return pick(OP_RSH64_K, OP_RSH32_K);
                case op::NEG: return w ? OP_NEG32 : OP_NEG64;
                case op::MOD:
                    return insn.off ? pick(OP_SMOD64_K, OP_SMOD32_K) : pick(OP_MOD64_K, OP_MOD32_K);
                case op::XOR: return pick(OP_XOR64_K, OP_XOR32_K);
                case op::MOV:
                    switch (insn.off) {
                        case 8: return w ? OP_MOVSX32_8 : OP_MOVSX64_8;
                        case 16: return w ? OP_MOVSX32_16 : OP_MOVSX64_16;
                        case 32: return OP_MOVSX64_32;
                        default: return pick(OP_MOV64_K, OP_MOV32_K);
                    }
                case op::ARSH: return pick(OP_ARSH64_K, OP_ARSH32_K);
                default: {  // END
                    const int shift = insn.imm == 16 ? 0 : insn.imm == 32 ? 1 : 2;
                    if (!w) return static_cast<Operation>(OP_BSWAP16 + shift);
                    return static_cast<Operation>((x ? OP_BE16 : OP_LE16) + shift);
                }
            }
        }
        case op::LDX: {
            const int size = access_size(insn.opcode);
            const int idx = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
            if ((insn.opcode & op::kModeMask) == op::MEMSX)
                return static_cast<Operation>(OP_LDXSB + idx);
            return static_cast<Operation>(OP_LDXB + idx);
        }
        case op::ST:
        case op::STX: {
            const int size = access_size(insn.opcode);
            const int idx = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
            if (cls == op::ST) return static_cast<Operation>(OP_STB + idx);
            if ((insn.opcode & op::kModeMask) == op::MEM)
                return static_cast<Operation>(OP_STXB + idx);
            const Operation base = size == 4 ? OP_AADD32 : OP_AADD64;
            switch (insn.imm) {
                case op::ADD: return base;
                case op::OR: return static_cast<Operation>(base + 1);
                case op::AND: return static_cast<Operation>(base + 2);
                case op::XOR: return static_cast<Operation>(base + 3);
                case op::ADD | op::FETCH: return static_cast<Operation>(base + 4);
                case op::OR | op::FETCH: return static_cast<Operation>(base + 5);
                case op::AND | op::FETCH: return static_cast<Operation>(base + 6);
                case op::XOR | op::FETCH: return static_cast<Operation>(base + 7);
                case op::XCHG: return static_cast<Operation>(base + 8);
                default: return static_cast<Operation>(base + 9);  // CMPXCHG
            }
        }
        case op::LD: {
            if (is_lddw(insn)) return OP_LDDW;
            const int size = access_size(insn.opcode);
            const int idx = size == 1 ? 0 : size == 2 ? 1 : 2;
            if ((insn.opcode & op::kModeMask) == op::ABS)
                return static_cast<Operation>(OP_LDABSB + idx);
            return static_cast<Operation>(OP_LDINDB + idx);
        }
        default: {  // JMP, JMP32
            const bool j32 = cls == op::JMP32;
            switch (code) {
                case op::JA: return j32 ? OP_JA32 : OP_JA;
                case op::CALL:
                    if (x) return OP_CALLX;
                    if (insn.src == op::kCallLocal) return OP_CALL_LOCAL;
                    if (insn.src == op::kCallHelper) return OP_CALL;
                    return OP_COUNT;
                case op::EXIT: return OP_EXIT;
                default: break;
            }
            static constexpr Operation kBase64[16] = {
                OP_COUNT, OP_JEQ_K, OP_JGT_K, OP_JGE_K, OP_JSET_K, OP_JNE_K,  OP_JSGT_K, OP_JSGE_K,
                OP_COUNT, OP_COUNT, OP_JLT_K, OP_JLE_K, OP_JSLT_K, OP_JSLE_K, OP_COUNT,  OP_COUNT};
            const Operation k = kBase64[code >> 4];
            // The 32-bit comparisons follow the 64-bit ones in the same order.
            const auto offset32 = static_cast<int>(OP_JEQ32_K) - static_cast<int>(OP_JEQ_K);
            return kx(static_cast<Operation>(k + (j32 ? offset32 : 0)));
        }
    }
}

// Signed division and modulo with RFC 9669's answers for the cases C leaves undefined:
// x / 0 = 0, x % 0 = x, INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0.
inline uint64_t sdiv64(uint64_t a, uint64_t b) {
    const auto x = static_cast<int64_t>(a), y = static_cast<int64_t>(b);
    if (y == 0) return 0;
    if (y == -1) return 0 - a;
    return static_cast<uint64_t>(x / y);
}
inline uint64_t smod64(uint64_t a, uint64_t b) {
    const auto x = static_cast<int64_t>(a), y = static_cast<int64_t>(b);
    if (y == 0) return a;
    if (y == -1) return 0;
    return static_cast<uint64_t>(x % y);
}
inline uint32_t sdiv32(uint32_t a, uint32_t b) {
    const auto x = static_cast<int32_t>(a), y = static_cast<int32_t>(b);
    if (y == 0) return 0;
    if (y == -1) return 0u - a;
    return static_cast<uint32_t>(x / y);
}
inline uint32_t smod32(uint32_t a, uint32_t b) {
    const auto x = static_cast<int32_t>(a), y = static_cast<int32_t>(b);
    if (y == 0) return a;
    if (y == -1) return 0;
    return static_cast<uint32_t>(x % y);
}

// Where an access landed relative to the nearest region, for fault messages.
std::string describe_access(uintptr_t addr, size_t size, bool write,
                            std::span<const MemoryRegion> stack,
                            std::span<const MemoryRegion> fixed,
                            const std::vector<MemoryRegion>* dynamic) {
    const MemoryRegion* nearest = nullptr;
    uintptr_t best = UINTPTR_MAX;
    auto consider = [&](const MemoryRegion& r) {
        if (r.contains(addr, size) && write && !r.writable) {
            nearest = &r;
            best = 0;
            return;
        }
        const uintptr_t distance = addr < r.begin ? r.begin - addr : addr - (r.begin + r.size);
        if (addr >= r.begin && addr < r.begin + r.size) {
            best = 0;
            nearest = &r;
        } else if (distance < best) {
            best = distance;
            nearest = &r;
        }
    };
    for (const auto& r : stack)
        consider(r);
    for (const auto& r : fixed)
        consider(r);
    if (dynamic) {
        for (const auto& r : *dynamic)
            consider(r);
    }
    const char* verb = write ? "write" : "read";
    if (nearest == nullptr) {
        return fmt::format("{} of {} bytes at {:#x}: the program may not access any memory", verb,
                           size, addr);
    }
    const auto rel = static_cast<int64_t>(addr - nearest->begin);
    if (nearest->contains(addr, size) && write && !nearest->writable) {
        return fmt::format("{} of {} bytes at {:#x} ({}{:+}): {} is read-only", verb, size, addr,
                           nearest->name, rel, nearest->name);
    }
    return fmt::format(
        "{} of {} bytes at {:#x} ({}{:+}) is outside every region the program may access; {} spans "
        "{} bytes",
        verb, size, addr, nearest->name, rel, nearest->name, nearest->size);
}

}  // namespace

// One run's state: registers, frames and their stacks. A callback (a helper calling a function
// of the program) continues on the same state in a frame of its own, so its frames count
// towards the depth limit and a checked run sees every active frame, the callers' included.
struct Machine final : FunctionCaller {
    struct Frame {
        const Slot* return_to;  // null: the frame of a callback, which returns to its helper
        const Program* program;
        uint64_t saved[4];  // r6..r9
        uint64_t r10;
    };

    // The registers when the run or a callback starts, and r6..r10 when a helper is called in a
    // program that can be called back (execute() works on a copy).
    uint64_t reg[kRegisterCount] = {};
    Frame frames[kMaxCallDepth];
    int depth = 0;
    uint64_t budget = 0;  // checked runs: instructions left
    const RunOptions* options = nullptr;
    // The helper call in progress: the program and instruction that made it.
    const Program* caller = nullptr;
    const Slot* call_site = nullptr;
    alignas(16) uint8_t stack[kStackSize * kMaxCallDepth];

    uint64_t call_function(RunContext& ctx, uint64_t function,
                           const std::array<uint64_t, 5>& args) override {
        return caller->call_back(*this, ctx, function, args);
    }
};

// ---- the engine ------------------------------------------------------------------------------

template <bool kChecked>
uint64_t Program::execute(Machine& m, RunContext& ctx, const Slot* ip) const {
#define XBPF_LABEL(name) &&L_##name,
    static const void* const kLabels[] = {XBPF_OPS(XBPF_LABEL)};
#undef XBPF_LABEL
    if (ip == nullptr) {
        // Hands the label addresses to prepare(); they are only ever jumped to from here.
        ctx.host = const_cast<void*>(static_cast<const void*>(kLabels));
        return 0;
    }

    // Runs until the frame it started in exits: the whole program, or one callback. The
    // registers are a local copy (the compiler knows nothing else writes them), handed back to
    // `m` only when a helper might call back.
    uint64_t reg[kRegisterCount];
    std::memcpy(reg, m.reg, sizeof reg);
    uint8_t* const stack = m.stack;
    Machine::Frame* const frames = m.frames;
    const int stop_depth = m.depth;
    int depth = m.depth;
    const Program* prog = this;
    [[maybe_unused]] uint64_t budget = m.budget;
    [[maybe_unused]] const RunOptions& options = *m.options;

#define R(n) reg[n]
#define DST reg[ip->dst]
#define SRC reg[ip->src]
#define IMM (static_cast<int64_t>(ip->imm))
#define UIMM32 (static_cast<uint32_t>(ip->imm))
#define PC (static_cast<size_t>(ip - prog->slots_.data()))
#define FAULT(...)                                       \
    do {                                                 \
        ctx.fault = Fault{PC, fmt::format(__VA_ARGS__)}; \
        return 0;                                        \
    } while (0)
#define DISPATCH()                                                           \
    do {                                                                     \
        if constexpr (kChecked) {                                            \
            if (budget_ != 0 && budget-- == 0)                               \
                FAULT("the instruction budget of {} is exhausted", budget_); \
        }                                                                    \
        goto * ip->handler;                                                  \
    } while (0)
#define NEXT()      \
    do {            \
        ++ip;       \
        DISPATCH(); \
    } while (0)
#define CHECK_ACCESS(addr, size, write)                                                            \
    do {                                                                                           \
        if constexpr (kChecked) {                                                                  \
            if (!access_ok(addr, size, write, stack, depth, options, ctx)) {                       \
                const MemoryRegion frames_region{                                                  \
                    reinterpret_cast<uintptr_t>(stack + kStackSize * (kMaxCallDepth - depth - 1)), \
                    static_cast<size_t>(kStackSize * (depth + 1)), true, "stack"};                 \
                FAULT("{}", describe_access(addr, size, write, std::span(&frames_region, 1),       \
                                            options.regions, ctx.dynamic_regions));                \
            }                                                                                      \
        }                                                                                          \
    } while (0)
#define LOAD(type, addr_expr)                                              \
    ({                                                                     \
        const uintptr_t a_ = (addr_expr);                                  \
        CHECK_ACCESS(a_, sizeof(type), false);                             \
        type v_;                                                           \
        std::memcpy(&v_, reinterpret_cast<const void*>(a_), sizeof(type)); \
        v_;                                                                \
    })
#define STORE(type, addr_expr, value)                                \
    do {                                                             \
        const uintptr_t a_ = (addr_expr);                            \
        CHECK_ACCESS(a_, sizeof(type), true);                        \
        const type v_ = static_cast<type>(value);                    \
        std::memcpy(reinterpret_cast<void*>(a_), &v_, sizeof(type)); \
    } while (0)
#define ADDR (DST + static_cast<int64_t>(ip->off))
#define LADDR (SRC + static_cast<int64_t>(ip->off))

    DISPATCH();

    // ---- 64-bit arithmetic ----
L_ADD64_K:
    DST += IMM;
    NEXT();
L_ADD64_X:
    DST += SRC;
    NEXT();
L_SUB64_K:
    DST -= IMM;
    NEXT();
L_SUB64_X:
    DST -= SRC;
    NEXT();
L_MUL64_K:
    DST *= IMM;
    NEXT();
L_MUL64_X:
    DST *= SRC;
    NEXT();
L_DIV64_K : {
    const uint64_t d = static_cast<uint64_t>(IMM);
    DST = d ? DST / d : 0;
}
    NEXT();
L_DIV64_X : {
    const uint64_t d = SRC;
    DST = d ? DST / d : 0;
}
    NEXT();
L_SDIV64_K:
    DST = sdiv64(DST, static_cast<uint64_t>(IMM));
    NEXT();
L_SDIV64_X:
    DST = sdiv64(DST, SRC);
    NEXT();
L_OR64_K:
    DST |= IMM;
    NEXT();
L_OR64_X:
    DST |= SRC;
    NEXT();
L_AND64_K:
    DST &= IMM;
    NEXT();
L_AND64_X:
    DST &= SRC;
    NEXT();
L_LSH64_K:
    DST <<= (IMM & 63);
    NEXT();
L_LSH64_X:
    DST <<= (SRC & 63);
    NEXT();
L_RSH64_K:
    DST >>= (IMM & 63);
    NEXT();
L_RSH64_X:
    DST >>= (SRC & 63);
    NEXT();
L_NEG64:
    DST = 0 - DST;
    NEXT();
L_MOD64_K : {
    const uint64_t d = static_cast<uint64_t>(IMM);
    DST = d ? DST % d : DST;
}
    NEXT();
L_MOD64_X : {
    const uint64_t d = SRC;
    DST = d ? DST % d : DST;
}
    NEXT();
L_SMOD64_K:
    DST = smod64(DST, static_cast<uint64_t>(IMM));
    NEXT();
L_SMOD64_X:
    DST = smod64(DST, SRC);
    NEXT();
L_XOR64_K:
    DST ^= IMM;
    NEXT();
L_XOR64_X:
    DST ^= SRC;
    NEXT();
L_MOV64_K:
    DST = static_cast<uint64_t>(IMM);
    NEXT();
L_MOV64_X:
    DST = SRC;
    NEXT();
L_MOVSX64_8:
    DST = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(SRC)));
    NEXT();
L_MOVSX64_16:
    DST = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(SRC)));
    NEXT();
L_MOVSX64_32:
    DST = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(SRC)));
    NEXT();
L_ARSH64_K:
    DST = static_cast<uint64_t>(static_cast<int64_t>(DST) >> (IMM & 63));
    NEXT();
L_ARSH64_X:
    DST = static_cast<uint64_t>(static_cast<int64_t>(DST) >> (SRC & 63));
    NEXT();
L_BSWAP16:
    DST = __builtin_bswap16(static_cast<uint16_t>(DST));
    NEXT();
L_BSWAP32:
    DST = __builtin_bswap32(static_cast<uint32_t>(DST));
    NEXT();
L_BSWAP64:
    DST = __builtin_bswap64(DST);
    NEXT();

    // ---- 32-bit arithmetic: operate on the low halves, zero-extend the result ----
#define W32(x) static_cast<uint32_t>(x)
L_ADD32_K:
    DST = W32(W32(DST) + UIMM32);
    NEXT();
L_ADD32_X:
    DST = W32(W32(DST) + W32(SRC));
    NEXT();
L_SUB32_K:
    DST = W32(W32(DST) - UIMM32);
    NEXT();
L_SUB32_X:
    DST = W32(W32(DST) - W32(SRC));
    NEXT();
L_MUL32_K:
    DST = W32(W32(DST) * UIMM32);
    NEXT();
L_MUL32_X:
    DST = W32(W32(DST) * W32(SRC));
    NEXT();
L_DIV32_K : {
    const uint32_t d = UIMM32;
    DST = d ? W32(DST) / d : 0;
}
    NEXT();
L_DIV32_X : {
    const uint32_t d = W32(SRC);
    DST = d ? W32(DST) / d : 0;
}
    NEXT();
L_SDIV32_K:
    DST = sdiv32(W32(DST), UIMM32);
    NEXT();
L_SDIV32_X:
    DST = sdiv32(W32(DST), W32(SRC));
    NEXT();
L_OR32_K:
    DST = W32(DST) | UIMM32;
    NEXT();
L_OR32_X:
    DST = W32(DST) | W32(SRC);
    NEXT();
L_AND32_K:
    DST = W32(DST) & UIMM32;
    NEXT();
L_AND32_X:
    DST = W32(DST) & W32(SRC);
    NEXT();
L_LSH32_K:
    DST = W32(W32(DST) << (UIMM32 & 31));
    NEXT();
L_LSH32_X:
    DST = W32(W32(DST) << (SRC & 31));
    NEXT();
L_RSH32_K:
    DST = W32(DST) >> (UIMM32 & 31);
    NEXT();
L_RSH32_X:
    DST = W32(DST) >> (SRC & 31);
    NEXT();
L_NEG32:
    DST = W32(0u - W32(DST));
    NEXT();
L_MOD32_K : {
    const uint32_t d = UIMM32;
    DST = d ? W32(DST) % d : W32(DST);
}
    NEXT();
L_MOD32_X : {
    const uint32_t d = W32(SRC);
    DST = d ? W32(DST) % d : W32(DST);
}
    NEXT();
L_SMOD32_K:
    DST = smod32(W32(DST), UIMM32);
    NEXT();
L_SMOD32_X:
    DST = smod32(W32(DST), W32(SRC));
    NEXT();
L_XOR32_K:
    DST = W32(DST) ^ UIMM32;
    NEXT();
L_XOR32_X:
    DST = W32(DST) ^ W32(SRC);
    NEXT();
L_MOV32_K:
    DST = UIMM32;
    NEXT();
L_MOV32_X:
    DST = W32(SRC);
    NEXT();
L_MOVSX32_8:
    DST = W32(static_cast<int32_t>(static_cast<int8_t>(SRC)));
    NEXT();
L_MOVSX32_16:
    DST = W32(static_cast<int32_t>(static_cast<int16_t>(SRC)));
    NEXT();
L_ARSH32_K:
    DST = W32(static_cast<int32_t>(W32(DST)) >> (UIMM32 & 31));
    NEXT();
L_ARSH32_X:
    DST = W32(static_cast<int32_t>(W32(DST)) >> (SRC & 31));
    NEXT();
L_LE16:
    DST = static_cast<uint16_t>(DST);
    NEXT();
L_LE32:
    DST = W32(DST);
    NEXT();
L_LE64:
    NEXT();
L_BE16:
    DST = __builtin_bswap16(static_cast<uint16_t>(DST));
    NEXT();
L_BE32:
    DST = __builtin_bswap32(W32(DST));
    NEXT();
L_BE64:
    DST = __builtin_bswap64(DST);
    NEXT();

    // ---- memory ----
L_LDXB:
    DST = LOAD(uint8_t, LADDR);
    NEXT();
L_LDXH:
    DST = LOAD(uint16_t, LADDR);
    NEXT();
L_LDXW:
    DST = LOAD(uint32_t, LADDR);
    NEXT();
L_LDXDW:
    DST = LOAD(uint64_t, LADDR);
    NEXT();
L_LDXSB:
    DST = static_cast<uint64_t>(static_cast<int64_t>(LOAD(int8_t, LADDR)));
    NEXT();
L_LDXSH:
    DST = static_cast<uint64_t>(static_cast<int64_t>(LOAD(int16_t, LADDR)));
    NEXT();
L_LDXSW:
    DST = static_cast<uint64_t>(static_cast<int64_t>(LOAD(int32_t, LADDR)));
    NEXT();
L_STB:
    STORE(uint8_t, ADDR, ip->imm);
    NEXT();
L_STH:
    STORE(uint16_t, ADDR, ip->imm);
    NEXT();
L_STW:
    STORE(uint32_t, ADDR, ip->imm);
    NEXT();
L_STDW:
    STORE(uint64_t, ADDR, IMM);
    NEXT();
L_STXB:
    STORE(uint8_t, ADDR, SRC);
    NEXT();
L_STXH:
    STORE(uint16_t, ADDR, SRC);
    NEXT();
L_STXW:
    STORE(uint32_t, ADDR, SRC);
    NEXT();
L_STXDW:
    STORE(uint64_t, ADDR, SRC);
    NEXT();

    // ---- atomics (sequentially consistent, as Linux's are fully ordered) ----
#define ATOMIC_PTR(type)                      \
    ({                                        \
        const uintptr_t a_ = ADDR;            \
        CHECK_ACCESS(a_, sizeof(type), true); \
        reinterpret_cast<type*>(a_);          \
    })
L_AADD32:
    __atomic_fetch_add(ATOMIC_PTR(uint32_t), W32(SRC), __ATOMIC_SEQ_CST);
    NEXT();
L_AOR32:
    __atomic_fetch_or(ATOMIC_PTR(uint32_t), W32(SRC), __ATOMIC_SEQ_CST);
    NEXT();
L_AAND32:
    __atomic_fetch_and(ATOMIC_PTR(uint32_t), W32(SRC), __ATOMIC_SEQ_CST);
    NEXT();
L_AXOR32:
    __atomic_fetch_xor(ATOMIC_PTR(uint32_t), W32(SRC), __ATOMIC_SEQ_CST);
    NEXT();
L_AFADD32:
    SRC = __atomic_fetch_add(ATOMIC_PTR(uint32_t), W32(SRC), __ATOMIC_SEQ_CST);
    NEXT();
L_AFOR32:
    SRC = __atomic_fetch_or(ATOMIC_PTR(uint32_t), W32(SRC), __ATOMIC_SEQ_CST);
    NEXT();
L_AFAND32:
    SRC = __atomic_fetch_and(ATOMIC_PTR(uint32_t), W32(SRC), __ATOMIC_SEQ_CST);
    NEXT();
L_AFXOR32:
    SRC = __atomic_fetch_xor(ATOMIC_PTR(uint32_t), W32(SRC), __ATOMIC_SEQ_CST);
    NEXT();
L_AXCHG32:
    SRC = __atomic_exchange_n(ATOMIC_PTR(uint32_t), W32(SRC), __ATOMIC_SEQ_CST);
    NEXT();
L_ACMPXCHG32 : {
    uint32_t expected = W32(R(0));
    __atomic_compare_exchange_n(ATOMIC_PTR(uint32_t), &expected, W32(SRC), false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    R(0) = expected;  // the old value, whether or not the exchange happened
}
    NEXT();
L_AADD64:
    __atomic_fetch_add(ATOMIC_PTR(uint64_t), SRC, __ATOMIC_SEQ_CST);
    NEXT();
L_AOR64:
    __atomic_fetch_or(ATOMIC_PTR(uint64_t), SRC, __ATOMIC_SEQ_CST);
    NEXT();
L_AAND64:
    __atomic_fetch_and(ATOMIC_PTR(uint64_t), SRC, __ATOMIC_SEQ_CST);
    NEXT();
L_AXOR64:
    __atomic_fetch_xor(ATOMIC_PTR(uint64_t), SRC, __ATOMIC_SEQ_CST);
    NEXT();
L_AFADD64:
    SRC = __atomic_fetch_add(ATOMIC_PTR(uint64_t), SRC, __ATOMIC_SEQ_CST);
    NEXT();
L_AFOR64:
    SRC = __atomic_fetch_or(ATOMIC_PTR(uint64_t), SRC, __ATOMIC_SEQ_CST);
    NEXT();
L_AFAND64:
    SRC = __atomic_fetch_and(ATOMIC_PTR(uint64_t), SRC, __ATOMIC_SEQ_CST);
    NEXT();
L_AFXOR64:
    SRC = __atomic_fetch_xor(ATOMIC_PTR(uint64_t), SRC, __ATOMIC_SEQ_CST);
    NEXT();
L_AXCHG64:
    SRC = __atomic_exchange_n(ATOMIC_PTR(uint64_t), SRC, __ATOMIC_SEQ_CST);
    NEXT();
L_ACMPXCHG64 : {
    uint64_t expected = R(0);
    __atomic_compare_exchange_n(ATOMIC_PTR(uint64_t), &expected, SRC, false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    R(0) = expected;
}
    NEXT();
#undef ATOMIC_PTR

    // ---- 64-bit immediates and legacy packet loads ----
L_LDDW:
    DST = ip[1].value();
    ip += 2;
    DISPATCH();
#define LEGACY_LOAD(type, swap, offset_expr)                                                      \
    do {                                                                                          \
        const int64_t o_ = (offset_expr);                                                         \
        if (o_ < 0 || static_cast<uint64_t>(o_) + sizeof(type) > ctx.legacy_packet_len) return 0; \
        type v_;                                                                                  \
        std::memcpy(&v_, ctx.legacy_packet + o_, sizeof(type));                                   \
        R(0) = swap(v_);                                                                          \
    } while (0)
#define NOSWAP(v) (v)
L_LDABSB:
    LEGACY_LOAD(uint8_t, NOSWAP, IMM);
    NEXT();
L_LDABSH:
    LEGACY_LOAD(uint16_t, __builtin_bswap16, IMM);
    NEXT();
L_LDABSW:
    LEGACY_LOAD(uint32_t, __builtin_bswap32, IMM);
    NEXT();
L_LDINDB:
    LEGACY_LOAD(uint8_t, NOSWAP, static_cast<int64_t>(W32(SRC + IMM)));
    NEXT();
L_LDINDH:
    LEGACY_LOAD(uint16_t, __builtin_bswap16, static_cast<int64_t>(W32(SRC + IMM)));
    NEXT();
L_LDINDW:
    LEGACY_LOAD(uint32_t, __builtin_bswap32, static_cast<int64_t>(W32(SRC + IMM)));
    NEXT();
#undef NOSWAP
#undef LEGACY_LOAD

    // ---- jumps ----
L_JA:
    ip += ip->off + 1;
    DISPATCH();
L_JA32:
    ip += ip->imm + 1;
    DISPATCH();
#define JUMP_IF(cond)            \
    do {                         \
        if (cond) ip += ip->off; \
        NEXT();                  \
    } while (0)
#define S64(x) static_cast<int64_t>(x)
#define S32(x) static_cast<int32_t>(x)
L_JEQ_K:
    JUMP_IF(DST == static_cast<uint64_t>(IMM));
L_JEQ_X:
    JUMP_IF(DST == SRC);
L_JGT_K:
    JUMP_IF(DST > static_cast<uint64_t>(IMM));
L_JGT_X:
    JUMP_IF(DST > SRC);
L_JGE_K:
    JUMP_IF(DST >= static_cast<uint64_t>(IMM));
L_JGE_X:
    JUMP_IF(DST >= SRC);
L_JSET_K:
    JUMP_IF(DST & static_cast<uint64_t>(IMM));
L_JSET_X:
    JUMP_IF(DST & SRC);
L_JNE_K:
    JUMP_IF(DST != static_cast<uint64_t>(IMM));
L_JNE_X:
    JUMP_IF(DST != SRC);
L_JSGT_K:
    JUMP_IF(S64(DST) > IMM);
L_JSGT_X:
    JUMP_IF(S64(DST) > S64(SRC));
L_JSGE_K:
    JUMP_IF(S64(DST) >= IMM);
L_JSGE_X:
    JUMP_IF(S64(DST) >= S64(SRC));
L_JLT_K:
    JUMP_IF(DST < static_cast<uint64_t>(IMM));
L_JLT_X:
    JUMP_IF(DST < SRC);
L_JLE_K:
    JUMP_IF(DST <= static_cast<uint64_t>(IMM));
L_JLE_X:
    JUMP_IF(DST <= SRC);
L_JSLT_K:
    JUMP_IF(S64(DST) < IMM);
L_JSLT_X:
    JUMP_IF(S64(DST) < S64(SRC));
L_JSLE_K:
    JUMP_IF(S64(DST) <= IMM);
L_JSLE_X:
    JUMP_IF(S64(DST) <= S64(SRC));
L_JEQ32_K:
    JUMP_IF(W32(DST) == UIMM32);
L_JEQ32_X:
    JUMP_IF(W32(DST) == W32(SRC));
L_JGT32_K:
    JUMP_IF(W32(DST) > UIMM32);
L_JGT32_X:
    JUMP_IF(W32(DST) > W32(SRC));
L_JGE32_K:
    JUMP_IF(W32(DST) >= UIMM32);
L_JGE32_X:
    JUMP_IF(W32(DST) >= W32(SRC));
L_JSET32_K:
    JUMP_IF(W32(DST) & UIMM32);
L_JSET32_X:
    JUMP_IF(W32(DST) & W32(SRC));
L_JNE32_K:
    JUMP_IF(W32(DST) != UIMM32);
L_JNE32_X:
    JUMP_IF(W32(DST) != W32(SRC));
L_JSGT32_K:
    JUMP_IF(S32(DST) > ip->imm);
L_JSGT32_X:
    JUMP_IF(S32(DST) > S32(SRC));
L_JSGE32_K:
    JUMP_IF(S32(DST) >= ip->imm);
L_JSGE32_X:
    JUMP_IF(S32(DST) >= S32(SRC));
L_JLT32_K:
    JUMP_IF(W32(DST) < UIMM32);
L_JLT32_X:
    JUMP_IF(W32(DST) < W32(SRC));
L_JLE32_K:
    JUMP_IF(W32(DST) <= UIMM32);
L_JLE32_X:
    JUMP_IF(W32(DST) <= W32(SRC));
L_JSLT32_K:
    JUMP_IF(S32(DST) < ip->imm);
L_JSLT32_X:
    JUMP_IF(S32(DST) < S32(SRC));
L_JSLE32_K:
    JUMP_IF(S32(DST) <= ip->imm);
L_JSLE32_X:
    JUMP_IF(S32(DST) <= S32(SRC));
#undef JUMP_IF

    // ---- calls ----
    {
        int32_t helper_id;
        const Slot* callee;
    L_CALL:
        helper_id = ip->imm;
    call_helper : {
        const uint64_t r1 = R(1);
        // What a callback from the helper continues from (only programs that take function
        // addresses can be called back: the others need just the call site, for the fault).
        m.caller = prog;
        m.call_site = ip;
        if (prog->calls_back_) {
            std::memcpy(m.reg + 6, reg + 6, 5 * sizeof reg[0]);  // r6..r10
            m.depth = depth;
        }
        if constexpr (kChecked) m.budget = budget;
        R(0) = prog->helpers_[static_cast<size_t>(helper_id)](R(1), R(2), R(3), R(4), R(5), ctx);
        if constexpr (kChecked) budget = m.budget;
        if (ctx.fault) return 0;  // in a callback the helper ran
        if (ctx.tail_call != nullptr) {
            // The helper accepted a tail call: continue in the target program, in this frame,
            // with the context the helper was given. The caller of this frame gets its result.
            const Executable* target = ctx.tail_call;
            ctx.tail_call = nullptr;
            if (target->engine() != EngineKind::Interpreter ||
                static_cast<const Program*>(target)->checked_ != kChecked) {
                FAULT("tail call into a program prepared for another engine or mode");
            }
            prog = static_cast<const Program*>(target);
            R(1) = r1;
            ip = prog->slots_.data();
            DISPATCH();
        }
    }
        NEXT();
    L_CALL_LOCAL:
        callee = ip + ip->imm + 1;
    call_local:
        if (depth + 1 >= kMaxCallDepth)
            FAULT("bpf-to-bpf calls nest deeper than {} frames", kMaxCallDepth);
        frames[depth] = Machine::Frame{ip + 1, prog, {R(6), R(7), R(8), R(9)}, R(10)};
        ++depth;
        R(10) -= kStackSize;
        ip = callee;
        DISPATCH();
    L_CALLX : {
        const uint64_t target = DST;
        callee = prog->function_at(target);
        if (callee != nullptr) goto call_local;
        // Not a function of this program: an integer naming a helper (as the conformance suite
        // uses callx).
        if (target < prog->helpers_.size() && prog->helpers_[target] != nullptr) {
            helper_id = static_cast<int32_t>(target);
            goto call_helper;
        }
        FAULT("callx r{} = {:#x} is neither a function of the program nor a helper id", ip->dst,
              target);
    }
    }
L_EXIT:
    if (depth == stop_depth) {
        m.budget = budget;
        return R(0);
    }
    --depth;
    ip = frames[depth].return_to;
    prog = frames[depth].program;
    R(6) = frames[depth].saved[0];
    R(7) = frames[depth].saved[1];
    R(8) = frames[depth].saved[2];
    R(9) = frames[depth].saved[3];
    R(10) = frames[depth].r10;
    DISPATCH();

#undef S64
#undef S32
#undef W32
#undef R
#undef DST
#undef SRC
#undef IMM
#undef UIMM32
#undef PC
#undef FAULT
#undef DISPATCH
#undef NEXT
#undef CHECK_ACCESS
#undef LOAD
#undef STORE
#undef ADDR
#undef LADDR
}

bool Program::access_ok(uintptr_t addr, size_t size, bool write, const uint8_t* stack, int depth,
                        const RunOptions& options, const RunContext& ctx) {
    // The active frames are contiguous: frame 0 at the top, callees below it.
    const auto top =
        reinterpret_cast<uintptr_t>(stack) + static_cast<uintptr_t>(kStackSize) * kMaxCallDepth;
    const uintptr_t bottom =
        top - static_cast<uintptr_t>(kStackSize) * static_cast<uintptr_t>(depth + 1);
    if (addr >= bottom && size <= top - bottom && addr - bottom <= top - bottom - size) return true;
    for (const auto& r : options.regions) {
        if (r.contains(addr, size)) return r.writable || !write;
    }
    if (ctx.dynamic_regions != nullptr) {
        for (const auto& r : *ctx.dynamic_regions) {
            if (r.contains(addr, size)) return r.writable || !write;
        }
    }
    return false;
}

const void* const* Program::labels(bool checked) {
    RunContext probe;
    static const Program empty;
    Machine unused;
    if (checked) {
        empty.execute<true>(unused, probe, nullptr);
    } else {
        empty.execute<false>(unused, probe, nullptr);
    }
    return static_cast<const void* const*>(probe.host);
}

const Slot* Program::function_at(uint64_t address) const {
    const uintptr_t begin = reinterpret_cast<uintptr_t>(slots_.data());
    if (address < begin || address >= begin + slots_.size() * sizeof(Slot) ||
        (address - begin) % sizeof(Slot) != 0 || !function_start_[(address - begin) / sizeof(Slot)])
        return nullptr;
    return reinterpret_cast<const Slot*>(address);
}

uint64_t Program::call_back(Machine& m, RunContext& ctx, uint64_t function,
                            const std::array<uint64_t, 5>& args) const {
    const size_t site = static_cast<size_t>(m.call_site - slots_.data());
    const Slot* callee = calls_back_ ? function_at(function) : nullptr;
    if (callee == nullptr) {
        ctx.fault = Fault{
            site, fmt::format("the callback {:#x} is not a function of the program", function)};
        return 0;
    }
    // The callback's frame counts like a bpf-to-bpf callee's (the helper's own frame does not).
    if (m.depth + 1 >= kMaxCallDepth) {
        ctx.fault =
            Fault{site, fmt::format("bpf-to-bpf calls nest deeper than {} frames", kMaxCallDepth)};
        return 0;
    }
    // Helper calls inside the callback move m.depth and the call site: put them back after.
    const int depth = m.depth;
    const Program* caller = m.caller;
    const Slot* call_site = m.call_site;
    uint64_t* reg = m.reg;
    Machine::Frame& frame = m.frames[depth];
    frame = Machine::Frame{nullptr, this, {reg[6], reg[7], reg[8], reg[9]}, reg[10]};
    m.depth = depth + 1;
    reg[kFramePointer] -= kStackSize;
    for (size_t i = 0; i < args.size(); ++i)
        reg[i + 1] = args[i];
    const uint64_t r0 = checked_ ? execute<true>(m, ctx, callee) : execute<false>(m, ctx, callee);
    m.depth = depth;
    m.caller = caller;
    m.call_site = call_site;
    for (int i = 0; i < 4; ++i)
        reg[6 + i] = frame.saved[i];
    reg[kFramePointer] = frame.r10;
    return r0;
}

Result<std::unique_ptr<Program>> Program::prepare(std::span<const Insn> program,
                                                  const HelperTable& helpers,
                                                  const PrepareOptions& options) {
    if (auto s = validate_program(program); !s) return std::move(s).error();
    auto p = std::unique_ptr<Program>(new Program());
    p->program_.assign(program.begin(), program.end());
    p->checked_ = options.checked;
    p->budget_ = options.checked ? options.instruction_budget : 0;
    p->slots_.resize(program.size());
    p->function_start_.assign(program.size(), false);
    p->function_start_[0] = true;
    for (size_t i = 0; i < helpers.size(); ++i)
        p->helpers_.push_back(helpers.get(static_cast<int32_t>(i)));

    const void* const* labels = Program::labels(options.checked);
    for (size_t pc = 0; pc < program.size(); ++pc) {
        const Insn& insn = program[pc];
        const Operation operation = operation_of(insn);
        auto error_here = [pc](std::string message) {
            return std::move(Error(std::move(message)).in(fmt::format("instruction {}", pc)));
        };
        if (operation == OP_COUNT)
            return error_here("calls to kernel functions (kfuncs) are not supported");
        Slot& slot = p->slots_[pc];
        slot.handler = labels[operation];
        slot.dst = insn.dst;
        slot.src = insn.src;
        slot.off = insn.off;
        slot.imm = insn.imm;
        if (operation == OP_CALL && (insn.imm < 0 || helpers.get(insn.imm) == nullptr)) {
            std::string_view name = linux_helper_name(insn.imm);
            return error_here(fmt::format("call to unknown helper {}{}{}", insn.imm,
                                          name.empty() ? "" : " ", name));
        }
        if (operation == OP_CALL_LOCAL)
            p->function_start_[static_cast<size_t>(branch_target(program, pc))] = true;
        if (operation == OP_LDDW) {
            const Insn& hi = program[pc + 1];
            uint64_t value = lddw_imm(insn, hi);
            if (insn.src == op::kImmCodeAddr) {
                p->calls_back_ = true;
                const auto target = static_cast<size_t>(branch_target(program, pc));
                p->function_start_[target] = true;
                value = reinterpret_cast<uintptr_t>(&p->slots_[target]);
            } else if (insn.src != op::kImm64) {
                if (!options.resolve_lddw) {
                    return error_here(fmt::format(
                        "lddw with pseudo source {} needs a loader to resolve it", insn.src));
                }
                auto resolved = options.resolve_lddw(insn, hi);
                if (!resolved)
                    return std::move(resolved).error().in(fmt::format("instruction {}", pc));
                value = *resolved;
            }
            ++pc;
            p->slots_[pc].set_value(value);
        }
    }
    return p;
}

uint64_t Program::run(RunContext& ctx, std::span<const uint64_t> args,
                      const RunOptions& options) const {
    Machine m;
    m.options = &options;
    m.budget = budget_;
    for (size_t i = 0; i < args.size() && i < 5; ++i)
        m.reg[i + 1] = args[i];
    m.reg[kFramePointer] = reinterpret_cast<uintptr_t>(m.stack + sizeof(m.stack));
    FunctionCaller* const outer = ctx.function_caller;
    ctx.function_caller = &m;
    const uint64_t r0 =
        checked_ ? execute<true>(m, ctx, slots_.data()) : execute<false>(m, ctx, slots_.data());
    ctx.function_caller = outer;
    return r0;
}

}  // namespace xbpf::vm

namespace xbpf {

void HelperTable::set(int32_t id, HelperFn fn) {
    if (id < 0) return;
    if (static_cast<size_t>(id) >= fns_.size()) fns_.resize(static_cast<size_t>(id) + 1, nullptr);
    fns_[static_cast<size_t>(id)] = fn;
}

Result<std::unique_ptr<Executable>> prepare_interpreter(std::span<const Insn> program,
                                                        const HelperTable& helpers,
                                                        const PrepareOptions& options) {
    auto p = vm::Program::prepare(program, helpers, options);
    if (!p) return std::move(p).error();
    return std::unique_ptr<Executable>(std::move(*p));
}

}  // namespace xbpf
