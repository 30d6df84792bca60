// The conformance-suite assembly mnemonics (`add32`, `ldxw`, `lock fetch add`, ...) and the
// opcode fields each stands for. One table serves the assembler (name -> fields) and the
// disassembler's conformance syntax (fields -> name), so the two cannot disagree.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "xbpf/insn.hpp"

namespace xbpf::isa {

// How the operands of a mnemonic are written.
enum class Form : uint8_t {
    AluBinary,  // add dst, src|imm      (source bit chosen by the operand)
    AluUnary,   // neg dst
    Endian,     // be16 dst              (imm is the width)
    Load,       // ldxw dst, [src+off]
    StoreImm,   // stw [dst+off], imm
    StoreReg,   // stxw [dst+off], src
    Atomic,     // lock fetch add [dst+off], src   (imm is the operation)
    Lddw,       // lddw dst, imm64
    LoadAbs,    // ldabsw imm
    LoadInd,    // ldindw src, imm
    Ja,         // ja off|label
    Ja32,       // ja32 imm|label
    CondJump,   // jeq dst, src|imm, off|label   (source bit chosen by the operand)
    Call,       // call imm | call local label
    Callx,      // call %reg
    Exit,       // exit
};

struct Mnemonic {
    std::string name;
    Form form;
    uint8_t opcode;  // with the source bit clear for forms where the operand picks it
    int16_t off;     // fixed offset (sdiv/smod: 1, movsx: width), else 0
    int32_t imm;     // fixed immediate (endian width, atomic operation), else 0
};

// Every mnemonic of the syntax, built once.
std::span<const Mnemonic> mnemonics();

// The entry for a mnemonic name, or nullptr. Atomic names include their prefix:
// "lock add", "lock fetch or32", "lock cmpxchg".
const Mnemonic* find_mnemonic(std::string_view name);

// The entry that assembles to this instruction's opcode (and off/imm where they select the
// operation), or nullptr when no mnemonic does.
const Mnemonic* mnemonic_for(const Insn& insn);

}  // namespace xbpf::isa
