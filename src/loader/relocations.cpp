#include "loader/relocations.hpp"

#include <fmt/format.h>

#include <map>

#include "xbpf/isa.hpp"

namespace xbpf::loader {

namespace {

constexpr uint64_t kSlot = sizeof(Insn);
// Helper ids are small; this bounds the reverse lookup of helper names.
constexpr int32_t kMaxHelperId = 1024;

// Linux helper id by name ("bpf_map_lookup_elem" -> 1).
std::optional<int32_t> helper_by_name(std::string_view name) {
    static const std::map<std::string_view, int32_t> kHelpers = [] {
        std::map<std::string_view, int32_t> m;
        for (int32_t id = 1; id < kMaxHelperId; ++id) {
            if (auto n = linux_helper_name(id); !n.empty()) m.emplace(n, id);
        }
        return m;
    }();
    auto it = kHelpers.find(name);
    if (it == kHelpers.end()) return std::nullopt;
    return it->second;
}

class SectionRelocator {
  public:
    SectionRelocator(const ElfFile& elf, const ObjectMaps& maps, const CodeSections& all,
                     CodeSection& code)
        : elf_(elf), maps_(maps), all_(all), code_(code) {}

    Status apply(const ElfRelocation& r) {
        const ElfSymbol& symbol = elf_.symbols()[r.symbol];
        if (r.offset % kSlot != 0) {
            return Error(fmt::format("offset {} is not at an instruction boundary", r.offset));
        }
        const auto slot = static_cast<uint32_t>(r.offset / kSlot);
        Insn& insn = code_.insns[slot];
        // LLVM from before EM_BPF wrote map references as relocations of type 0.
        const uint32_t type =
            r.type == elf::kRelocNone && is_lddw(insn) ? elf::kReloc64_64 : r.type;
        switch (type) {
            case elf::kRelocNone:
            case elf::kRelocAbs64:
            case elf::kRelocAbs32:
            case elf::kRelocNoDyld32: return {};  // data relocations: nothing to do in code
            case elf::kReloc64_64:
                if (!is_lddw(insn)) {
                    return Error(fmt::format(
                        "R_BPF_64_64 against '{}' applies to instruction {} (opcode {:#04x}), "
                        "which is not an lddw",
                        symbol.name, slot, insn.opcode));
                }
                if (slot + 1 >= code_.insns.size()) {
                    return Error(
                        fmt::format("the lddw at instruction {} has no second slot", slot));
                }
                return load_address(slot, symbol, r.has_addend ? r.addend : insn.imm);
            case elf::kReloc64_32:
                if (insn.opcode != op::CALL_IMM || insn.src != op::kCallLocal) {
                    return Error(fmt::format(
                        "R_BPF_64_32 against '{}' applies to instruction {} (opcode {:#04x}, src "
                        "{}), which is not a bpf-to-bpf call",
                        symbol.name, slot, insn.opcode, int{insn.src}));
                }
                return call(slot, symbol);
            default: return Error(fmt::format("unsupported relocation type {}", type));
        }
    }

  private:
    // An lddw naming a symbol: a map, a global variable, a `.kconfig` extern or a function.
    Status load_address(uint32_t slot, const ElfSymbol& symbol, int64_t addend) {
        Insn& lo = code_.insns[slot];
        Insn& hi = code_.insns[slot + 1];
        if (lo.src != op::kImm64) {
            return Error(fmt::format("the lddw at instruction {} already has pseudo source {}",
                                     slot, int{lo.src}));
        }
        if (!symbol.in_section()) {
            if (symbol.section == elf::kIndexUndefined) {
                if (const KconfigExtern* k = maps_.find_kconfig(symbol.name)) {
                    return map_value(lo, hi, *maps_.kconfig_map, int64_t{k->offset} + addend);
                }
                return Error(fmt::format(
                    "instruction {} loads the address of extern '{}', which the loader cannot "
                    "resolve (only .kconfig externs are supported)",
                    slot, symbol.name));
            }
            return Error(
                fmt::format("instruction {} loads the address of '{}', which has no "
                            "section (absolute or common symbol)",
                            slot, symbol.name));
        }
        const ElfSection& target = elf_.sections()[symbol.section];
        const int64_t symbol_offset =
            static_cast<int64_t>(symbol.value) + (symbol.type == elf::kSymbolSection ? addend : 0);
        if (auto it =
                maps_.by_location.find({symbol.section, static_cast<uint64_t>(symbol_offset)});
            symbol_offset >= 0 && it != maps_.by_location.end()) {
            lo.src = op::kImmMapByIdx;
            lo.imm = static_cast<int32_t>(it->second);
            hi.imm = 0;
            return {};
        }
        if (auto it = maps_.data_sections.find(symbol.section); it != maps_.data_sections.end()) {
            return map_value(lo, hi, it->second, static_cast<int64_t>(symbol.value) + addend);
        }
        if (target.executable() && all_.count(symbol.section) != 0) {
            const int64_t byte = static_cast<int64_t>(symbol.value) + addend;
            const auto& callee = all_.at(symbol.section);
            if (byte < 0 || byte % static_cast<int64_t>(kSlot) != 0 ||
                static_cast<uint64_t>(byte) / kSlot >= callee.insns.size()) {
                return Error(
                    fmt::format("instruction {} takes the address of byte {} of {}, "
                                "which is not an instruction",
                                slot, byte, target.label()));
            }
            lo.src = op::kImmCodeAddr;
            lo.imm = 0;
            hi.imm = 0;
            code_.relocated_targets[slot] = {symbol.section, static_cast<uint32_t>(byte / kSlot)};
            return {};
        }
        if (is_legacy_map_section(target.name) || target.name == ".maps") {
            return Error(
                fmt::format("instruction {} refers to offset {} of {}, where no map is "
                            "defined",
                            slot, symbol_offset, target.label()));
        }
        return Error(
            fmt::format("instruction {} loads the address of '{}' in {}, which holds "
                        "neither maps, global data nor code",
                        slot, symbol.name, target.label()));
    }

    static Status map_value(Insn& lo, Insn& hi, uint32_t map, int64_t offset) {
        if (offset < 0 || offset > INT32_MAX) {
            return Error(fmt::format("offset {} into map {} is out of range", offset, map));
        }
        lo.src = op::kImmMapValueByIdx;
        lo.imm = static_cast<int32_t>(map);
        hi.imm = static_cast<int32_t>(offset);
        return {};
    }

    // A call naming a symbol: a function of the object, or an extern helper.
    Status call(uint32_t slot, const ElfSymbol& symbol) {
        Insn& insn = code_.insns[slot];
        if (!symbol.in_section()) {
            if (auto id = helper_by_name(symbol.name);
                id && symbol.section == elf::kIndexUndefined) {
                // An extern declared with a helper's name: the helper itself.
                insn.src = op::kCallHelper;
                insn.imm = *id;
                return {};
            }
            return Error(fmt::format(
                "instruction {} calls extern function '{}', which is neither a Linux helper nor "
                "defined in the object (kernel functions, kfuncs, are not available)",
                slot, symbol.name));
        }
        const ElfSection& target = elf_.sections()[symbol.section];
        auto callee = all_.find(symbol.section);
        if (!target.executable() || callee == all_.end()) {
            return Error(fmt::format("instruction {} calls '{}' in {}, which is not code", slot,
                                     symbol.name, target.label()));
        }
        // The callee is at symbol + (imm + 1) slots: imm is -1 for a function symbol, the
        // offset from the section start for a section symbol (static functions).
        const int64_t byte = static_cast<int64_t>(symbol.value);
        const int64_t target_slot = byte / static_cast<int64_t>(kSlot) + int64_t{insn.imm} + 1;
        if (byte % static_cast<int64_t>(kSlot) != 0 || target_slot < 0 ||
            static_cast<uint64_t>(target_slot) >= callee->second.insns.size()) {
            return Error(
                fmt::format("instruction {} calls '{}'{:+}, which is not an "
                            "instruction of {}",
                            slot, symbol.name, int64_t{insn.imm} + 1, target.label()));
        }
        code_.relocated_targets[slot] = {symbol.section, static_cast<uint32_t>(target_slot)};
        return {};
    }

    const ElfFile& elf_;
    const ObjectMaps& maps_;
    const CodeSections& all_;
    CodeSection& code_;
};

}  // namespace

Status apply_relocations(const ElfFile& elf, const ObjectMaps& maps, CodeSections& code) {
    for (auto& [index, section] : code) {
        // Only relocations may give an lddw a pseudo source: one already in the object (a
        // crafted one) would name an arbitrary map or address.
        for (size_t slot = 0; slot < section.insns.size(); ++slot) {
            const Insn& insn = section.insns[slot];
            if (is_lddw(insn)) {
                if (insn.src != op::kImm64) {
                    return Error(fmt::format("the lddw at instruction {} has pseudo source {} "
                                             "in the object; only relocations may set it",
                                             slot, int{insn.src}))
                        .in(section.elf->label());
                }
                ++slot;
            }
        }
        auto relocations = elf.relocations_for(*section.elf, kSlot);
        if (!relocations) return std::move(relocations).error();
        std::map<uint32_t, uint32_t> seen;  // slot -> relocation index
        SectionRelocator relocator(elf, maps, code, section);
        for (const auto& r : *relocations) {
            const auto where = [&] {
                return std::make_pair(elf.sections()[r.section].label(),
                                      fmt::format("relocation {}", r.index));
            };
            const bool legacy_map_reference = r.type == elf::kRelocNone && r.offset % kSlot == 0 &&
                                              is_lddw(section.insns[r.offset / kSlot]);
            if (r.type == elf::kReloc64_64 || r.type == elf::kReloc64_32 || legacy_map_reference) {
                if (auto [it, fresh] =
                        seen.emplace(static_cast<uint32_t>(r.offset / kSlot), r.index);
                    !fresh) {
                    auto [section_label, reloc] = where();
                    return Error(fmt::format("instruction {} is relocated twice (relocation {} "
                                             "too)",
                                             it->first, it->second))
                        .in(reloc)
                        .in(section_label);
                }
            }
            if (auto s = relocator.apply(r); !s) {
                auto [section_label, reloc] = where();
                return std::move(s).error().in(reloc).in(section_label);
            }
        }
    }
    return {};
}

}  // namespace xbpf::loader
