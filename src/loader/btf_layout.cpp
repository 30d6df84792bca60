#include "loader/btf_layout.hpp"

#include <fmt/format.h>

#include <map>
#include <string_view>
#include <utility>

namespace xbpf::loader {

namespace {

uint32_t alignment_for(uint32_t size) {
    if (size >= 8) return 8;
    if (size >= 4) return 4;
    if (size >= 2) return 2;
    return 1;
}

Status lay_out_kconfig(Btf& btf, const BtfType& datasec) {
    uint64_t offset = 0;
    for (size_t i = 0; i < datasec.variables.size(); ++i) {
        const uint32_t var_id = datasec.variables[i].type;
        const BtfType* var = btf.type(var_id);
        if (var == nullptr || var->kind != BtfKind::Var) {
            return Error(fmt::format("entry {} (type {}) is not a variable", i, var_id));
        }
        auto size = btf.resolve_size(var_id);
        if (!size) return std::move(size).error().in(fmt::format("extern '{}'", var->name));
        const uint32_t align = alignment_for(*size);
        offset = (offset + align - 1) / align * align;
        if (offset + *size > UINT32_MAX) return Error(".kconfig externs are too large");
        btf.set_datasec_variable(datasec.id, i, static_cast<uint32_t>(offset), *size);
        offset += *size;
    }
    btf.set_datasec_size(datasec.id, static_cast<uint32_t>(offset));
    return {};
}

}  // namespace

Status fill_datasec_layouts(const ElfFile& elf, Btf& btf) {
    std::map<std::string_view, const ElfSection*> sections;
    for (const auto& s : elf.sections()) {
        if (s.index != 0) sections.emplace(s.name, &s);
    }
    // Symbols by (section, name): how a DATASEC variable finds its offset.
    std::map<std::pair<uint32_t, std::string_view>, const ElfSymbol*> symbols;
    for (const auto& s : elf.symbols()) {
        if (s.in_section() && s.type != elf::kSymbolSection)
            symbols.emplace(std::make_pair(uint32_t{s.section}, s.name), &s);
    }
    for (uint32_t id = 1; id <= btf.type_count(); ++id) {
        const BtfType& datasec = *btf.type(id);
        if (datasec.kind != BtfKind::Datasec) continue;
        const auto where = [&] { return fmt::format("DATASEC {} (type {})", datasec.name, id); };
        if (datasec.name == ".kconfig") {
            if (auto s = lay_out_kconfig(btf, datasec); !s) return std::move(s).error().in(where());
            continue;
        }
        auto section = sections.find(datasec.name);
        if (section == sections.end()) continue;  // e.g. .ksyms: externs without a section
        if (section->second->size > UINT32_MAX) {
            return Error("section is larger than 4 GiB").in(where());
        }
        btf.set_datasec_size(id, static_cast<uint32_t>(section->second->size));
        for (size_t i = 0; i < datasec.variables.size(); ++i) {
            const BtfSectionVariable& v = datasec.variables[i];
            const BtfType* var = btf.type(v.type);
            if (var == nullptr || var->kind != BtfKind::Var) continue;  // functions (ksyms)
            auto symbol = symbols.find({section->second->index, var->name});
            if (symbol == symbols.end()) continue;  // keep what clang wrote
            const ElfSymbol& s = *symbol->second;
            // clang writes the sizes (a map with `values` is larger than its struct type);
            // the symbol's size and then the type's stand in when it did not.
            uint64_t var_size = v.size != 0 ? v.size : s.size;
            if (var_size == 0) {
                auto size = btf.resolve_size(v.type);
                if (size) var_size = *size;
            }
            if (s.value > section->second->size || var_size > section->second->size - s.value) {
                return Error(fmt::format("variable '{}' at offset {} ({} bytes) lies outside "
                                         "section {} ({} bytes)",
                                         var->name, s.value, var_size, datasec.name,
                                         section->second->size))
                    .in(where());
            }
            btf.set_datasec_variable(id, i, static_cast<uint32_t>(s.value),
                                     static_cast<uint32_t>(var_size));
        }
    }
    return {};
}

}  // namespace xbpf::loader
