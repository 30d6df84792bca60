// Disassembler: kernel/LLVM style (as bpftool and llvm-objdump print) and conformance syntax.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "isa/mnemonics.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

using isa::Form;

// Does this instruction name a branch target (jump, local call, function address)?
bool has_target(const Insn& insn) {
    const uint8_t cls = insn_class(insn.opcode);
    const uint8_t code = insn.opcode & op::kCodeMask;
    if (cls == op::JMP || cls == op::JMP32) {
        if (code == op::EXIT) return false;
        if (code == op::CALL) return insn.opcode == op::CALL_IMM && insn.src == op::kCallLocal;
        return true;
    }
    return is_lddw(insn) && insn.src == op::kImmCodeAddr;
}

const char* size_name(uint8_t opcode, bool sign) {
    switch (opcode & op::kSizeMask) {
        case op::B: return sign ? "s8" : "u8";
        case op::H: return sign ? "s16" : "u16";
        case op::W: return sign ? "s32" : "u32";
        default: return sign ? "s64" : "u64";
    }
}

std::string signed_offset(int16_t off) {
    return off < 0 ? fmt::format(" - {}", -static_cast<int>(off)) : fmt::format(" + {}", off);
}

std::string relative(int64_t off) {
    return off < 0 ? fmt::format("{}", off) : fmt::format("+{}", off);
}

class Printer {
  public:
    Printer(std::span<const Insn> program, const DisasmOptions& options)
        : program_(program), options_(options) {
        if (options.labels) {
            for (const auto& [pc, n] : branch_labels(program))
                labels_.emplace(pc, n);
        }
    }

    std::string insn(size_t pc) const {
        const Insn& insn = program_[pc];
        return options_.syntax == Syntax::Kernel ? kernel(pc, insn) : conformance(pc, insn);
    }

    const std::map<size_t, int>& labels() const { return labels_; }

  private:
    std::span<const Insn> program_;
    const DisasmOptions& options_;
    std::map<size_t, int> labels_;

    // The label of a branch target, when it has one.
    std::string label_of(size_t pc) const {
        int64_t target = branch_target(program_, pc);
        if (target < 0) return {};
        auto it = labels_.find(static_cast<size_t>(target));
        return it == labels_.end() ? std::string{} : fmt::format("L{}", it->second);
    }

    // Kernel style: "+3 <L2>".
    std::string kernel_target(size_t pc, int64_t off) const {
        std::string label = label_of(pc);
        return label.empty() ? relative(off) : fmt::format("{} <{}>", relative(off), label);
    }

    // Conformance style: the label name when there is one (it assembles back), else "+3".
    std::string conformance_target(size_t pc, int64_t off) const {
        std::string label = label_of(pc);
        return label.empty() ? relative(off) : label;
    }

    std::string helper(int32_t id) const {
        if (options_.helper_name) {
            std::string name = options_.helper_name(id);
            if (!name.empty()) return fmt::format("{}#{}", name, id);
        }
        std::string_view name = linux_helper_name(id);
        return name.empty() ? fmt::format("#{}", id) : fmt::format("{}#{}", name, id);
    }

    static std::string invalid(const Insn& insn) {
        return fmt::format("<invalid: opcode {:#04x} dst {} src {} off {} imm {}>", insn.opcode,
                           insn.dst, insn.src, insn.off, insn.imm);
    }

    std::string lddw_pseudo(size_t pc, const Insn& insn) const {
        const int32_t next = pc + 1 < program_.size() ? program_[pc + 1].imm : 0;
        if (options_.map_name && insn.src != op::kImmCodeAddr && insn.src != op::kImmVarAddr) {
            std::string name = options_.map_name(insn);
            if (!name.empty()) {
                const bool value =
                    insn.src == op::kImmMapValueByFd || insn.src == op::kImmMapValueByIdx;
                return value ? fmt::format("{}[0]+{}", name, next) : name;
            }
        }
        switch (insn.src) {
            case op::kImmMapByFd: return fmt::format("map[fd:{}]", insn.imm);
            case op::kImmMapValueByFd: return fmt::format("map[fd:{}][0]+{}", insn.imm, next);
            case op::kImmMapByIdx: return fmt::format("map[idx:{}]", insn.imm);
            case op::kImmMapValueByIdx: return fmt::format("map[idx:{}][0]+{}", insn.imm, next);
            case op::kImmVarAddr: return fmt::format("btf_var[{}]", insn.imm);
            case op::kImmCodeAddr: return fmt::format("func[{}]", kernel_target(pc, insn.imm));
            default: return invalid(insn);
        }
    }

    std::string kernel(size_t pc, const Insn& insn) const {
        if (!validate_insn(program_, pc)) {
            // An lddw missing its second slot is still shown for what it is.
            if (!is_lddw(insn)) return invalid(insn);
        }
        const uint8_t cls = insn_class(insn.opcode);
        const uint8_t code = insn.opcode & op::kCodeMask;
        const bool reg = (insn.opcode & op::kSourceMask) == op::X;
        switch (cls) {
            case op::ALU:
            case op::ALU64: {
                const char r = cls == op::ALU64 ? 'r' : 'w';
                const std::string src =
                    reg ? fmt::format("{}{}", r, insn.src) : fmt::format("{}", insn.imm);
                if (code == op::NEG) return fmt::format("{0}{1} = -{0}{1}", r, insn.dst);
                if (code == op::END) {
                    const char* kind = cls == op::ALU64 ? "bswap" : (reg ? "be" : "le");
                    return fmt::format("r{0} = {1}{2} r{0}", insn.dst, kind, insn.imm);
                }
                if (code == op::MOV && insn.off != 0) {
                    return fmt::format("{0}{1} = (s{2}){0}{3}", r, insn.dst, insn.off, insn.src);
                }
                static const std::map<uint8_t, const char*> kOps = {
                    {op::ADD, "+="}, {op::SUB, "-="}, {op::MUL, "*="},  {op::DIV, "/="},
                    {op::OR, "|="},  {op::AND, "&="}, {op::LSH, "<<="}, {op::RSH, ">>="},
                    {op::MOD, "%="}, {op::XOR, "^="}, {op::MOV, "="},   {op::ARSH, "s>>="}};
                const char* sign = (code == op::DIV || code == op::MOD) && insn.off == 1 ? "s" : "";
                return fmt::format("{}{} {}{} {}", r, insn.dst, sign, kOps.at(code), src);
            }
            case op::LDX: {
                const bool sx = (insn.opcode & op::kModeMask) == op::MEMSX;
                return fmt::format("r{} = *({} *)(r{}{})", insn.dst, size_name(insn.opcode, sx),
                                   insn.src, signed_offset(insn.off));
            }
            case op::ST:
                return fmt::format("*({} *)(r{}{}) = {}", size_name(insn.opcode, false), insn.dst,
                                   signed_offset(insn.off), insn.imm);
            case op::STX: {
                const std::string addr = fmt::format("r{}{}", insn.dst, signed_offset(insn.off));
                const char* size = size_name(insn.opcode, false);
                if ((insn.opcode & op::kModeMask) == op::MEM) {
                    return fmt::format("*({} *)({}) = r{}", size, addr, insn.src);
                }
                const bool is64 = (insn.opcode & op::kSizeMask) == op::DW;
                const char r = is64 ? 'r' : 'w';
                if (insn.imm == op::XCHG) {
                    return fmt::format("{0}{1} = xchg{2}_{3}({4}, {0}{1})", r, insn.src,
                                       is64 ? "" : "32", is64 ? 64 : 32, addr);
                }
                if (insn.imm == op::CMPXCHG) {
                    return fmt::format("{0}0 = cmpxchg{1}_{2}({3}, {0}0, {0}{4})", r,
                                       is64 ? "" : "32", is64 ? 64 : 32, addr, insn.src);
                }
                static const std::map<int32_t, std::pair<const char*, const char*>> kAtomic = {
                    {op::ADD, {"+=", "add"}},
                    {op::OR, {"|=", "or"}},
                    {op::AND, {"&=", "and"}},
                    {op::XOR, {"^=", "xor"}}};
                const auto& [assign, name] = kAtomic.at(insn.imm & ~op::FETCH);
                if (insn.imm & op::FETCH) {
                    return fmt::format("{0}{1} = atomic_fetch_{2}(({3} *)({4}), {0}{1})", r,
                                       insn.src, name, size, addr);
                }
                return fmt::format("lock *({} *)({}) {} {}{}", size, addr, assign, r, insn.src);
            }
            case op::LD: {
                if (is_lddw(insn)) {
                    if (pc + 1 >= program_.size())
                        return fmt::format("r{} = <truncated lddw>", insn.dst);
                    if (insn.src != op::kImm64)
                        return fmt::format("r{} = {}", insn.dst, lddw_pseudo(pc, insn));
                    return fmt::format("r{} = {:#x} ll", insn.dst,
                                       lddw_imm(insn, program_[pc + 1]));
                }
                const char* size = size_name(insn.opcode, false);
                if ((insn.opcode & op::kModeMask) == op::ABS)
                    return fmt::format("r0 = *({} *)skb[{}]", size, insn.imm);
                return fmt::format("r0 = *({} *)skb[r{} + {}]", size, insn.src, insn.imm);
            }
            default: break;  // jumps
        }
        const bool is32 = cls == op::JMP32;
        switch (code) {
            case op::JA:
                return is32 ? fmt::format("gotol {}", kernel_target(pc, insn.imm))
                            : fmt::format("goto {}", kernel_target(pc, insn.off));
            case op::EXIT: return "exit";
            case op::CALL:
                if (reg) return fmt::format("callx r{}", insn.dst);
                if (insn.src == op::kCallLocal)
                    return fmt::format("call pc{}", kernel_target(pc, insn.imm));
                if (insn.src == op::kCallHelperBtf) return fmt::format("call kfunc#{}", insn.imm);
                return fmt::format("call {}", helper(insn.imm));
            default: break;
        }
        static const std::map<uint8_t, const char*> kCmp = {
            {op::JEQ, "=="}, {op::JGT, ">"},   {op::JGE, ">="},   {op::JSET, "&"},
            {op::JNE, "!="}, {op::JSGT, "s>"}, {op::JSGE, "s>="}, {op::JLT, "<"},
            {op::JLE, "<="}, {op::JSLT, "s<"}, {op::JSLE, "s<="}};
        const char r = is32 ? 'w' : 'r';
        const std::string src =
            reg ? fmt::format("{}{}", r, insn.src) : fmt::format("{}", insn.imm);
        return fmt::format("if {}{} {} {} goto {}", r, insn.dst, kCmp.at(code), src,
                           kernel_target(pc, insn.off));
    }

    std::string conformance(size_t pc, const Insn& insn) const {
        const isa::Mnemonic* m = isa::mnemonic_for(insn);
        if (m == nullptr || !validate_insn(program_, pc)) return invalid(insn);
        const std::string mem_dst = fmt::format("[%r{}{:+}]", insn.dst, insn.off);
        const auto operand = [&insn]() {
            return (insn.opcode & op::kSourceMask) == op::X ? fmt::format("%r{}", insn.src)
                                                            : fmt::format("{}", insn.imm);
        };
        switch (m->form) {
            case Form::AluBinary: return fmt::format("{} %r{}, {}", m->name, insn.dst, operand());
            case Form::AluUnary:
            case Form::Endian: return fmt::format("{} %r{}", m->name, insn.dst);
            case Form::Load:
                return fmt::format("{} %r{}, [%r{}{:+}]", m->name, insn.dst, insn.src, insn.off);
            case Form::StoreImm: return fmt::format("{} {}, {}", m->name, mem_dst, insn.imm);
            case Form::StoreReg:
            case Form::Atomic: return fmt::format("{} {}, %r{}", m->name, mem_dst, insn.src);
            case Form::Lddw: {
                const Insn& hi = program_[pc + 1];
                switch (insn.src) {
                    case op::kImm64:
                        return fmt::format("lddw %r{}, {:#x}", insn.dst, lddw_imm(insn, hi));
                    case op::kImmMapByFd:
                        return fmt::format("lddw %r{}, map_fd:{}", insn.dst, insn.imm);
                    case op::kImmMapValueByFd:
                        return fmt::format("lddw %r{}, map_value_fd:{}:{}", insn.dst, insn.imm,
                                           hi.imm);
                    case op::kImmMapByIdx:
                        return fmt::format("lddw %r{}, map_idx:{}", insn.dst, insn.imm);
                    case op::kImmMapValueByIdx:
                        return fmt::format("lddw %r{}, map_value_idx:{}:{}", insn.dst, insn.imm,
                                           hi.imm);
                    case op::kImmVarAddr:
                        return fmt::format("lddw %r{}, var:{}", insn.dst, insn.imm);
                    default:
                        return fmt::format("lddw %r{}, func:{}", insn.dst,
                                           conformance_target(pc, insn.imm));
                }
            }
            case Form::LoadAbs: return fmt::format("{} {}", m->name, insn.imm);
            case Form::LoadInd: return fmt::format("{} %r{}, {}", m->name, insn.src, insn.imm);
            case Form::Ja: return fmt::format("ja {}", conformance_target(pc, insn.off));
            case Form::Ja32: return fmt::format("ja32 {}", conformance_target(pc, insn.imm));
            case Form::CondJump:
                return fmt::format("{} %r{}, {}, {}", m->name, insn.dst, operand(),
                                   conformance_target(pc, insn.off));
            case Form::Call:
                if (insn.src == op::kCallLocal)
                    return fmt::format("call local {}", conformance_target(pc, insn.imm));
                return fmt::format("call {}", insn.imm);
            case Form::Callx: return fmt::format("call %r{}", insn.dst);
            case Form::Exit: return "exit";
        }
        return invalid(insn);
    }
};

}  // namespace

std::vector<std::pair<size_t, int>> branch_labels(std::span<const Insn> program) {
    std::vector<size_t> targets;
    for (size_t pc = 0; pc < program.size(); ++pc) {
        const Insn& insn = program[pc];
        if (has_target(insn)) {
            const int64_t t = branch_target(program, pc);
            if (t >= 0 && t < static_cast<int64_t>(program.size()))
                targets.push_back(static_cast<size_t>(t));
        }
        if (is_lddw(insn)) ++pc;
    }
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    std::vector<std::pair<size_t, int>> out;
    for (size_t i = 0; i < targets.size(); ++i)
        out.emplace_back(targets[i], static_cast<int>(i));
    return out;
}

std::string disassemble_insn(std::span<const Insn> program, size_t pc,
                             const DisasmOptions& options) {
    DisasmOptions plain = options;
    plain.labels = false;
    return Printer(program, plain).insn(pc);
}

std::string disassemble(std::span<const Insn> program, const DisasmOptions& options) {
    Printer printer(program, options);
    std::string out;
    for (size_t pc = 0; pc < program.size(); ++pc) {
        if (auto it = printer.labels().find(pc); it != printer.labels().end()) {
            out += fmt::format("L{}:\n", it->second);
        }
        if (options.annotations) {
            for (const auto& line : options.annotations(pc)) {
                out += line;
                out += '\n';
            }
        }
        if (options.indices) {
            out += fmt::format("{:5}: ", pc);
        } else if (options.syntax == Syntax::Kernel) {
            out += '\t';
        }
        out += printer.insn(pc);
        out += '\n';
        if (is_lddw(program[pc])) ++pc;
    }
    return out;
}

}  // namespace xbpf
