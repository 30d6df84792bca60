// Random valid eBPF programs for differential testing (interpreter vs JIT vs, optionally, the
// Linux kernel). Header-only so the fuzzer (fuzz/jit_differential_fuzz.cpp) shares it.
//
// A program gets r1 = a memory block (kMemoryBytes): kDataBytes of input it may read and write,
// then a dump area its epilogue fills with r0 and every stack slot it used, so that comparing
// the memory after a run compares r0, the buffer and the stack. Programs are valid by
// construction, the way a verifier would see them: registers are read only once written,
// memory accesses stay inside the buffer or the initialised stack, loops are counted, calls go
// to later functions only, including the callbacks of bpf_loop (which get the buffer as their
// context). Every decision comes from a Choices source: a seeded PRNG, or the
// fuzzer's bytes.
//
// With kernel_compatible, only what the Linux verifier accepts in an XDP program is generated
// (no helpers, no legacy packet loads, no atomics on packet memory, shift immediates in range,
// no callx), and a second variant of the program starts with the XDP prologue that proves the
// packet long enough.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "xbpf/engine.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/insn.hpp"

namespace xbpf::test {

inline constexpr int kDataBytes = 256;
inline constexpr int kDumpOffset = kDataBytes;  // r0, then stack slots 1..n
inline constexpr int kMaxStackSlots = 64;       // 512 bytes
inline constexpr int kMemoryBytes = kDumpOffset + 8 + 8 * kMaxStackSlots;
inline constexpr int32_t kMixHelper = 100;    // deterministic: mixes r1..r5
inline constexpr int32_t kStoreHelper = 101;  // *(u64 *)r1 = r2, returns r2 ^ 0x5a
inline constexpr int32_t kLoopHelper = 181;   // Linux's bpf_loop: callbacks into the program

// The helpers generated programs call.
inline uint64_t differential_mix_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                                        RunContext&) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (uint64_t v : {a, b, c, d, e}) {
        h ^= v;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    return h;
}
inline uint64_t differential_store_helper(uint64_t p, uint64_t v, uint64_t, uint64_t, uint64_t,
                                          RunContext&) {
    std::memcpy(reinterpret_cast<void*>(p), &v, 8);
    return v ^ 0x5a;
}
inline HelperTable differential_helpers() {
    HelperTable t;
    t.set(kMixHelper, differential_mix_helper);
    t.set(kStoreHelper, differential_store_helper);
    t.set(kLoopHelper, HelperCatalog::linux_helpers().table().get(kLoopHelper));
    return t;
}

// Where decisions come from: a PRNG, or a fuzzer's bytes (zeros once they run out, which
// steers generation to its end).
class Choices {
  public:
    explicit Choices(uint64_t seed) : rng_(seed) {}
    Choices(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    uint64_t below(uint64_t n) {
        if (n <= 1) return 0;
        if (data_ == nullptr) return rng_() % n;
        const int bytes = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : 8;
        uint64_t v = 0;
        for (int i = 0; i < bytes && pos_ < size_; ++i)
            v |= static_cast<uint64_t>(data_[pos_++]) << (8 * i);
        return v % n;
    }
    uint64_t bits64() {
        if (data_ == nullptr) return rng_();
        return below(UINT64_MAX);
    }
    bool percent(unsigned p) { return below(100) < p; }
    bool exhausted() const { return data_ != nullptr && pos_ >= size_; }
    template <typename T>
    T pick(std::initializer_list<T> options) {
        return options.begin()[below(options.size())];
    }

  private:
    std::mt19937_64 rng_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0, pos_ = 0;
};

struct GeneratorOptions {
    bool kernel_compatible = false;
    int body_budget = 80;  // instructions the main body aims at
    int max_functions = 3;
};

struct GeneratedProgram {
    std::vector<Insn> program;    // for xbpf's engines: r1 = the memory
    std::vector<Insn> kernel;     // XDP variant (kernel_compatible only): the memory is the packet
    std::vector<uint8_t> memory;  // initial memory contents (kMemoryBytes)
};

class ProgramGenerator {
  public:
    ProgramGenerator(Choices& choices, GeneratorOptions options) : c_(choices), opt_(options) {}

    GeneratedProgram generate() {
        GeneratedProgram out;
        out.memory.resize(kMemoryBytes);
        for (int i = 0; i < kDataBytes; ++i)
            out.memory[static_cast<size_t>(i)] = static_cast<uint8_t>(c_.below(256));

        // Function 0 is the main program; others are created by calls and generated after.
        functions_.emplace_back();
        std::vector<Insn> main = generate_function(0);
        std::vector<std::vector<Insn>> bodies;
        for (size_t f = 1; f < functions_.size(); ++f)
            bodies.push_back(generate_function(static_cast<int>(f)));
        // Lay out: main, then functions in order; patch call offsets.
        std::vector<size_t> start(functions_.size(), 0);
        std::vector<Insn> code = main;
        for (size_t f = 1; f < functions_.size(); ++f) {
            start[f] = code.size();
            code.insert(code.end(), bodies[f - 1].begin(), bodies[f - 1].end());
        }
        for (size_t f = 0; f < functions_.size(); ++f) {
            for (const auto& [at, callee] : functions_[f].calls) {
                const size_t pc = start[f] + at;
                code[pc].imm = static_cast<int32_t>(static_cast<int64_t>(start[callee]) -
                                                    static_cast<int64_t>(pc) - 1);
            }
            for (size_t at : functions_[f].code_addresses) {
                // lddw of a function: target named like a call (relative to the lddw).
                const size_t pc = start[f] + at;
                const int callee = code[pc].imm;
                code[pc].imm = static_cast<int32_t>(static_cast<int64_t>(start[callee]) -
                                                    static_cast<int64_t>(pc) - 1);
            }
        }
        // The engines' prologue is one instruction: rB = r1.
        out.program.push_back(make::mov64_reg(main_base_, 1));
        out.program.insert(out.program.end(), code.begin(), code.end());
        if (opt_.kernel_compatible) {
            // XDP: rB = ctx->data; if (rB + kMemoryBytes > ctx->data_end) return XDP_PASS.
            out.kernel.push_back(make::load(op::W, main_base_, 1, 0));
            out.kernel.push_back(make::load(op::W, 2, 1, 4));
            out.kernel.push_back(make::mov64_reg(3, main_base_));
            out.kernel.push_back(make::alu64_imm(op::ADD, 3, kMemoryBytes));
            out.kernel.push_back(make::jmp_reg(op::JLE, 3, 2, 2));
            out.kernel.push_back(make::mov64_imm(0, 2));
            out.kernel.push_back(make::exit());
            out.kernel.insert(out.kernel.end(), code.begin(), code.end());
            // The kernel's variant returns XDP_PASS where the engines' returns r0 (dumped).
            out.kernel[out.kernel.size() - code.size() + main.size() - 2] = make::mov64_imm(0, 2);
        }
        return out;
    }

  private:
    enum class Kind : uint8_t { Uninit, Scalar, Buffer, Stack };
    struct Reg {
        Kind kind = Kind::Uninit;
        int32_t lo = 0, hi = 0;  // pointers: offset range from the buffer / from r10
    };
    struct State {
        Reg r[10];
    };
    struct Function {
        std::vector<std::pair<size_t, int>> calls;  // (pc in function, callee)
        std::vector<size_t> code_addresses;         // lddw of a function (imm = callee for now)
        int depth = 0;                              // call depth at which it runs
        bool callback = false;  // bpf_loop's: r1 = the index, r2 = the buffer; returns 0 or 1
    };

    // ---- emission ----
    void emit(Insn i) { out_->push_back(i); }
    void emit_lddw(int dst, uint64_t v, uint8_t pseudo = op::kImm64) {
        make::lddw(*out_, dst, v, pseudo);
    }

    // ---- register choice ----
    bool writable(int r) const { return r != base_ && (reserved_ & (1u << r)) == 0; }
    int pick_scalar() {
        int candidates[10], n = 0;
        for (int r = 0; r < 10; ++r) {
            if (st_.r[r].kind == Kind::Scalar) candidates[n++] = r;
        }
        return n == 0 ? -1 : candidates[c_.below(static_cast<uint64_t>(n))];
    }
    int pick_dst() {
        int candidates[10], n = 0;
        for (int r = 0; r < 10; ++r) {
            if (writable(r)) candidates[n++] = r;
        }
        return candidates[c_.below(static_cast<uint64_t>(n))];
    }
    void set_scalar(int r) { st_.r[r] = Reg{Kind::Scalar}; }
    // A scalar register, initialising one if there is none.
    int scalar() {
        int r = pick_scalar();
        if (r >= 0) return r;
        r = pick_dst();
        emit(make::mov64_imm(r, static_cast<int32_t>(c_.bits64())));
        set_scalar(r);
        return r;
    }

    int32_t interesting_imm() {
        switch (c_.below(8)) {
            case 0: return 0;
            case 1: return 1;
            case 2: return -1;
            case 3: return INT32_MIN;
            case 4: return INT32_MAX;
            case 5: return static_cast<int32_t>(c_.below(64));
            case 6: return 1 << c_.below(31);
            default: return static_cast<int32_t>(c_.bits64());
        }
    }
    uint64_t interesting_u64() {
        switch (c_.below(6)) {
            case 0: return 0x8000000000000000ull;
            case 1: return UINT64_MAX;
            case 2: return 0xffffffffull;
            case 3: return 0x80000000ull;
            case 4: return static_cast<uint64_t>(static_cast<int64_t>(interesting_imm()));
            default: return c_.bits64();
        }
    }

    // ---- functions ----
    std::vector<Insn> generate_function(int f) {
        std::vector<Insn> code;
        out_ = &code;
        current_ = f;
        reserved_ = 0;
        st_ = State{};
        if (f == 0) {
            // rB = the buffer (set by the prologue the caller adds); pick which register.
            base_ = 6 + static_cast<int>(c_.below(4));
            main_base_ = base_;
        } else if (functions_[static_cast<size_t>(f)].callback) {
            // bpf_loop calls it with r1 = the index, r2 = the buffer (its context), r3..r5 = 0.
            set_scalar(1);
            st_.r[2] = Reg{Kind::Buffer, 0, 0};
            for (int r = 3; r <= 5; ++r)
                set_scalar(r);
            base_ = 6 + static_cast<int>(c_.below(4));
            emit(make::mov64_reg(base_, 2));
        } else {
            // Called with r1 = the buffer, r2..r5 scalars.
            st_.r[1] = Reg{Kind::Buffer, 0, 0};
            for (int r = 2; r <= 5; ++r)
                set_scalar(r);
            base_ = 6 + static_cast<int>(c_.below(4));
            emit(make::mov64_reg(base_, 1));
        }
        st_.r[base_] = Reg{Kind::Buffer, 0, 0};
        // Linux limits the stack of a whole call chain to 512 bytes.
        const int max_slots = !opt_.kernel_compatible ? kMaxStackSlots : f == 0 ? 24 : 8;
        slots_ = 1 + static_cast<int>(c_.below(static_cast<uint64_t>(max_slots)));
        // Initialise the stack and a few registers.
        for (int s = 1; s <= slots_; ++s) {
            if (c_.percent(50)) {
                emit(make::store_imm(op::DW, 10, static_cast<int16_t>(-8 * s), interesting_imm()));
            } else {
                const int r = scalar();
                emit(make::store_reg(op::DW, 10, static_cast<int16_t>(-8 * s), r));
            }
        }
        emit(make::mov64_imm(0, interesting_imm()));
        set_scalar(0);
        const int inits = static_cast<int>(c_.below(5));
        for (int i = 0; i < inits; ++i) {
            const int r = pick_dst();
            if (c_.percent(30)) {
                emit_lddw(r, interesting_u64());
            } else {
                emit(make::mov64_imm(r, interesting_imm()));
            }
            set_scalar(r);
        }

        const int budget = f == 0 ? opt_.body_budget : opt_.body_budget / 3;
        block(budget, 0);

        if (f == 0) {
            // Dump r0 and the stack, then exit (the kernel variant returns XDP_PASS).
            if (st_.r[0].kind != Kind::Scalar) emit(make::mov64_imm(0, 0));
            emit(make::store_reg(op::DW, base_, kDumpOffset, 0));
            const int t = base_ == 9 ? 8 : 9;
            for (int s = 1; s <= slots_; ++s) {
                emit(make::load(op::DW, t, 10, static_cast<int16_t>(-8 * s)));
                emit(make::store_reg(op::DW, base_, static_cast<int16_t>(kDumpOffset + 8 * s), t));
            }
            emit(make::ja(0));  // the kernel variant's `r0 = XDP_PASS`
            emit(make::exit());
        } else {
            // Fold the stack into r0 and return.
            if (st_.r[0].kind != Kind::Scalar) emit(make::mov64_imm(0, 0));
            const int t = base_ == 9 ? 8 : 9;
            for (int s = 1; s <= slots_; ++s) {
                emit(make::load(op::DW, t, 10, static_cast<int16_t>(-8 * s)));
                emit(make::alu64_reg(c_.pick({op::ADD, op::XOR}), 0, t));
            }
            // A callback returns 0 (go on) or 1 (stop).
            if (functions_[static_cast<size_t>(f)].callback) emit(make::alu64_imm(op::AND, 0, 1));
            emit(make::exit());
        }
        return code;
    }

    // ---- blocks ----
    void block(int budget, int depth) {
        while (budget > 0 && !c_.exhausted()) {
            const size_t before = out_->size();
            step(depth, budget);
            budget -= std::max<int>(1, static_cast<int>(out_->size() - before));
        }
    }

    void step(int depth, int budget) {
        const bool kernel = opt_.kernel_compatible;
        switch (c_.below(20)) {
            case 0:
            case 1:
            case 2: return alu();
            case 3: return alu();
            case 4: return load_buffer();
            case 5: return store_buffer();
            case 6: return stack_access();
            case 7: return pointer_access();
            case 8: return atomic();
            case 9:
                if (depth < 3 && budget > 4) return branch(depth, budget);
                return alu();
            case 10:
                if (depth < 2 && budget > 6) return loop(depth, budget);
                return alu();
            case 11:
                if (current_ < opt_.max_functions && functions_.size() < 5) return local_call();
                return alu();
            case 12:
                if (!kernel) return helper_call();
                return alu();
            case 13:
                if (!kernel && c_.percent(30)) return legacy_load();
                return special_alu();
            case 14: return bit_test(depth);
            case 15: return division();
            case 16: return special_alu();
            case 17: return conditional_move();
            case 18:
                if (!kernel && c_.percent(20) && current_ < opt_.max_functions &&
                    functions_.size() < 5)
                    return callx();
                return alu();
            default:
                if (c_.percent(40)) return read_modify_write();
                if (!opt_.kernel_compatible && c_.percent(30)) return copy_loop();
                return load_store_mix();
        }
    }

    void alu() {
        const bool is64 = c_.percent(60);
        const uint8_t cls = is64 ? op::ALU64 : op::ALU;
        static constexpr uint8_t kOps[] = {op::ADD, op::SUB, op::MUL, op::DIV, op::OR,  op::AND,
                                           op::LSH, op::RSH, op::MOD, op::XOR, op::MOV, op::ARSH};
        const uint8_t code = kOps[c_.below(sizeof kOps)];
        const int dst = pick_dst();
        const bool dst_ready = st_.r[dst].kind == Kind::Scalar;
        if (!dst_ready && code != op::MOV) {
            emit(make::mov64_imm(dst, interesting_imm()));
            set_scalar(dst);
        }
        const bool shift = code == op::LSH || code == op::RSH || code == op::ARSH;
        const bool division = code == op::DIV || code == op::MOD;
        const int16_t off = division && c_.percent(40) ? 1 : 0;  // sdiv / smod
        if (c_.percent(50)) {
            int32_t imm = interesting_imm();
            if (shift && opt_.kernel_compatible) imm &= is64 ? 63 : 31;
            if (division && opt_.kernel_compatible && imm == 0) imm = 7;
            emit(Insn{static_cast<uint8_t>(cls | op::K | code), static_cast<uint8_t>(dst), 0, off,
                      imm});
        } else {
            const int src = scalar();
            emit(Insn{static_cast<uint8_t>(cls | op::X | code), static_cast<uint8_t>(dst),
                      static_cast<uint8_t>(src), off, 0});
        }
        set_scalar(dst);
    }

    void special_alu() {
        const int dst = pick_dst();
        if (st_.r[dst].kind != Kind::Scalar) {
            emit_lddw(dst, interesting_u64());
            set_scalar(dst);
        }
        switch (c_.below(7)) {
            case 0: {  // movsx
                const bool is64 = c_.percent(50);
                const int16_t off =
                    is64 ? c_.pick<int16_t>({8, 16, 32}) : c_.pick<int16_t>({8, 16});
                emit(Insn{static_cast<uint8_t>((is64 ? op::ALU64 : op::ALU) | op::X | op::MOV),
                          static_cast<uint8_t>(dst), static_cast<uint8_t>(scalar()), off, 0});
                break;
            }
            case 1: {  // byte swaps: le/be (ALU) and bswap (ALU64)
                const int32_t width = c_.pick({16, 32, 64});
                const uint8_t opcode =
                    c_.percent(30) ? static_cast<uint8_t>(op::ALU64 | op::END)
                                   : static_cast<uint8_t>(op::ALU | op::END |
                                                          (c_.percent(50) ? op::TO_BE : op::TO_LE));
                emit(Insn{opcode, static_cast<uint8_t>(dst), 0, 0, width});
                break;
            }
            case 2:
                emit(Insn{static_cast<uint8_t>((c_.percent(50) ? op::ALU64 : op::ALU) | op::NEG),
                          static_cast<uint8_t>(dst), 0, 0, 0});
                break;
            case 3:  // zero-extension idiom
                emit(make::alu64_imm(op::LSH, dst, 32));
                emit(make::alu64_imm(op::RSH, dst, 32));
                break;
            case 4: emit_lddw(dst, interesting_u64()); break;
            case 5: {  // mask then shift by it
                const int count = pick_dst();
                if (count == dst) break;
                emit(make::alu32_reg(op::MOV, count, scalar()));
                emit(make::alu32_imm(op::AND, count, c_.pick({63, 31})));
                set_scalar(count);
                emit(make::alu64_reg(c_.pick({op::LSH, op::RSH, op::ARSH}), dst, count));
                break;
            }
            default:  // 32-bit move of self (explicit zero-extension)
                emit(make::alu32_reg(op::MOV, dst, dst));
                break;
        }
        set_scalar(dst);
    }

    void division() {
        // A divisor register set to a corner value right before the division.
        const int dst = pick_dst();
        int div = pick_dst();
        if (div == dst) div = scalar();
        if (div == dst) return alu();
        if (st_.r[dst].kind != Kind::Scalar) {
            emit_lddw(dst, interesting_u64());
            set_scalar(dst);
        }
        if (writable(div)) {
            switch (c_.below(4)) {
                case 0: emit(make::mov64_imm(div, 0)); break;
                case 1: emit(make::mov64_imm(div, -1)); break;
                case 2: emit(make::mov64_imm(div, static_cast<int32_t>(c_.below(9)))); break;
                default: emit_lddw(div, 0xffffffff00000000ull | c_.below(3)); break;
            }
            set_scalar(div);
        }
        if (st_.r[dst].kind == Kind::Scalar && c_.percent(50)) {
            emit_lddw(dst, c_.pick<uint64_t>(
                               {0x8000000000000000ull, 0x80000000ull, 0xffffffff80000000ull}));
        }
        const uint8_t cls = c_.percent(50) ? op::ALU64 : op::ALU;
        const uint8_t code = c_.percent(50) ? op::DIV : op::MOD;
        emit(Insn{static_cast<uint8_t>(cls | op::X | code), static_cast<uint8_t>(dst),
                  static_cast<uint8_t>(div), static_cast<int16_t>(c_.percent(50) ? 1 : 0), 0});
        set_scalar(dst);
    }

    // ---- memory ----
    static uint8_t size_code(int bytes) {
        return bytes == 1 ? op::B : bytes == 2 ? op::H : bytes == 4 ? op::W : op::DW;
    }
    int access_bytes() { return c_.pick({1, 2, 4, 8}); }

    void load_into(int dst, int base, int16_t off, int bytes) {
        const bool sx = bytes != 8 && c_.percent(25);
        emit(Insn{static_cast<uint8_t>(op::LDX | (sx ? op::MEMSX : op::MEM) | size_code(bytes)),
                  static_cast<uint8_t>(dst), static_cast<uint8_t>(base), off, 0});
        set_scalar(dst);
    }
    void store_from(int base, int16_t off, int bytes) {
        if (c_.percent(40)) {
            emit(Insn{static_cast<uint8_t>(op::ST | op::MEM | size_code(bytes)),
                      static_cast<uint8_t>(base), 0, off, interesting_imm()});
        } else {
            emit(make::store_reg(size_code(bytes), base, off, scalar()));
        }
    }
    // An offset for `bytes` in [lo + off, hi + off + bytes) within [min, max).
    int16_t offset_in(const Reg& p, int bytes, int min, int max, bool aligned = false) {
        const int first = min - p.lo, last = max - bytes - p.hi;  // off range
        int off = first + static_cast<int>(c_.below(static_cast<uint64_t>(last - first + 1)));
        if (aligned) {
            while ((p.lo + off) % bytes != 0 && off > first)
                --off;
            if ((p.lo + off) % bytes != 0) off += bytes - (p.lo + off) % bytes;
        }
        return static_cast<int16_t>(off);
    }

    void load_buffer() {
        const int bytes = access_bytes();
        load_into(pick_dst(), base_, offset_in(st_.r[base_], bytes, 0, kDataBytes), bytes);
    }
    void store_buffer() {
        const int bytes = access_bytes();
        store_from(base_, offset_in(st_.r[base_], bytes, 0, kDataBytes), bytes);
    }
    void stack_access() {
        const int bytes = access_bytes();
        const int16_t off = static_cast<int16_t>(
            -8 * (1 + static_cast<int>(c_.below(static_cast<uint64_t>(slots_)))) +
            static_cast<int>(c_.below(static_cast<uint64_t>(8 / bytes))) * bytes);
        if (c_.percent(50)) {
            load_into(pick_dst(), 10, off, bytes);
        } else {
            store_from(10, off, bytes);
        }
    }
    // A loop copying `count` elements inside the buffer, forwards, with source and destination
    // at any distance (overlapping either way): what the JIT may run as one memmove.
    //   i = start; head: t = i; a = rB; a += t; v = [a + src]; a += dst - src; [a + src] = v;
    //   i += w; if t < start + w * (count - 1) goto head   (or: if i != start + w * count)
    void copy_loop() {
        const int width = c_.pick({1, 2, 4, 8});
        const int count = 1 + static_cast<int>(c_.below(40));
        const int span = width * count;
        if (span > kDataBytes) return alu();
        const int src = static_cast<int>(c_.below(static_cast<uint64_t>(kDataBytes - span + 1)));
        int dst = src;
        switch (c_.below(4)) {
            case 0: dst = src + width * static_cast<int>(c_.below(3)); break;  // overlapping up
            case 1: dst = src - width * static_cast<int>(c_.below(3)); break;  // overlapping down
            case 2: dst = src + static_cast<int>(c_.below(7)) - 3; break;      // misaligned
            default: dst = static_cast<int>(c_.below(static_cast<uint64_t>(kDataBytes - span + 1)));
        }
        if (dst < 0 || dst > kDataBytes - span) dst = src;
        int regs[4], n = 0;
        for (int r = 0; r < 10 && n < 4; ++r) {
            if (writable(r) && c_.percent(70)) regs[n++] = r;
        }
        if (n < 4) return alu();
        const int i = regs[0], t = regs[1], a = regs[2], v = regs[3];
        const int start = static_cast<int>(c_.below(3)) * width;
        const int src_off = src - start, delta = dst - src;
        emit(make::mov64_imm(i, start));
        emit(make::mov64_reg(t, i));
        emit(make::mov64_reg(a, base_));
        emit(make::alu64_reg(op::ADD, a, t));
        emit(make::load(size_code(width), v, a, static_cast<int16_t>(src_off)));
        if (delta != 0) emit(make::alu64_imm(op::ADD, a, delta));
        emit(make::store_reg(size_code(width), a, static_cast<int16_t>(src_off), v));
        emit(make::alu64_imm(op::ADD, i, width));
        const int body = delta != 0 ? 7 : 6;
        if (c_.percent(50)) {
            emit(make::jmp_imm(op::JLT, t, start + width * (count - 1),
                               static_cast<int16_t>(-body - 1)));
        } else {
            emit(make::jmp_imm(op::JNE, i, start + width * count, static_cast<int16_t>(-body - 1)));
        }
        set_scalar(i);
        set_scalar(t);
        set_scalar(v);
        st_.r[a] = Reg{};  // a pointer
    }

    // `a = [m]; b op= a; [m] = b`, then a and b overwritten: the JIT's `op [m], b`.
    void read_modify_write() {
        const int bytes = access_bytes();
        const int16_t off = offset_in(st_.r[base_], bytes, 0, kDataBytes);
        const int a = pick_dst();
        const int b = scalar();
        if (a == b || !writable(b)) return alu();
        emit(Insn{static_cast<uint8_t>(op::LDX | op::MEM | size_code(bytes)),
                  static_cast<uint8_t>(a), static_cast<uint8_t>(base_), off, 0});
        const uint8_t cls = bytes == 8 || c_.percent(50) ? op::ALU64 : op::ALU;
        emit(Insn{static_cast<uint8_t>(cls | op::X | c_.pick({op::ADD, op::OR, op::AND, op::XOR})),
                  static_cast<uint8_t>(b), static_cast<uint8_t>(a), 0, 0});
        emit(make::store_reg(size_code(bytes), base_, off, b));
        emit(make::mov64_imm(a, interesting_imm()));
        emit(make::mov64_imm(b, interesting_imm()));
        set_scalar(a);
        set_scalar(b);
    }

    void load_store_mix() {
        // A value moved from the buffer to the stack and back: loads and stores side by side.
        const int t = pick_dst();
        load_into(t, base_, offset_in(st_.r[base_], 8, 0, kDataBytes), 8);
        const int16_t slot = static_cast<int16_t>(
            -8 * (1 + static_cast<int>(c_.below(static_cast<uint64_t>(slots_)))));
        emit(make::store_reg(op::DW, 10, slot, t));
        emit(make::alu64_imm(op::XOR, t, interesting_imm()));
        emit(make::store_reg(size_code(access_bytes()), base_,
                             offset_in(st_.r[base_], 8, 0, kDataBytes), t));
    }

    // rT = rB + K [+ (rI & 0x7f)], or rT = r10 - K; then accesses through rT: the address
    // arithmetic the JIT folds into x86 addressing.
    void pointer_access() {
        const int t = pick_dst();
        const bool stack = c_.percent(35);
        if (stack) {
            const int k = 8 * (1 + static_cast<int>(c_.below(static_cast<uint64_t>(slots_))));
            emit(make::mov64_reg(t, 10));
            emit(make::alu64_imm(op::ADD, t, -k));
            st_.r[t] = Reg{Kind::Stack, -k, -k};
        } else {
            const int k = static_cast<int>(c_.below(kDataBytes - 8 - 128));
            emit(make::mov64_reg(t, base_));
            if (k != 0 || c_.percent(50)) emit(make::alu64_imm(op::ADD, t, k));
            st_.r[t] = Reg{Kind::Buffer, k, k};
            // (Linux forgets a packet pointer's range once a variable is added: engines only.)
            const int i = pick_scalar();
            if (i >= 0 && i != t && c_.percent(60) && writable(i) && !opt_.kernel_compatible) {
                if (c_.percent(50)) {
                    emit(make::alu64_imm(op::AND, i, 0x7f));
                    emit(make::alu64_reg(op::ADD, t, i));
                } else {
                    // A scaled index: (i & 15) << 3, at most 120.
                    emit(make::alu64_imm(op::AND, i, 0xf));
                    emit(make::alu64_imm(op::LSH, i, 3));
                    emit(make::alu64_reg(op::ADD, t, i));
                }
                st_.r[t].hi += 0x7f;
            }
        }
        // While t holds the pointer, nothing else may claim it (scalar() initialises registers).
        reserved_ |= 1u << t;
        const int accesses = 1 + static_cast<int>(c_.below(3));
        for (int a = 0; a < accesses; ++a) {
            const int bytes = access_bytes();
            const Reg p = st_.r[t];
            if (p.kind != Kind::Buffer && p.kind != Kind::Stack) break;  // overwritten
            const int16_t off = stack ? offset_in(p, bytes, -8 * slots_, 0, true)
                                      : offset_in(p, bytes, 0, kDataBytes);
            if (c_.percent(50)) {
                const int d = c_.percent(25) ? t : pick_dst();
                load_into(d, t, off, bytes);  // may overwrite t itself
                if (d == t) break;
            } else {
                store_from(t, off, bytes);
            }
            if (c_.percent(30)) alu();  // may overwrite the index
        }
        reserved_ &= ~(1u << t);
        if (st_.r[t].kind != Kind::Scalar) st_.r[t] = Reg{};  // pointers never escape
        for (int r = 0; r < 10; ++r) {
            if (r != base_ && st_.r[r].kind != Kind::Scalar) st_.r[r] = Reg{};
        }
    }

    void atomic() {
        const bool kernel = opt_.kernel_compatible;
        const bool is64 = c_.percent(60);
        const int bytes = is64 ? 8 : 4;
        const bool on_stack = kernel || c_.percent(50);
        int base = 10;
        int16_t off;
        if (on_stack) {
            off = static_cast<int16_t>(
                -8 * (1 + static_cast<int>(c_.below(static_cast<uint64_t>(slots_)))) +
                (is64 ? 0 : 4 * static_cast<int>(c_.below(2))));
        } else {
            base = base_;
            off = static_cast<int16_t>(
                bytes * static_cast<int>(c_.below(static_cast<uint64_t>(kDataBytes / bytes))));
        }
        static constexpr int32_t kOps[] = {op::ADD,
                                           op::OR,
                                           op::AND,
                                           op::XOR,
                                           op::ADD | op::FETCH,
                                           op::OR | op::FETCH,
                                           op::AND | op::FETCH,
                                           op::XOR | op::FETCH,
                                           op::XCHG,
                                           op::CMPXCHG};
        const int32_t aop = kOps[c_.below(10)];
        int src = scalar();
        if ((aop & op::FETCH) != 0 && !writable(src)) {
            src = pick_dst();
            emit(make::mov64_imm(src, interesting_imm()));
            set_scalar(src);
        }
        if (aop == op::CMPXCHG && st_.r[0].kind != Kind::Scalar) {
            emit(make::mov64_imm(0, interesting_imm()));
            set_scalar(0);
        }
        emit(Insn{static_cast<uint8_t>(op::STX | op::ATOMIC | (is64 ? op::DW : op::W)),
                  static_cast<uint8_t>(base), static_cast<uint8_t>(src), off, aop});
        if (aop == op::CMPXCHG) set_scalar(0);
    }

    void legacy_load() {
        const int bytes = c_.pick({1, 2, 4});
        const uint8_t size = size_code(bytes);
        // Mostly in bounds; sometimes out, which ends the program with r0 = 0.
        const int32_t limit = c_.percent(97) ? kDataBytes - bytes : kDataBytes + 8;
        if (c_.percent(50)) {
            emit(Insn{static_cast<uint8_t>(op::LD | op::ABS | size), 0, 0, 0,
                      static_cast<int32_t>(c_.below(static_cast<uint64_t>(limit + 1)))});
        } else {
            const int idx = pick_dst();
            emit(make::mov64_imm(
                idx, static_cast<int32_t>(c_.below(static_cast<uint64_t>(limit / 2 + 1)))));
            set_scalar(idx);
            emit(Insn{static_cast<uint8_t>(op::LD | op::IND | size), 0, static_cast<uint8_t>(idx),
                      0, static_cast<int32_t>(c_.below(static_cast<uint64_t>(limit / 2 + 1)))});
        }
        set_scalar(0);
    }

    // ---- control flow ----
    Insn condition(int16_t off) {
        static constexpr uint8_t kConds[] = {op::JEQ, op::JGT,  op::JGE,  op::JSET,
                                             op::JNE, op::JSGT, op::JSGE, op::JLT,
                                             op::JLE, op::JSLT, op::JSLE};
        const uint8_t code = kConds[c_.below(sizeof kConds)];
        const uint8_t cls = c_.percent(40) ? op::JMP32 : op::JMP;
        const int dst = scalar();
        if (c_.percent(50)) {
            return Insn{static_cast<uint8_t>(cls | op::K | code), static_cast<uint8_t>(dst), 0, off,
                        c_.percent(30) ? 0 : interesting_imm()};
        }
        return Insn{static_cast<uint8_t>(cls | op::X | code), static_cast<uint8_t>(dst),
                    static_cast<uint8_t>(scalar()), off, 0};
    }

    // Generates a sub-block into its own vector and returns it (state after it in st_).
    std::vector<Insn> sub_block(int budget, int depth) {
        std::vector<Insn> code;
        std::vector<Insn>* saved = out_;
        out_ = &code;
        const size_t calls_before = functions_[current_].calls.size();
        const size_t addrs_before = functions_[current_].code_addresses.size();
        block(budget, depth);
        out_ = saved;
        // Call sites inside were recorded relative to the sub-block; rebase them when placed.
        pending_calls_.assign(functions_[current_].calls.begin() + static_cast<long>(calls_before),
                              functions_[current_].calls.end());
        functions_[current_].calls.resize(calls_before);
        pending_addrs_.assign(
            functions_[current_].code_addresses.begin() + static_cast<long>(addrs_before),
            functions_[current_].code_addresses.end());
        functions_[current_].code_addresses.resize(addrs_before);
        return code;
    }
    void place(const std::vector<Insn>& code, std::vector<std::pair<size_t, int>> calls,
               std::vector<size_t> addrs) {
        const size_t at = out_->size();
        out_->insert(out_->end(), code.begin(), code.end());
        for (auto& [pc, callee] : calls)
            functions_[current_].calls.emplace_back(at + pc, callee);
        for (size_t pc : addrs)
            functions_[current_].code_addresses.push_back(at + pc);
    }
    static State meet(const State& a, const State& b) {
        State s;
        for (int r = 0; r < 10; ++r) {
            s.r[r] = a.r[r].kind == Kind::Scalar && b.r[r].kind == Kind::Scalar ? a.r[r] : Reg{};
        }
        return s;
    }

    void branch(int depth, int budget) {
        const State before = st_;
        const int then_budget =
            1 + static_cast<int>(c_.below(static_cast<uint64_t>(std::min(budget / 2, 8))));
        if (c_.percent(50)) {
            // if (cond) skip { then }
            Insn jump = condition(0);
            std::vector<Insn> then_code = sub_block(then_budget, depth + 1);
            auto calls = pending_calls_;
            auto addrs = pending_addrs_;
            const State after_then = st_;
            jump.off = static_cast<int16_t>(then_code.size());
            emit(jump);
            place(then_code, calls, addrs);
            st_ = meet(before, after_then);
            st_.r[base_] = before.r[base_];
        } else {
            // if (cond) goto else; then; goto end; else: ...; end:
            Insn jump = condition(0);
            std::vector<Insn> then_code =
                c_.percent(25) ? std::vector<Insn>{} : sub_block(then_budget, depth + 1);
            auto then_calls = then_code.empty() ? decltype(pending_calls_){} : pending_calls_;
            auto then_addrs = then_code.empty() ? decltype(pending_addrs_){} : pending_addrs_;
            const State after_then = st_;
            st_ = before;
            std::vector<Insn> else_code = sub_block(then_budget, depth + 1);
            auto else_calls = pending_calls_;
            auto else_addrs = pending_addrs_;
            const State after_else = st_;
            jump.off = static_cast<int16_t>(then_code.size() + 1);
            emit(jump);
            place(then_code, then_calls, then_addrs);
            if (!opt_.kernel_compatible && c_.percent(20)) {
                emit(Insn{op::JA32_INSN, 0, 0, 0, static_cast<int32_t>(else_code.size())});
            } else {
                emit(make::ja(static_cast<int16_t>(else_code.size())));
            }
            place(else_code, else_calls, else_addrs);
            st_ = meet(after_then, after_else);
            st_.r[base_] = before.r[base_];
        }
    }

    void conditional_move() {
        // `if cond goto +1; dst = value`: what the JIT turns into cmov.
        Insn jump = condition(1);
        const int src = scalar();  // before the jump: it may emit an initialisation
        const State before = st_;
        const int dst = pick_dst();
        emit(jump);
        if (c_.percent(50)) {
            emit(
                Insn{static_cast<uint8_t>((c_.percent(50) ? op::ALU64 : op::ALU) | op::K | op::MOV),
                     static_cast<uint8_t>(dst), 0, 0, interesting_imm()});
        } else {
            emit(
                Insn{static_cast<uint8_t>((c_.percent(50) ? op::ALU64 : op::ALU) | op::X | op::MOV),
                     static_cast<uint8_t>(dst), static_cast<uint8_t>(src), 0, 0});
        }
        st_ = before;
        if (before.r[dst].kind != Kind::Scalar) st_.r[dst] = Reg{};
    }

    void bit_test(int depth) {
        // `x >>= n; x &= 1; if x != 0 goto +1; y = ..; x = ..`: bt in the JIT (x dead after).
        (void)depth;
        const int x = pick_dst();
        if (st_.r[x].kind != Kind::Scalar) {
            emit_lddw(x, interesting_u64());
            set_scalar(x);
        }
        const bool is64 = c_.percent(70);
        if (c_.percent(50)) {
            int32_t imm = static_cast<int32_t>(c_.below(64));
            if (opt_.kernel_compatible) imm &= is64 ? 63 : 31;
            emit(is64 ? make::alu64_imm(op::RSH, x, imm) : make::alu32_imm(op::RSH, x, imm));
        } else {
            const int n = scalar();
            emit(is64 ? make::alu64_reg(op::RSH, x, n) : make::alu32_reg(op::RSH, x, n));
        }
        emit(is64 ? make::alu64_imm(op::AND, x, 1) : make::alu32_imm(op::AND, x, 1));
        emit(Insn{static_cast<uint8_t>((c_.percent(30) ? op::JMP32 : op::JMP) | op::K |
                                       (c_.percent(50) ? op::JNE : op::JEQ)),
                  static_cast<uint8_t>(x), 0, 1, 0});
        int y = pick_dst();
        if (y == x) y = 0;
        if (!writable(y)) y = x;
        emit(make::mov64_imm(y, interesting_imm()));
        emit(make::mov64_imm(x, interesting_imm()));
        if (st_.r[y].kind != Kind::Scalar) st_.r[y] = Reg{};
        set_scalar(x);
    }

    void loop(int depth, int budget) {
        // A counted loop; the counter (a callee-saved register) is off limits inside.
        int counter = -1;
        for (int r : {6, 7, 8, 9}) {
            if (writable(r) && c_.percent(50)) counter = r;
        }
        if (counter < 0) return alu();
        const int trips = 1 + static_cast<int>(c_.below(6));
        emit(make::mov64_imm(counter, trips));
        set_scalar(counter);
        reserved_ |= 1u << counter;
        const State before = st_;
        std::vector<Insn> body = sub_block(std::min(budget / 2, 12), depth + 1);
        auto calls = pending_calls_;
        auto addrs = pending_addrs_;
        // The next iteration reads what the first one did: whatever was a scalar on entry must
        // be one again at the back edge (the body may have used it for a pointer).
        std::vector<Insn>* saved = out_;
        out_ = &body;
        for (int r = 0; r < 10; ++r) {
            if (before.r[r].kind == Kind::Scalar && st_.r[r].kind != Kind::Scalar) {
                emit(make::mov64_imm(r, interesting_imm()));
                set_scalar(r);
            }
        }
        out_ = saved;
        const State after = st_;
        place(body, calls, addrs);
        const bool is32 = c_.percent(30);
        emit(is32 ? make::alu32_imm(op::SUB, counter, 1) : make::alu64_imm(op::SUB, counter, 1));
        emit(Insn{static_cast<uint8_t>((is32 ? op::JMP32 : op::JMP) | op::K | op::JNE),
                  static_cast<uint8_t>(counter), 0,
                  static_cast<int16_t>(-(static_cast<int>(body.size()) + 2)), 0});
        reserved_ &= ~(1u << counter);
        // Registers first written inside the body are written on every path in: the body runs
        // at least once, but it has branches, so only keep what was ready before.
        st_ = meet(before, after);
        st_.r[counter] = Reg{Kind::Scalar};
    }

    void prepare_call_arguments() {
        emit(make::mov64_reg(1, base_));
        st_.r[1] = Reg{Kind::Buffer, 0, 0};
        for (int r = 2; r <= 5; ++r) {
            if (st_.r[r].kind != Kind::Scalar || c_.percent(30)) {
                emit(make::mov64_imm(r, interesting_imm()));
            }
        }
    }
    void after_call() {
        for (int r = 1; r <= 5; ++r)
            st_.r[r] = Reg{};
        set_scalar(0);
    }
    int new_or_later_function(bool callback = false) {
        // A later function (calls only go forward: no recursion, bounded depth). Callbacks are
        // entered differently: each is a new function, called only by its bpf_loop.
        const int depth = functions_[current_].depth + 1;
        if (depth >= kMaxCallDepth - 1) return -1;
        for (size_t f = static_cast<size_t>(current_) + 1; f < functions_.size() && !callback;
             ++f) {
            if (functions_[f].depth >= depth && !functions_[f].callback && c_.percent(50))
                return static_cast<int>(f);
        }
        if (functions_.size() > static_cast<size_t>(opt_.max_functions)) return -1;
        functions_.emplace_back();
        functions_.back().depth = depth;
        functions_.back().callback = callback;
        return static_cast<int>(functions_.size() - 1);
    }
    void local_call() {
        const int callee = new_or_later_function();
        if (callee < 0) return alu();
        prepare_call_arguments();
        functions_[current_].calls.emplace_back(out_->size(), callee);
        emit(make::call_local(0));
        after_call();
    }
    void callx() {
        const int callee = new_or_later_function();
        if (callee < 0) return alu();
        const int target = pick_dst();
        if (target >= 1 && target <= 5) return alu();
        functions_[current_].code_addresses.push_back(out_->size());
        emit_lddw(target, static_cast<uint64_t>(callee), op::kImmCodeAddr);
        prepare_call_arguments();
        emit(Insn{op::CALLX, static_cast<uint8_t>(target), 0, 0, 0});
        after_call();
        if (target > 5) st_.r[target] = Reg{};
    }
    void loop_helper_call() {
        // bpf_loop(n, callback, the buffer, 0): the callback runs in frames of its own.
        const int callee = new_or_later_function(true);
        if (callee < 0) return alu();
        emit(make::mov64_imm(1, static_cast<int32_t>(c_.below(6))));
        functions_[current_].code_addresses.push_back(out_->size());
        emit_lddw(2, static_cast<uint64_t>(callee), op::kImmCodeAddr);
        emit(make::mov64_reg(3, base_));
        emit(make::mov64_imm(4, 0));
        emit(make::call_helper(kLoopHelper));
        after_call();
    }
    void helper_call() {
        if (c_.percent(20) && current_ < opt_.max_functions && functions_.size() < 5)
            return loop_helper_call();
        if (c_.percent(50)) {
            prepare_call_arguments();
            // The mix helper folds r1 into its result: a scalar there, not the buffer's address.
            emit(make::mov64_imm(1, interesting_imm()));
            emit(make::call_helper(kMixHelper));
        } else {
            emit(make::mov64_reg(2, scalar()));  // before r1 changes: the value may be in r1
            emit(make::mov64_reg(1, base_));
            emit(make::alu64_imm(op::ADD, 1, 8 * static_cast<int32_t>(c_.below(kDataBytes / 8))));
            emit(make::call_helper(kStoreHelper));
        }
        after_call();
    }

    Choices& c_;
    GeneratorOptions opt_;
    std::vector<Insn>* out_ = nullptr;
    std::vector<Function> functions_;
    std::vector<std::pair<size_t, int>> pending_calls_;
    std::vector<size_t> pending_addrs_;
    int current_ = 0;
    int base_ = 6;       // the buffer's register in the function being generated
    int main_base_ = 6;  // ... in the main program
    int slots_ = 1;
    uint32_t reserved_ = 0;
    State st_;
};

}  // namespace xbpf::test
