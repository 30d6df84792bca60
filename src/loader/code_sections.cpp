#include "loader/code_sections.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "loader/byte_reader.hpp"

namespace xbpf::loader {

namespace {

constexpr uint64_t kSlot = sizeof(Insn);

std::vector<Insn> decode_slots(std::span<const uint8_t> bytes) {
    const ByteReader in(bytes);
    std::vector<Insn> out(bytes.size() / kSlot);
    for (size_t i = 0; i < out.size(); ++i) {
        const uint64_t at = i * kSlot;
        const uint8_t regs = in.u8(at + 1);
        out[i].opcode = in.u8(at);
        out[i].dst = regs & 0xf;
        out[i].src = regs >> 4;
        out[i].off = static_cast<int16_t>(in.u16(at + 2));
        out[i].imm = in.s32(at + 4);
    }
    return out;
}

// Functions from STT_FUNC symbols: aligned, inside the section, not overlapping. A symbol of
// size 0 (hand-written assembly) runs to the next function or the end of the section.
Status split_by_function_symbols(CodeSection& code, const std::vector<const ElfSymbol*>& symbols) {
    const auto slots = static_cast<uint64_t>(code.insns.size());
    std::vector<const ElfSymbol*> funcs;
    for (const ElfSymbol* s : symbols) {
        if (s->type == elf::kSymbolFunc) funcs.push_back(s);
    }
    if (funcs.empty()) return {};
    code.has_function_symbols = true;
    std::stable_sort(funcs.begin(), funcs.end(),
                     [](const ElfSymbol* a, const ElfSymbol* b) { return a->value < b->value; });
    for (size_t i = 0; i < funcs.size(); ++i) {
        const ElfSymbol& f = *funcs[i];
        const auto where = [&] { return fmt::format("function '{}'", f.name); };
        if (f.value % kSlot != 0 || f.size % kSlot != 0) {
            return Error(
                       fmt::format("offset {} or size {} is not a multiple of 8", f.value, f.size))
                .in(where());
        }
        uint64_t start = f.value / kSlot;
        uint64_t count = f.size / kSlot;
        if (start >= slots || count > slots - start) {
            return Error(fmt::format("offset {} and size {} run past the end of the section "
                                     "({} bytes)",
                                     f.value, f.size, code.elf->size))
                .in(where());
        }
        if (count == 0) {
            const uint64_t next = i + 1 < funcs.size() ? funcs[i + 1]->value / kSlot : slots;
            count = std::min(next, slots) - start;
            if (count == 0) continue;  // an alias of the next function
        }
        CodeFunction fn{static_cast<uint32_t>(start), static_cast<uint32_t>(count), f.name,
                        f.bind == elf::kBindGlobal || f.bind == elf::kBindWeak};
        if (!code.functions.empty()) {
            CodeFunction& previous = code.functions.back();
            if (previous.start == fn.start && previous.count == fn.count) {
                // Two names for one function: keep the global one.
                if (!previous.global && fn.global) previous = fn;
                continue;
            }
            if (fn.start < uint64_t{previous.start} + previous.count) {
                return Error(fmt::format("overlaps function '{}'", previous.name)).in(where());
            }
        }
        code.functions.push_back(fn);
    }
    return {};
}

// Old clang marked functions STT_NOTYPE: global symbols start functions, which run to the next
// one. Code before the first (or a section without any) is named after the section.
void split_by_global_symbols(CodeSection& code, const std::vector<const ElfSymbol*>& symbols) {
    const auto slots = static_cast<uint32_t>(code.insns.size());
    std::map<uint32_t, std::string_view> starts;
    for (const ElfSymbol* s : symbols) {
        if (s->type != elf::kSymbolNoType) continue;
        if (s->bind != elf::kBindGlobal && s->bind != elf::kBindWeak) continue;
        if (s->value % kSlot != 0 || s->value / kSlot >= slots) continue;
        starts.emplace(static_cast<uint32_t>(s->value / kSlot), s->name);
    }
    if (starts.empty() || starts.begin()->first != 0) starts.emplace(0, code.elf->name);
    for (auto it = starts.begin(); it != starts.end(); ++it) {
        auto next = std::next(it);
        const uint32_t end = next == starts.end() ? slots : next->first;
        code.functions.push_back({it->first, end - it->first, it->second, false});
    }
}

}  // namespace

CodeFunction CodeSection::code_at(uint32_t slot) const {
    const auto slots = static_cast<uint32_t>(insns.size());
    auto after = std::upper_bound(functions.begin(), functions.end(), slot,
                                  [](uint32_t s, const CodeFunction& f) { return s < f.start; });
    uint32_t end = after == functions.end() ? slots : after->start;
    if (after != functions.begin()) {
        const CodeFunction& f = *std::prev(after);
        if (slot < f.start + f.count) {
            if (f.start == slot) return f;
            end = f.start + f.count;
        }
    }
    return {slot, end - slot, {}, false};
}

std::vector<CodeFunction> CodeSection::entry_points() const {
    std::vector<CodeFunction> out;
    if (has_function_symbols) {
        for (const auto& f : functions) {
            if (f.global) out.push_back(f);
        }
    }
    if (out.empty() && !insns.empty()) {
        out.push_back({0, static_cast<uint32_t>(insns.size()), elf->name, true});
    }
    return out;
}

Result<CodeSections> read_code_sections(const ElfFile& elf) {
    CodeSections out;
    for (const auto& section : elf.sections()) {
        if (section.index == 0 || !section.executable()) continue;
        if (section.type != elf::kSectionProgbits) {
            if (section.size == 0 || section.type == elf::kSectionNobits) continue;
            return Error(fmt::format("executable section has type {}, expected PROGBITS",
                                     section.type))
                .in(section.label());
        }
        if (section.size % kSlot != 0) {
            return Error(fmt::format("size {} is not a multiple of the instruction size (8)",
                                     section.size))
                .in(section.label());
        }
        if (section.size / kSlot > UINT32_MAX) {
            return Error("has too many instructions").in(section.label());
        }
        CodeSection& code = out[section.index];
        code.elf = &section;
        code.insns = decode_slots(section.data);
    }
    // The symbols of each executable section, in one pass over the symbol table.
    std::map<uint32_t, std::vector<const ElfSymbol*>> symbols;
    for (const auto& s : elf.symbols()) {
        if (s.in_section() && out.count(s.section) != 0) symbols[s.section].push_back(&s);
    }
    for (auto& [index, code] : out) {
        const auto& section_symbols = symbols[index];
        if (auto s = split_by_function_symbols(code, section_symbols); !s) {
            return std::move(s).error().in(code.elf->label());
        }
        if (!code.has_function_symbols) split_by_global_symbols(code, section_symbols);
    }
    return out;
}

}  // namespace xbpf::loader
