#include "isa/mnemonics.hpp"

#include <unordered_map>
#include <vector>

namespace xbpf::isa {
namespace {

struct Tables {
    std::vector<Mnemonic> all;
    std::unordered_map<std::string_view, size_t> by_name;
};

void add(std::vector<Mnemonic>& v, std::string name, Form form, uint8_t opcode, int16_t off = 0,
         int32_t imm = 0) {
    v.push_back(Mnemonic{std::move(name), form, opcode, off, imm});
}

std::vector<Mnemonic> build() {
    std::vector<Mnemonic> v;
    struct Named {
        const char* name;
        uint8_t code;
    };

    // Arithmetic, in 64-bit (no suffix) and 32-bit ("32") flavours.
    static constexpr Named kAlu[] = {{"add", op::ADD}, {"sub", op::SUB}, {"mul", op::MUL},
                                     {"div", op::DIV}, {"or", op::OR},   {"and", op::AND},
                                     {"lsh", op::LSH}, {"rsh", op::RSH}, {"mod", op::MOD},
                                     {"xor", op::XOR}, {"mov", op::MOV}, {"arsh", op::ARSH}};
    for (const auto& [suffix, cls] : {std::pair{"", op::ALU64}, std::pair{"32", op::ALU}}) {
        for (const auto& a : kAlu) {
            add(v, std::string(a.name) + suffix, Form::AluBinary, cls | a.code);
        }
        add(v, std::string("neg") + suffix, Form::AluUnary, cls | op::NEG);
        add(v, std::string("sdiv") + suffix, Form::AluBinary, cls | op::DIV, 1);
        add(v, std::string("smod") + suffix, Form::AluBinary, cls | op::MOD, 1);
    }
    // Sign-extending moves: movsx<from><to>, e.g. movsx832 moves a sign-extended byte into w.
    for (int from : {8, 16, 32}) {
        add(v, "movsx" + std::to_string(from) + "64", Form::AluBinary, op::ALU64 | op::MOV,
            static_cast<int16_t>(from));
        if (from != 32) {
            add(v, "movsx" + std::to_string(from) + "32", Form::AluBinary, op::ALU | op::MOV,
                static_cast<int16_t>(from));
        }
    }
    for (int width : {16, 32, 64}) {
        const auto w = std::to_string(width);
        add(v, "le" + w, Form::Endian, op::ALU | op::END | op::TO_LE, 0, width);
        add(v, "be" + w, Form::Endian, op::ALU | op::END | op::TO_BE, 0, width);
        add(v, "bswap" + w, Form::Endian, op::ALU64 | op::END, 0, width);
        // "swap16" is the older spelling of the unconditional swap; the disassembler prints
        // "bswap16" because that entry comes first.
        add(v, "swap" + w, Form::Endian, op::ALU64 | op::END, 0, width);
    }

    static constexpr Named kSizes[] = {{"b", op::B}, {"h", op::H}, {"w", op::W}, {"dw", op::DW}};
    for (const auto& s : kSizes) {
        add(v, std::string("ldx") + s.name, Form::Load, op::LDX | op::MEM | s.code);
        if (s.code != op::DW) {
            add(v, std::string("ldxs") + s.name, Form::Load, op::LDX | op::MEMSX | s.code);
            add(v, std::string("ldabs") + s.name, Form::LoadAbs, op::LD | op::ABS | s.code);
            add(v, std::string("ldind") + s.name, Form::LoadInd, op::LD | op::IND | s.code);
        }
        add(v, std::string("st") + s.name, Form::StoreImm, op::ST | op::MEM | s.code);
        add(v, std::string("stx") + s.name, Form::StoreReg, op::STX | op::MEM | s.code);
    }
    add(v, "lddw", Form::Lddw, op::LDDW);

    // Atomics: 64-bit without suffix, 32-bit with "32".
    static constexpr Named kAtomic[] = {
        {"add", op::ADD}, {"or", op::OR}, {"and", op::AND}, {"xor", op::XOR}};
    for (const auto& [suffix, size] : {std::pair{"", op::DW}, std::pair{"32", op::W}}) {
        const uint8_t opcode = op::STX | op::ATOMIC | size;
        for (const auto& a : kAtomic) {
            add(v, std::string("lock ") + a.name + suffix, Form::Atomic, opcode, 0, a.code);
            add(v, std::string("lock fetch ") + a.name + suffix, Form::Atomic, opcode, 0,
                a.code | op::FETCH);
        }
        add(v, std::string("lock xchg") + suffix, Form::Atomic, opcode, 0, op::XCHG);
        add(v, std::string("lock cmpxchg") + suffix, Form::Atomic, opcode, 0, op::CMPXCHG);
    }

    add(v, "ja", Form::Ja, op::JA_INSN);
    add(v, "ja32", Form::Ja32, op::JA32_INSN);
    static constexpr Named kJumps[] = {{"jeq", op::JEQ},   {"jgt", op::JGT},  {"jge", op::JGE},
                                       {"jset", op::JSET}, {"jne", op::JNE},  {"jsgt", op::JSGT},
                                       {"jsge", op::JSGE}, {"jlt", op::JLT},  {"jle", op::JLE},
                                       {"jslt", op::JSLT}, {"jsle", op::JSLE}};
    for (const auto& j : kJumps) {
        add(v, j.name, Form::CondJump, op::JMP | j.code);
        add(v, std::string(j.name) + "32", Form::CondJump, op::JMP32 | j.code);
    }
    add(v, "call", Form::Call, op::CALL_IMM);
    add(v, "callx", Form::Callx, op::CALLX);
    add(v, "exit", Form::Exit, op::EXIT_INSN);
    return v;
}

const Tables& tables() {
    static const Tables t = [] {
        Tables t;
        t.all = build();
        for (size_t i = 0; i < t.all.size(); ++i)
            t.by_name.emplace(t.all[i].name, i);
        return t;
    }();
    return t;
}

// Whether the operand (register or immediate) selects the source bit for this form.
bool source_bit_free(Form form) {
    return form == Form::AluBinary || form == Form::CondJump;
}

}  // namespace

std::span<const Mnemonic> mnemonics() {
    return tables().all;
}

const Mnemonic* find_mnemonic(std::string_view name) {
    const auto& t = tables();
    auto it = t.by_name.find(name);
    return it == t.by_name.end() ? nullptr : &t.all[it->second];
}

const Mnemonic* mnemonic_for(const Insn& insn) {
    for (const auto& m : tables().all) {
        uint8_t opcode = insn.opcode;
        if (source_bit_free(m.form)) opcode &= static_cast<uint8_t>(~op::kSourceMask);
        if (opcode != m.opcode) continue;
        switch (m.form) {
            case Form::AluBinary:
                // sdiv/smod/movsx are told apart from div/mod/mov by the offset.
                if (insn.off != m.off) continue;
                break;
            case Form::Endian:
            case Form::Atomic:
                if (insn.imm != m.imm) continue;
                break;
            default: break;
        }
        return &m;
    }
    return nullptr;
}

}  // namespace xbpf::isa
