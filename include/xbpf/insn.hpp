// The eBPF instruction as RFC 9669 defines it, with the opcode fields spelled out.
//
// This is the one instruction model every part of xbpf shares: the loader produces it, the
// verifier reads it, the engines execute it, the assembler and disassembler convert it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace xbpf {

// One 64-bit instruction slot, laid out exactly as Linux's `struct bpf_insn` (little endian):
// opcode byte, then destination register in the low nibble and source register in the high
// nibble, a signed 16-bit offset and a signed 32-bit immediate. A 64-bit immediate load (lddw)
// occupies two slots; the second slot's imm holds the upper 32 bits.
struct Insn {
    uint8_t opcode = 0;
    uint8_t dst : 4 = 0;
    uint8_t src : 4 = 0;
    int16_t off = 0;
    int32_t imm = 0;

    friend bool operator==(const Insn&, const Insn&) = default;
};
static_assert(sizeof(Insn) == 8, "an instruction is one 64-bit slot");

// Number of general purpose registers, r0..r10 (r10 is the read-only frame pointer).
inline constexpr int kRegisterCount = 11;
inline constexpr int kFramePointer = 10;
// Bytes of stack each frame gets, and how deep bpf-to-bpf calls may nest (as Linux).
inline constexpr int kStackSize = 512;
inline constexpr int kMaxCallDepth = 8;

// Opcode fields (RFC 9669 section 3). Names follow the RFC without the BPF_ prefix.
namespace op {

// Instruction classes: the low three bits of the opcode.
inline constexpr uint8_t kClassMask = 0x07;
inline constexpr uint8_t LD = 0x00;
inline constexpr uint8_t LDX = 0x01;
inline constexpr uint8_t ST = 0x02;
inline constexpr uint8_t STX = 0x03;
inline constexpr uint8_t ALU = 0x04;
inline constexpr uint8_t JMP = 0x05;
inline constexpr uint8_t JMP32 = 0x06;
inline constexpr uint8_t ALU64 = 0x07;

// Arithmetic and jump instructions: source bit and operation (high four bits).
inline constexpr uint8_t kSourceMask = 0x08;
inline constexpr uint8_t K = 0x00;  // operand is the immediate
inline constexpr uint8_t X = 0x08;  // operand is the source register
inline constexpr uint8_t kCodeMask = 0xf0;

inline constexpr uint8_t ADD = 0x00;
inline constexpr uint8_t SUB = 0x10;
inline constexpr uint8_t MUL = 0x20;
inline constexpr uint8_t DIV = 0x30;  // off = 1: signed (SDIV)
inline constexpr uint8_t OR = 0x40;
inline constexpr uint8_t AND = 0x50;
inline constexpr uint8_t LSH = 0x60;
inline constexpr uint8_t RSH = 0x70;
inline constexpr uint8_t NEG = 0x80;
inline constexpr uint8_t MOD = 0x90;  // off = 1: signed (SMOD)
inline constexpr uint8_t XOR = 0xa0;
inline constexpr uint8_t MOV = 0xb0;  // off = 8/16/32: sign-extending move (MOVSX)
inline constexpr uint8_t ARSH = 0xc0;
inline constexpr uint8_t END = 0xd0;  // byte swap; imm = 16, 32 or 64

// END with class ALU: source bit selects the byte order; with class ALU64: unconditional swap.
inline constexpr uint8_t TO_LE = 0x00;
inline constexpr uint8_t TO_BE = 0x08;

inline constexpr uint8_t JA = 0x00;  // class JMP: off is the target; class JMP32: imm is
inline constexpr uint8_t JEQ = 0x10;
inline constexpr uint8_t JGT = 0x20;
inline constexpr uint8_t JGE = 0x30;
inline constexpr uint8_t JSET = 0x40;
inline constexpr uint8_t JNE = 0x50;
inline constexpr uint8_t JSGT = 0x60;
inline constexpr uint8_t JSGE = 0x70;
inline constexpr uint8_t CALL = 0x80;
inline constexpr uint8_t EXIT = 0x90;
inline constexpr uint8_t JLT = 0xa0;
inline constexpr uint8_t JLE = 0xb0;
inline constexpr uint8_t JSLT = 0xc0;
inline constexpr uint8_t JSLE = 0xd0;

// Load and store instructions: size (bits 3-4) and mode (bits 5-7).
inline constexpr uint8_t kSizeMask = 0x18;
inline constexpr uint8_t W = 0x00;
inline constexpr uint8_t H = 0x08;
inline constexpr uint8_t B = 0x10;
inline constexpr uint8_t DW = 0x18;

inline constexpr uint8_t kModeMask = 0xe0;
inline constexpr uint8_t IMM = 0x00;     // with LD | DW: the 64-bit immediate load
inline constexpr uint8_t ABS = 0x20;     // legacy packet access
inline constexpr uint8_t IND = 0x40;     // legacy packet access
inline constexpr uint8_t MEM = 0x60;     // regular load and store
inline constexpr uint8_t MEMSX = 0x80;   // sign-extending load
inline constexpr uint8_t ATOMIC = 0xc0;  // atomic read-modify-write; imm selects the operation

// Atomic operations (imm of an ATOMIC store). FETCH returns the old value in src.
inline constexpr int32_t FETCH = 0x01;
inline constexpr int32_t XCHG = 0xe0 | FETCH;
inline constexpr int32_t CMPXCHG = 0xf0 | FETCH;

// src field of CALL: how imm names the callee.
inline constexpr uint8_t kCallHelper = 0;     // imm is a helper id
inline constexpr uint8_t kCallLocal = 1;      // imm is the offset of a function in the program
inline constexpr uint8_t kCallHelperBtf = 2;  // imm is the BTF id of a kernel function (kfunc)

// src field of the 64-bit immediate load (RFC 9669 section 5.4).
inline constexpr uint8_t kImm64 = 0;             // plain 64-bit value
inline constexpr uint8_t kImmMapByFd = 1;        // imm: map file descriptor -> map
inline constexpr uint8_t kImmMapValueByFd = 2;   // imm: map fd, next imm: offset -> value address
inline constexpr uint8_t kImmVarAddr = 3;        // imm: BTF variable id -> its address
inline constexpr uint8_t kImmCodeAddr = 4;       // imm: instruction offset -> function address
inline constexpr uint8_t kImmMapByIdx = 5;       // imm: map index -> map
inline constexpr uint8_t kImmMapValueByIdx = 6;  // imm: map index, next imm: offset -> address

// Frequently used whole opcodes.
inline constexpr uint8_t LDDW = LD | IMM | DW;        // 0x18
inline constexpr uint8_t CALL_IMM = JMP | K | CALL;   // 0x85
inline constexpr uint8_t CALLX = JMP | X | CALL;      // 0x8d
inline constexpr uint8_t EXIT_INSN = JMP | K | EXIT;  // 0x95
inline constexpr uint8_t JA_INSN = JMP | K | JA;      // 0x05
inline constexpr uint8_t JA32_INSN = JMP32 | K | JA;  // 0x06

}  // namespace op

inline constexpr uint8_t insn_class(uint8_t opcode) {
    return opcode & op::kClassMask;
}
inline constexpr bool is_alu_class(uint8_t opcode) {
    return insn_class(opcode) == op::ALU || insn_class(opcode) == op::ALU64;
}
inline constexpr bool is_jmp_class(uint8_t opcode) {
    return insn_class(opcode) == op::JMP || insn_class(opcode) == op::JMP32;
}
inline constexpr bool is_lddw(const Insn& insn) {
    return insn.opcode == op::LDDW;
}
// Whether a control transfer keeps its relative target in imm (gotol, local calls, lddw of a
// function's address) rather than in off (every other jump).
inline constexpr bool target_in_imm(uint8_t opcode) {
    return opcode == op::JA32_INSN || opcode == op::CALL_IMM || opcode == op::LDDW;
}

// Size in bytes of a load or store opcode's access.
inline constexpr int access_size(uint8_t opcode) {
    switch (opcode & op::kSizeMask) {
        case op::B: return 1;
        case op::H: return 2;
        case op::W: return 4;
        default: return 8;
    }
}

// The 64-bit immediate of an lddw pair.
inline constexpr uint64_t lddw_imm(const Insn& lo, const Insn& hi) {
    return static_cast<uint32_t>(lo.imm) |
           (static_cast<uint64_t>(static_cast<uint32_t>(hi.imm)) << 32);
}

// Convenience constructors for building programs in code (tests, embedders, generators).
namespace make {
inline constexpr Insn alu64_imm(uint8_t code, int dst, int32_t imm) {
    return Insn{static_cast<uint8_t>(op::ALU64 | op::K | code), static_cast<uint8_t>(dst), 0, 0,
                imm};
}
inline constexpr Insn alu64_reg(uint8_t code, int dst, int src) {
    return Insn{static_cast<uint8_t>(op::ALU64 | op::X | code), static_cast<uint8_t>(dst),
                static_cast<uint8_t>(src), 0, 0};
}
inline constexpr Insn alu32_imm(uint8_t code, int dst, int32_t imm) {
    return Insn{static_cast<uint8_t>(op::ALU | op::K | code), static_cast<uint8_t>(dst), 0, 0, imm};
}
inline constexpr Insn alu32_reg(uint8_t code, int dst, int src) {
    return Insn{static_cast<uint8_t>(op::ALU | op::X | code), static_cast<uint8_t>(dst),
                static_cast<uint8_t>(src), 0, 0};
}
inline constexpr Insn mov64_imm(int dst, int32_t imm) {
    return alu64_imm(op::MOV, dst, imm);
}
inline constexpr Insn mov64_reg(int dst, int src) {
    return alu64_reg(op::MOV, dst, src);
}
inline constexpr Insn load(uint8_t size, int dst, int src, int16_t off) {
    return Insn{static_cast<uint8_t>(op::LDX | op::MEM | size), static_cast<uint8_t>(dst),
                static_cast<uint8_t>(src), off, 0};
}
inline constexpr Insn store_reg(uint8_t size, int dst, int16_t off, int src) {
    return Insn{static_cast<uint8_t>(op::STX | op::MEM | size), static_cast<uint8_t>(dst),
                static_cast<uint8_t>(src), off, 0};
}
inline constexpr Insn store_imm(uint8_t size, int dst, int16_t off, int32_t imm) {
    return Insn{static_cast<uint8_t>(op::ST | op::MEM | size), static_cast<uint8_t>(dst), 0, off,
                imm};
}
inline constexpr Insn jmp_imm(uint8_t code, int dst, int32_t imm, int16_t off) {
    return Insn{static_cast<uint8_t>(op::JMP | op::K | code), static_cast<uint8_t>(dst), 0, off,
                imm};
}
inline constexpr Insn jmp_reg(uint8_t code, int dst, int src, int16_t off) {
    return Insn{static_cast<uint8_t>(op::JMP | op::X | code), static_cast<uint8_t>(dst),
                static_cast<uint8_t>(src), off, 0};
}
inline constexpr Insn ja(int16_t off) {
    return Insn{op::JA_INSN, 0, 0, off, 0};
}
inline constexpr Insn call_helper(int32_t id) {
    return Insn{op::CALL_IMM, 0, op::kCallHelper, 0, id};
}
inline constexpr Insn call_local(int32_t rel) {
    return Insn{op::CALL_IMM, 0, op::kCallLocal, 0, rel};
}
inline constexpr Insn exit() {
    return Insn{op::EXIT_INSN, 0, 0, 0, 0};
}
// Both slots of a 64-bit immediate load; `pseudo` is one of the op::kImm* sources.
inline void lddw(std::vector<Insn>& out, int dst, uint64_t value, uint8_t pseudo = op::kImm64) {
    out.push_back(Insn{op::LDDW, static_cast<uint8_t>(dst), pseudo, 0,
                       static_cast<int32_t>(static_cast<uint32_t>(value))});
    out.push_back(Insn{0, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(value >> 32))});
}
}  // namespace make

}  // namespace xbpf
