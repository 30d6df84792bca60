// Copy-loop recognition and its run-time half (see copy_loops.hpp).
#include "jit/x86_64/copy_loops.hpp"

#include <cstring>

#include "xbpf/isa.hpp"

namespace xbpf::jit {
namespace {

// Loops with longer bodies are not copy loops worth the analysis.
constexpr size_t kMaxBody = 16;

Affine identity(int r) {
    Affine a;
    a.coef[r] = 1;
    return a;
}

void add(Affine& a, const Affine& b, int64_t sign) {
    for (int r = 0; r < kRegisterCount; ++r)
        a.coef[r] = static_cast<int64_t>(static_cast<uint64_t>(a.coef[r]) +
                                         static_cast<uint64_t>(sign * b.coef[r]));
    a.constant = static_cast<int64_t>(static_cast<uint64_t>(a.constant) +
                                      static_cast<uint64_t>(sign * b.constant));
}

uint64_t evaluate(const Affine& a, const uint64_t* regs) {
    uint64_t v = static_cast<uint64_t>(a.constant);
    for (int r = 0; r < kRegisterCount; ++r)
        v += static_cast<uint64_t>(a.coef[r]) * regs[r];
    return v;
}

}  // namespace

std::optional<CopyLoop> find_copy_loop(std::span<const Insn> program, const ProgramFacts& facts,
                                       size_t head) {
    // The body: from head to the first jump, which must be the conditional jump back to head;
    // nothing else may jump into it.
    size_t end = head;
    while (end < program.size() && end - head <= kMaxBody && !is_jmp_class(program[end].opcode))
        ++end;
    if (end >= program.size() || end - head > kMaxBody) return std::nullopt;
    const Insn& jump = program[end];
    const uint8_t code = jump.opcode & op::kCodeMask;
    if (insn_class(jump.opcode) != op::JMP || (jump.opcode & op::kSourceMask) != op::K ||
        (code != op::JLT && code != op::JLE && code != op::JNE) ||
        branch_target(program, end) != static_cast<int64_t>(head) || end + 1 >= program.size())
        return std::nullopt;
    for (size_t pc = head + 1; pc <= end; ++pc) {
        if ((facts.flags[pc] & (kJumpTarget | kFunctionStart)) != 0) return std::nullopt;
    }

    // One iteration, symbolically: every register as an affine function of the entry values.
    Affine sym[kRegisterCount];
    bool loaded[kRegisterCount] = {};
    bool written[kRegisterCount] = {};
    for (int r = 0; r < kRegisterCount; ++r)
        sym[r] = identity(r);
    CopyLoop loop;
    bool have_load = false, have_store = false;
    for (size_t pc = head; pc < end; ++pc) {
        const Insn& insn = program[pc];
        const bool x = (insn.opcode & op::kSourceMask) == op::X;
        const uint8_t alu = insn.opcode & op::kCodeMask;
        if (insn_class(insn.opcode) == op::ALU64 && insn.off == 0 &&
            (alu == op::MOV || alu == op::ADD || alu == op::SUB)) {
            if (loaded[insn.dst] || (x && loaded[insn.src])) return std::nullopt;
            Affine value;
            if (x) {
                value = sym[insn.src];
            } else {
                value.constant = insn.imm;
            }
            if (alu == op::MOV) {
                sym[insn.dst] = value;
            } else {
                add(sym[insn.dst], value, alu == op::ADD ? 1 : -1);
            }
            written[insn.dst] = true;
        } else if ((insn.opcode & ~op::kSizeMask) == (op::LDX | op::MEM)) {
            if (have_load || loaded[insn.src]) return std::nullopt;
            have_load = true;
            loop.width = static_cast<uint8_t>(access_size(insn.opcode));
            loop.load = sym[insn.src];
            loop.load.constant += insn.off;
            sym[insn.dst] = Affine{};
            loaded[insn.dst] = true;
            written[insn.dst] = true;
        } else if ((insn.opcode & ~op::kSizeMask) == (op::STX | op::MEM)) {
            if (!have_load || have_store || access_size(insn.opcode) != loop.width ||
                !loaded[insn.src] || loaded[insn.dst])
                return std::nullopt;
            have_store = true;
            loop.store = sym[insn.dst];
            loop.store.constant += insn.off;
        } else {
            return std::nullopt;
        }
    }
    if (!have_store || loaded[jump.dst]) return std::nullopt;

    // Registers read at the head (live there) must be induction variables: the same plus a
    // constant each iteration. The others are recomputed before any use.
    int64_t step[kRegisterCount] = {};
    const RegSet live = facts.live_before[head];
    for (int r = 0; r < kRegisterCount; ++r) {
        if ((live & reg_bit(r)) == 0) continue;
        if (loaded[r]) return std::nullopt;
        Affine delta = sym[r];
        add(delta, identity(r), -1);
        for (int q = 0; q < kRegisterCount; ++q) {
            if (delta.coef[q] != 0) return std::nullopt;
        }
        step[r] = delta.constant;
    }
    // How much an expression grows per iteration (expressions only read live registers).
    auto growth = [&](const Affine& a) -> std::optional<int64_t> {
        int64_t g = 0;
        for (int r = 0; r < kRegisterCount; ++r) {
            if (a.coef[r] == 0) continue;
            if ((live & reg_bit(r)) == 0) return std::nullopt;
            g += a.coef[r] * step[r];
        }
        return g;
    };
    if (growth(loop.load) != loop.width || growth(loop.store) != loop.width) return std::nullopt;
    loop.condition = sym[jump.dst];
    const auto condition_step = growth(loop.condition);
    if (!condition_step || *condition_step <= 0) return std::nullopt;
    loop.condition_step = *condition_step;
    loop.condition_code = code;
    loop.limit = static_cast<uint64_t>(static_cast<int64_t>(jump.imm));
    for (int r = 0; r < kFramePointer; ++r) {
        if (!written[r]) continue;
        CopyLoop::Final& f = loop.finals[loop.final_count++];
        f.reg = static_cast<uint8_t>(r);
        f.loaded = loaded[r];
        f.first = sym[r];
        if (!f.loaded) {
            const auto g = growth(sym[r]);
            if (!g) return std::nullopt;
            f.step = *g;
        }
    }
    loop.end = end;
    return loop;
}

uint64_t run_copy_loop(uint64_t* regs, const CopyLoop* loop) {
    // Iterations: the body runs, then continues while the tested value (v0 + k * step after
    // iteration k) passes the test.
    const uint64_t v0 = evaluate(loop->condition, regs);
    const auto step = static_cast<uint64_t>(loop->condition_step);
    uint64_t limit = loop->limit;
    uint64_t n;
    if (loop->condition_code == op::JNE) {
        // Stops at the first k with v0 + k * step == limit; anything else wraps around.
        if (v0 > limit || (limit - v0) % step != 0) return 0;
        n = (limit - v0) / step + 1;
    } else {
        if (loop->condition_code == op::JLE) {
            if (limit == UINT64_MAX) return 0;
            ++limit;
        }
        // Stops at the first k with v0 + k * step >= limit; the values stay below 2^63 + step.
        if (limit > (1ull << 62) || step > (1ull << 32)) return 0;
        n = v0 >= limit ? 1 : (limit - v0 + step - 1) / step + 1;
    }
    if (n < kMinCopyLoopIterations || n > (1ull << 32)) return 0;
    const uint64_t bytes = n * loop->width;
    const uint64_t src = evaluate(loop->load, regs);
    const uint64_t dst = evaluate(loop->store, regs);
    // Equivalent to a forward copy only when no element is overwritten before it is read.
    if (dst > src && dst - src < bytes) return 0;

    uint64_t finals[kRegisterCount];
    for (uint8_t i = 0; i < loop->final_count; ++i) {
        const CopyLoop::Final& f = loop->finals[i];
        finals[i] = evaluate(f.first, regs) + (n - 1) * static_cast<uint64_t>(f.step);
    }
    std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
    for (uint8_t i = 0; i < loop->final_count; ++i) {
        const CopyLoop::Final& f = loop->finals[i];
        if (f.loaded) {
            // The last element read, as the loop's zero-extending load saw it (and stored it).
            uint64_t v = 0;
            std::memcpy(&v, reinterpret_cast<const void*>(dst + bytes - loop->width), loop->width);
            regs[f.reg] = v;
        } else {
            regs[f.reg] = finals[i];
        }
    }
    return 1;
}

}  // namespace xbpf::jit
