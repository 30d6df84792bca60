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
// The run block lives in the entry trampoline's frame: [r12] = the RunContext*, [r12 + 8] = the
// lowest rsp from which another call may still be made (the depth limit, checked with one cmp).
// A fault or an out-of-bounds legacy packet load unwinds to the main frame through r12.
#pragma once

#include <cstdint>

#include "jit/x86_64/assembler.hpp"
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

inline constexpr int32_t kRunBlockContext = 0;
inline constexpr int32_t kRunBlockStackLimit = 8;
// A call from a frame whose rsp is below this distance under the run block would exceed
// kMaxCallDepth frames: frame d (0-based) has rsp = run block - kFrameStride * (d + 1).
inline constexpr int32_t kStackLimitDistance = kFrameStride * (kMaxCallDepth - 1);

// Size of one entry of the callx landing table (a jmp to the function, padded).
inline constexpr int32_t kLandingSlotBytes = 16;

}  // namespace xbpf::jit
