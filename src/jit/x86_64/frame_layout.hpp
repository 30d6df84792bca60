// How JIT code uses registers and the native stack. Every JIT program follows the same layout,
// which is what lets a tail call continue in another program's code inside the current frame
// and lets a fault unwind from any depth.
//
// Register mapping (eBPF -> x86-64). r1..r5 sit in the SysV argument registers in order, so a
// helper call needs no argument moves; r6..r9 and r10 sit in callee-saved registers, so they
// survive helper calls for free; r0 is rax, the SysV return register.
//
//   r0 rax   r1 rdi   r2 rsi   r3 rdx   r4 rcx   r5 r8
//   r6 rbx   r7 r13   r8 r14   r9 r15   r10 rbp (frame pointer: top of the 512-byte frame)
//   r12: the run block (below)        r9, r10, r11: scratch (r9 carries the RunContext* to helpers)
//
// Native stack, one frame per eBPF function activation (main program and every bpf-to-bpf call):
//
//   [return address]
//   saved rbp, rbx, r13, r14, r15    <- the caller's r10, r6..r9 (the host's for the main frame)
//   512 bytes of eBPF stack          <- [rbp - 512, rbp)
//   16 bytes of scratch              <- [rsp]: r1 kept for a tail call, [rsp + 8]: r0 kept
//                                       across a tail-call lookup or an atomic read-modify-write
//
// Every frame is kFrameStride bytes and keeps rsp 16-byte aligned, as SysV calls need.
//
// r12 points to the run block (RunBlock below), which the caller of the entry trampoline owns:
// the run's RunContext*, the lowest rsp from which another call may still be made (the depth
// limit, checked with one cmp), and where the trampoline called the first frame, to which a
// fault or an out-of-bounds legacy packet load unwinds. A callback (a helper calling a function
// of the program) enters through the same trampoline with a run block of its own.
#pragma once

#include <cstddef>
#include <cstdint>

#include "jit/x86_64/assembler.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/insn.hpp"

namespace xbpf::jit {

inline constexpr x64::Reg kRegMap[kRegisterCount] = {
    x64::RAX, x64::RDI, x64::RSI, x64::RDX, x64::RCX, x64::R8,
    x64::RBX, x64::R13, x64::R14, x64::R15, x64::RBP,
};
inline constexpr x64::Reg kRunBlock = x64::R12;
inline constexpr x64::Reg kScratch0 = x64::R11;  // the general scratch register
inline constexpr x64::Reg kScratch1 = x64::R10;
inline constexpr x64::Reg kScratch2 = x64::R9;  // also the helper's RunContext& argument

inline constexpr int32_t kSavedRegisterBytes = 5 * 8;
inline constexpr int32_t kScratchBytes = 16;
inline constexpr int32_t kFrameBytes = kStackSize + kScratchBytes;  // below the saved registers
inline constexpr int32_t kFrameStride = 8 + kSavedRegisterBytes + kFrameBytes;
static_assert(kFrameStride % 16 == 0, "frames keep the stack 16-byte aligned");

inline constexpr int32_t kSavedR1Offset = 0;  // from rsp
inline constexpr int32_t kSavedR0Offset = 8;  // from rsp

struct RunBlock {
    RunContext* ctx = nullptr;
    uint64_t stack_limit = 0;  // set by the trampoline: frame_base - limit_distance
    uint64_t frame_base = 0;   // set by the trampoline: rsp just before it calls `target`
    uint64_t target = 0;       // the code the trampoline calls (main entry, or a landing slot)
    // How far below frame_base a frame may still call: frame d (0-based) of this block has
    // rsp = frame_base - kFrameStride * (d + 1).
    uint64_t limit_distance = 0;
    // The helper call in progress, recorded before each call by programs that take function
    // addresses (others record only a null program): the frame's rsp, the program, the pc.
    uint64_t helper_rsp = 0;
    const void* helper_program = nullptr;
    uint32_t helper_pc = 0;
    uint32_t callback_faulted = 0;  // a callback of the current helper faulted: unwind
    int64_t base_depth = 0;         // frames of the run below this block's first (callbacks)
};

inline constexpr int32_t kRunBlockContext = 0;
inline constexpr int32_t kRunBlockStackLimit = 8;
inline constexpr int32_t kRunBlockFrameBase = 16;
inline constexpr int32_t kRunBlockTarget = 24;
inline constexpr int32_t kRunBlockLimitDistance = 32;
inline constexpr int32_t kRunBlockHelperRsp = 40;
inline constexpr int32_t kRunBlockHelperProgram = 48;
inline constexpr int32_t kRunBlockHelperPc = 56;
inline constexpr int32_t kRunBlockCallbackFaulted = 60;
static_assert(offsetof(RunBlock, stack_limit) == kRunBlockStackLimit &&
                  offsetof(RunBlock, frame_base) == kRunBlockFrameBase &&
                  offsetof(RunBlock, target) == kRunBlockTarget &&
                  offsetof(RunBlock, limit_distance) == kRunBlockLimitDistance &&
                  offsetof(RunBlock, helper_rsp) == kRunBlockHelperRsp &&
                  offsetof(RunBlock, helper_program) == kRunBlockHelperProgram &&
                  offsetof(RunBlock, helper_pc) == kRunBlockHelperPc &&
                  offsetof(RunBlock, callback_faulted) == kRunBlockCallbackFaulted,
              "the generated code addresses the run block by these offsets");

// The limit distance of a block whose first frame is at depth `base` of the run: frames down
// to depth kMaxCallDepth - 1 may exist.
inline constexpr uint64_t limit_distance(int64_t base) {
    return static_cast<uint64_t>(kFrameStride) * static_cast<uint64_t>(kMaxCallDepth - 1 - base);
}

// Size of one entry of the callx landing table (a jmp to the function, padded).
inline constexpr int32_t kLandingSlotBytes = 16;

}  // namespace xbpf::jit
