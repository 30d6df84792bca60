// Assembler for the conformance suite's syntax (see include/xbpf/isa.hpp).
#include <cctype>
#include <charconv>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "isa/mnemonics.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

using isa::Form;
using isa::Mnemonic;

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

bool is_identifier(std::string_view s) {
    if (s.empty() ||
        !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_' || s[0] == '.')) {
        return false;
    }
    for (char c : s) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
    }
    return true;
}

// One source line after the first pass.
struct Line {
    int number;  // 1-based source line
    size_t pc;   // slot index of the instruction
    const Mnemonic* mnemonic;
    std::string text;  // mnemonic as written, for messages
    std::vector<std::string_view> operands;
};

class Assembler {
  public:
    Result<std::vector<Insn>> run(std::string_view source) {
        if (auto s = first_pass(source); !s) return std::move(s).error();
        std::vector<Insn> out;
        for (const auto& line : lines_) {
            if (auto s = emit(line, out); !s)
                return std::move(s).error().in(fmt::format("line {}", line.number));
        }
        return out;
    }

  private:
    std::vector<Line> lines_;
    std::map<std::string, std::pair<size_t, int>, std::less<>> labels_;  // name -> (pc, line)

    Status first_pass(std::string_view source) {
        size_t pc = 0;
        int number = 0;
        while (!source.empty()) {
            ++number;
            const size_t eol = source.find('\n');
            std::string_view text = source.substr(0, eol);
            source = eol == std::string_view::npos ? std::string_view{} : source.substr(eol + 1);
            if (const size_t hash = text.find('#'); hash != std::string_view::npos)
                text = text.substr(0, hash);
            text = trim(text);
            // Labels, possibly followed by an instruction on the same line.
            while (true) {
                const size_t colon = text.find(':');
                if (colon == std::string_view::npos) break;
                const std::string_view name = trim(text.substr(0, colon));
                if (!is_identifier(name)) break;
                auto [it, fresh] = labels_.try_emplace(std::string(name), pc, number);
                if (!fresh) {
                    return Error(fmt::format("label '{}' is already defined on line {}", name,
                                             it->second.second))
                        .in(fmt::format("line {}", number));
                }
                text = trim(text.substr(colon + 1));
            }
            if (text.empty()) continue;
            auto parsed = parse_line(text, number, pc);
            if (!parsed) return std::move(parsed).error().in(fmt::format("line {}", number));
            pc += parsed->mnemonic->form == Form::Lddw ? 2 : 1;
            lines_.push_back(std::move(*parsed));
        }
        return {};
    }

    static Result<Line> parse_line(std::string_view text, int number, size_t pc) {
        // The mnemonic is the first word, or "lock [fetch] op" for atomics.
        size_t end = 0;
        auto next_word = [&text, &end]() {
            while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end])))
                ++end;
            const size_t start = end;
            while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])))
                ++end;
            return text.substr(start, end - start);
        };
        std::string name(next_word());
        if (name == "lock") {
            std::string_view word = next_word();
            name += ' ';
            name += word;
            if (word == "fetch") {
                name += ' ';
                name += next_word();
            }
        }
        const Mnemonic* m = isa::find_mnemonic(name);
        if (m == nullptr || m->name == "callx")
            return Error(fmt::format("unknown mnemonic '{}'", name));
        Line line{number, pc, m, name, {}};
        std::string_view rest = trim(text.substr(end));
        while (!rest.empty()) {
            const size_t comma = rest.find(',');
            line.operands.push_back(trim(rest.substr(0, comma)));
            if (line.operands.back().empty())
                return Error(fmt::format("empty operand in '{}'", text));
            if (comma == std::string_view::npos) break;
            rest = trim(rest.substr(comma + 1));
            if (rest.empty()) return Error(fmt::format("operand missing after ',' in '{}'", text));
        }
        return line;
    }

    // ---- operand parsers ----

    static std::optional<int> parse_register(std::string_view s) {
        if (s.starts_with('%')) s.remove_prefix(1);
        if (!s.starts_with('r') || s.size() < 2) return std::nullopt;
        int reg = 0;
        auto [p, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), reg);
        if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
        return reg;
    }

    static bool looks_like_register(std::string_view s) {
        return s.starts_with("%r") || s.starts_with("%");
    }

    Result<uint8_t> reg(std::string_view s) const {
        auto r = parse_register(s);
        if (!r) return Error(fmt::format("expected a register such as %r1, got '{}'", s));
        if (*r < 0 || *r >= kRegisterCount)
            return Error(fmt::format("bad register '{}': registers are %r0 to %r10", s));
        return static_cast<uint8_t>(*r);
    }

    // Integer literal: optional sign, decimal or 0x hex, as a 64-bit two's complement value.
    static std::optional<int64_t> parse_integer(std::string_view s) {
        bool negative = false;
        if (s.starts_with('+') || s.starts_with('-')) {
            negative = s[0] == '-';
            s.remove_prefix(1);
        }
        int base = 10;
        if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            base = 16;
            s.remove_prefix(2);
        }
        if (s.empty()) return std::nullopt;
        uint64_t magnitude = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
        if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
        if (negative && magnitude > (uint64_t{1} << 63)) return std::nullopt;
        const uint64_t value = negative ? ~magnitude + 1 : magnitude;
        return static_cast<int64_t>(value);
    }

    static Result<int64_t> integer(std::string_view s) {
        auto v = parse_integer(s);
        if (!v) return Error(fmt::format("'{}' is not a number (decimal or 0x hex)", s));
        return *v;
    }

    // A 32-bit immediate: accepts signed and unsigned spellings ("-1" and "0xffffffff").
    static Result<int32_t> imm32(std::string_view s) {
        const bool negative = s.starts_with('-');
        auto v = integer(s);
        if (!v) return std::move(v).error();
        const int64_t x = *v;
        if (negative ? x < INT32_MIN : (x < 0 || x > int64_t{UINT32_MAX})) {
            return Error(fmt::format("immediate {} does not fit in 32 bits", s));
        }
        return static_cast<int32_t>(static_cast<uint32_t>(x));
    }

    static Result<int16_t> off16(int64_t v, std::string_view what) {
        if (v < INT16_MIN || v > INT16_MAX)
            return Error(fmt::format("{} {} does not fit in 16 bits", what, v));
        return static_cast<int16_t>(v);
    }

    struct MemOperand {
        uint8_t reg;
        int16_t off;
    };
    Result<MemOperand> mem(std::string_view s) const {
        if (!s.starts_with('[') || !s.ends_with(']')) {
            return Error(fmt::format("expected a memory operand such as [%r1+8], got '{}'", s));
        }
        s = trim(s.substr(1, s.size() - 2));
        const size_t sign = s.find_first_of("+-");
        auto r = reg(trim(s.substr(0, sign)));
        if (!r) return std::move(r).error();
        int16_t off = 0;
        if (sign != std::string_view::npos) {
            std::string digits;
            digits += s[sign];
            for (char c : s.substr(sign + 1)) {
                if (!std::isspace(static_cast<unsigned char>(c))) digits += c;
            }
            auto v = integer(digits);
            if (!v) return std::move(v).error();
            auto o = off16(*v, "memory offset");
            if (!o) return std::move(o).error();
            off = *o;
        }
        return MemOperand{*r, off};
    }

    // A jump or call target: a label, or a relative offset (+N, -N, N) in slots.
    Result<int64_t> target(std::string_view s, size_t pc) const {
        if (auto v = parse_integer(s)) return *v;
        if (!is_identifier(s))
            return Error(fmt::format("expected a label or an offset such as +3, got '{}'", s));
        auto it = labels_.find(s);
        if (it == labels_.end() && s == "exit") {
            // The suite's convention: without a label of that name, `exit` as a target is the
            // program's first exit instruction.
            for (const auto& line : lines_) {
                if (line.mnemonic->form == Form::Exit) {
                    return static_cast<int64_t>(line.pc) - static_cast<int64_t>(pc) - 1;
                }
            }
            return Error("jump to 'exit', but the program has no exit instruction");
        }
        if (it == labels_.end()) return Error(fmt::format("undefined label '{}'", s));
        return static_cast<int64_t>(it->second.first) - static_cast<int64_t>(pc) - 1;
    }

    Status arity(const Line& line, size_t n) const {
        if (line.operands.size() == n) return {};
        return Error(fmt::format("'{}' takes {} operand{}, got {}", line.text, n, n == 1 ? "" : "s",
                                 line.operands.size()));
    }

    // ---- second pass ----

    // lddw with a pseudo source, an extension of the syntax so that loader output round-trips:
    // map_fd:FD, map_value_fd:FD:OFF, map_idx:IDX, map_value_idx:IDX:OFF, var:BTF_ID, func:TARGET.
    Status emit_pseudo_lddw(const Line& line, uint8_t dst, std::vector<Insn>& out) const {
        std::vector<std::string_view> parts;
        std::string_view rest = line.operands[1];
        while (true) {
            const size_t colon = rest.find(':');
            parts.push_back(trim(rest.substr(0, colon)));
            if (colon == std::string_view::npos) break;
            rest = rest.substr(colon + 1);
        }
        struct Kind {
            std::string_view name;
            uint8_t pseudo;
            size_t args;
        };
        static constexpr Kind kKinds[] = {
            {"map_fd", op::kImmMapByFd, 1},   {"map_value_fd", op::kImmMapValueByFd, 2},
            {"map_idx", op::kImmMapByIdx, 1}, {"map_value_idx", op::kImmMapValueByIdx, 2},
            {"var", op::kImmVarAddr, 1},      {"func", op::kImmCodeAddr, 1}};
        for (const auto& k : kKinds) {
            if (parts[0] != k.name) continue;
            if (parts.size() != k.args + 1) {
                return Error(fmt::format("'{}' takes {} value{} after ':'", k.name, k.args,
                                         k.args == 1 ? "" : "s"));
            }
            int64_t first = 0;
            if (k.pseudo == op::kImmCodeAddr) {
                auto t = target(parts[1], line.pc);
                if (!t) return std::move(t).error();
                first = *t;
            } else {
                auto v = imm32(parts[1]);
                if (!v) return std::move(v).error();
                first = *v;
            }
            int32_t second = 0;
            if (k.args == 2) {
                auto v = imm32(parts[2]);
                if (!v) return std::move(v).error();
                second = *v;
            }
            out.push_back(Insn{op::LDDW, dst, k.pseudo, 0, static_cast<int32_t>(first)});
            out.push_back(Insn{0, 0, 0, 0, second});
            return {};
        }
        return Error(fmt::format(
            "unknown lddw source '{}' (map_fd, map_value_fd, map_idx, map_value_idx, var, func)",
            parts[0]));
    }

    Status emit(const Line& line, std::vector<Insn>& out) const {
        const Mnemonic& m = *line.mnemonic;
        Insn insn{m.opcode, 0, 0, m.off, m.imm};
        const auto& ops = line.operands;
#define XBPF_TRY(var, expr) \
    auto var = (expr);      \
    if (!var) return std::move(var).error()

        switch (m.form) {
            case Form::AluBinary: {
                if (auto s = arity(line, 2); !s) return s;
                XBPF_TRY(dst, reg(ops[0]));
                insn.dst = *dst;
                if (looks_like_register(ops[1])) {
                    XBPF_TRY(src, reg(ops[1]));
                    insn.opcode |= op::X;
                    insn.src = *src;
                } else {
                    XBPF_TRY(imm, imm32(ops[1]));
                    insn.imm = *imm;
                }
                break;
            }
            case Form::AluUnary:
            case Form::Endian: {
                if (auto s = arity(line, 1); !s) return s;
                XBPF_TRY(dst, reg(ops[0]));
                insn.dst = *dst;
                break;
            }
            case Form::Load: {
                if (auto s = arity(line, 2); !s) return s;
                XBPF_TRY(dst, reg(ops[0]));
                XBPF_TRY(src, mem(ops[1]));
                insn.dst = *dst;
                insn.src = src->reg;
                insn.off = src->off;
                break;
            }
            case Form::StoreImm:
            case Form::StoreReg:
            case Form::Atomic: {
                if (auto s = arity(line, 2); !s) return s;
                XBPF_TRY(dst, mem(ops[0]));
                insn.dst = dst->reg;
                insn.off = dst->off;
                if (m.form == Form::StoreImm) {
                    XBPF_TRY(imm, imm32(ops[1]));
                    insn.imm = *imm;
                } else {
                    XBPF_TRY(src, reg(ops[1]));
                    insn.src = *src;
                }
                break;
            }
            case Form::Lddw: {
                if (auto s = arity(line, 2); !s) return s;
                XBPF_TRY(dst, reg(ops[0]));
                if (ops[1].find(':') != std::string_view::npos)
                    return emit_pseudo_lddw(line, *dst, out);
                XBPF_TRY(value, integer(ops[1]));
                make::lddw(out, *dst, static_cast<uint64_t>(*value));
                return {};
            }
            case Form::LoadAbs: {
                if (auto s = arity(line, 1); !s) return s;
                XBPF_TRY(imm, imm32(ops[0]));
                insn.imm = *imm;
                break;
            }
            case Form::LoadInd: {
                if (auto s = arity(line, 2); !s) return s;
                XBPF_TRY(src, reg(ops[0]));
                XBPF_TRY(imm, imm32(ops[1]));
                insn.src = *src;
                insn.imm = *imm;
                break;
            }
            case Form::Ja: {
                if (auto s = arity(line, 1); !s) return s;
                XBPF_TRY(t, target(ops[0], line.pc));
                XBPF_TRY(off, off16(*t, "jump offset"));
                insn.off = *off;
                break;
            }
            case Form::Ja32: {
                if (auto s = arity(line, 1); !s) return s;
                XBPF_TRY(t, target(ops[0], line.pc));
                if (*t < INT32_MIN || *t > INT32_MAX)
                    return Error(fmt::format("jump offset {} does not fit in 32 bits", *t));
                insn.imm = static_cast<int32_t>(*t);
                break;
            }
            case Form::CondJump: {
                if (auto s = arity(line, 3); !s) return s;
                XBPF_TRY(dst, reg(ops[0]));
                insn.dst = *dst;
                if (looks_like_register(ops[1])) {
                    XBPF_TRY(src, reg(ops[1]));
                    insn.opcode |= op::X;
                    insn.src = *src;
                } else {
                    XBPF_TRY(imm, imm32(ops[1]));
                    insn.imm = *imm;
                }
                XBPF_TRY(t, target(ops[2], line.pc));
                XBPF_TRY(off, off16(*t, "jump offset"));
                insn.off = *off;
                break;
            }
            case Form::Call: {
                if (auto s = arity(line, 1); !s) return s;
                std::string_view arg = ops[0];
                if (arg.starts_with("local ") || arg.starts_with("local\t")) {
                    XBPF_TRY(t, target(trim(arg.substr(6)), line.pc));
                    if (*t < INT32_MIN || *t > INT32_MAX)
                        return Error("call offset does not fit in 32 bits");
                    insn.src = op::kCallLocal;
                    insn.imm = static_cast<int32_t>(*t);
                } else if (looks_like_register(arg)) {
                    XBPF_TRY(r, reg(arg));
                    insn.opcode = op::CALLX;
                    insn.dst = *r;
                } else {
                    XBPF_TRY(imm, imm32(arg));
                    insn.imm = *imm;
                }
                break;
            }
            case Form::Callx:
            case Form::Exit:
                if (auto s = arity(line, 0); !s) return s;
                break;
        }
#undef XBPF_TRY
        out.push_back(insn);
        return {};
    }
};

}  // namespace

Result<std::vector<Insn>> assemble(std::string_view text) {
    return Assembler{}.run(text);
}

}  // namespace xbpf
