#include "loader/map_definitions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <memory>

#include "loader/byte_reader.hpp"

namespace xbpf::loader {

namespace {

// ---- Legacy `maps` sections ------------------------------------------------------------------
//
// Each map is a record of u32 fields: type, key_size, value_size, max_entries, map_flags
// (`struct bpf_map_def`, 20 bytes), often followed by loader-specific fields. The 28-byte
// records of the corpus are either samples/bpf's (inner_map_idx, numa_node) or iproute2's
// `struct bpf_elf_map` (id, pinning); records of 36 bytes and more are iproute2's (id, pinning,
// inner_id, inner_idx).

constexpr uint64_t kMinLegacyRecord = 20;
constexpr uint64_t kSamplesRecord = 28;

bool is_map_in_map(MapType type) {
    return type == MapType::ArrayOfMaps || type == MapType::HashOfMaps;
}

struct LegacySymbol {
    const ElfSymbol* symbol;
    uint32_t section;
};

Status read_legacy_section(const ElfSection& section, std::vector<const ElfSymbol*> symbols,
                           ObjectMaps& out,
                           std::vector<std::pair<size_t, uint32_t>>& inner_indices) {
    const std::string where = section.label();
    if (section.type != elf::kSectionProgbits) {
        return Error(fmt::format("legacy map section has type {}, expected PROGBITS", section.type))
            .in(where);
    }
    if (symbols.empty()) {
        if (section.size == 0) return {};
        return Error(fmt::format("{} bytes of map definitions but no map symbols", section.size))
            .in(where);
    }
    if (section.size % symbols.size() != 0) {
        return Error(fmt::format("size {} is not a multiple of its {} map symbols", section.size,
                                 symbols.size()))
            .in(where);
    }
    const uint64_t record = section.size / symbols.size();
    if (record < kMinLegacyRecord) {
        return Error(fmt::format("map records of {} bytes are shorter than struct bpf_map_def "
                                 "({} bytes)",
                                 record, kMinLegacyRecord))
            .in(where);
    }
    std::sort(symbols.begin(), symbols.end(),
              [](const ElfSymbol* a, const ElfSymbol* b) { return a->value < b->value; });
    const ByteReader data(section.data);
    for (const ElfSymbol* symbol : symbols) {
        const auto map_where = [&] { return fmt::format("map '{}'", symbol->name); };
        if (symbol->value % record != 0 || !data.has(symbol->value, record)) {
            return Error(fmt::format("symbol offset {} is not the start of a {}-byte record",
                                     symbol->value, record))
                .in(map_where())
                .in(where);
        }
        if (out.by_location.count({section.index, symbol->value}) != 0) {
            return Error("two map symbols name the same record").in(map_where()).in(where);
        }
        const uint64_t at = symbol->value;
        MapSpec spec;
        spec.name = std::string(symbol->name);
        spec.origin = MapOrigin::Legacy;
        spec.type = static_cast<MapType>(data.u32(at));
        spec.key_size = data.u32(at + 4);
        spec.value_size = data.u32(at + 8);
        spec.max_entries = data.u32(at + 12);
        spec.flags = data.u32(at + 16);
        if (record >= kSamplesRecord) {
            const uint32_t fifth = data.u32(at + 20);
            const uint32_t sixth = data.u32(at + 24);
            const bool iproute2 = record > kSamplesRecord;
            if (!iproute2 && is_map_in_map(spec.type)) {
                inner_indices.emplace_back(out.maps.size(), fifth);  // inner_map_idx
            }
            if (!iproute2 && (spec.flags & map_flags::kNumaNode) != 0) {
                spec.numa_node = sixth;
            } else {
                spec.legacy_pinning = sixth;
            }
        }
        out.by_location[{section.index, symbol->value}] = static_cast<uint32_t>(out.maps.size());
        out.maps.push_back(std::move(spec));
    }
    return {};
}

Status read_legacy_maps(const ElfFile& elf, ObjectMaps& out) {
    std::vector<std::pair<size_t, uint32_t>> inner_indices;  // outer map -> inner_map_idx
    // The map symbols of each legacy map section, gathered in one pass over the symbols.
    std::map<uint32_t, std::vector<const ElfSymbol*>> symbols;
    for (const auto& section : elf.sections()) {
        if (section.index != 0 && !section.executable() && is_legacy_map_section(section.name)) {
            symbols[section.index];
        }
    }
    for (const auto& s : elf.symbols()) {
        if (!s.in_section() || s.type == elf::kSymbolSection || s.type == elf::kSymbolFile) {
            continue;
        }
        if (auto it = symbols.find(s.section); it != symbols.end()) it->second.push_back(&s);
    }
    for (auto& [index, section_symbols] : symbols) {
        const ElfSection& section = elf.sections()[index];
        if (auto s = read_legacy_section(section, std::move(section_symbols), out, inner_indices);
            !s) {
            return s;
        }
    }
    for (const auto& [outer, inner] : inner_indices) {
        if (inner >= out.maps.size() || inner == outer) {
            return Error(fmt::format("inner map index {} does not name another legacy map ({} "
                                     "maps)",
                                     inner, out.maps.size()))
                .in(fmt::format("map '{}'", out.maps[outer].name));
        }
        out.maps[outer].inner = std::make_shared<const MapSpec>(out.maps[inner]);
    }
    return {};
}

// ---- BTF-defined maps (`.maps`) --------------------------------------------------------------
//
// Each variable of the `.maps` DATASEC is a struct whose members describe the map, encoded by
// libbpf's macros in <bpf/bpf_helpers.h>: `__uint(name, val)` is `int (*name)[val]` (a pointer
// to an array of `val` elements), `__type(name, T)` is `typeof(T) *name`, and
// `__array(name, T)` is `typeof(T) *name[]` (a flexible array of pointers).

class BtfMapReader {
  public:
    explicit BtfMapReader(const Btf& btf) : btf_(btf) {}

    struct Definition {
        MapSpec spec;
        std::optional<uint32_t> values_offset;  // bytes, when the struct has `values`
        bool values_are_programs = false;
    };

    Result<Definition> read(uint32_t type_id, std::string name, bool inner) const {
        const uint32_t struct_id = btf_.skip_modifiers(type_id);
        const BtfType* def = btf_.type(struct_id);
        if (def == nullptr || def->kind != BtfKind::Struct) {
            return Error(fmt::format("definition is a {}, not a struct",
                                     def ? btf_kind_name(def->kind) : "bad type"));
        }
        Definition out;
        out.spec.name = std::move(name);
        out.spec.origin = MapOrigin::BtfDefined;
        std::optional<uint32_t> key_size, value_size;
        for (const auto& m : def->members) {
            const auto field_where = [&] { return fmt::format("field '{}'", m.name); };
            const auto number = [&]() -> Result<uint64_t> {
                auto n = integer_field(m.type);
                if (!n) return std::move(n).error().in(field_where());
                return n;
            };
            if (m.name == "type") {
                auto n = number();
                if (!n) return std::move(n).error();
                out.spec.type = static_cast<MapType>(*n);
            } else if (m.name == "max_entries") {
                auto n = number();
                if (!n) return std::move(n).error();
                out.spec.max_entries = static_cast<uint32_t>(*n);
            } else if (m.name == "map_flags") {
                auto n = number();
                if (!n) return std::move(n).error();
                out.spec.flags = static_cast<uint32_t>(*n);
            } else if (m.name == "numa_node") {
                auto n = number();
                if (!n) return std::move(n).error();
                out.spec.numa_node = static_cast<uint32_t>(*n);
            } else if (m.name == "map_extra") {
                auto n = number();
                if (!n) return std::move(n).error();
                out.spec.map_extra = *n;
            } else if (m.name == "pinning") {
                auto n = number();
                if (!n) return std::move(n).error();
                out.spec.pinning = static_cast<uint32_t>(*n);
            } else if (m.name == "key_size" || m.name == "value_size") {
                auto n = number();
                if (!n) return std::move(n).error();
                (m.name == "key_size" ? key_size : value_size) = static_cast<uint32_t>(*n);
            } else if (m.name == "key" || m.name == "value") {
                auto t = pointee(m.type);
                if (!t) return std::move(t).error().in(field_where());
                auto size = btf_.resolve_size(*t);
                if (!size) return std::move(size).error().in(field_where());
                if (m.name == "key") {
                    out.spec.key_size = *size;
                    out.spec.btf_key_type_id = *t;
                } else {
                    out.spec.value_size = *size;
                    out.spec.btf_value_type_id = *t;
                }
            } else if (m.name == "values") {
                if (inner)
                    return Error("an inner map cannot have initial values").in(field_where());
                if (m.bit_offset % 8 != 0) return Error("is not byte aligned").in(field_where());
                out.values_offset = m.bit_offset / 8;
                auto element = values_element(m.type);
                if (!element) return std::move(element).error().in(field_where());
                const BtfType* target = btf_.type(*element);
                if (target->kind == BtfKind::FuncProto) {
                    out.values_are_programs = true;
                } else {
                    auto inner_def = read(*element, out.spec.name + ".inner", true);
                    if (!inner_def) return std::move(inner_def).error().in("inner map");
                    out.spec.inner = std::make_shared<const MapSpec>(std::move(inner_def->spec));
                }
            } else {
                return Error(fmt::format("unknown field '{}'", m.name));
            }
        }
        if (key_size) {
            if (out.spec.btf_key_type_id != 0 && out.spec.key_size != *key_size) {
                return Error(fmt::format("key_size {} disagrees with the key type's size {}",
                                         *key_size, out.spec.key_size));
            }
            out.spec.key_size = *key_size;
        }
        if (value_size) {
            if (out.spec.btf_value_type_id != 0 && out.spec.value_size != *value_size) {
                return Error(fmt::format("value_size {} disagrees with the value type's size {}",
                                         *value_size, out.spec.value_size));
            }
            out.spec.value_size = *value_size;
        }
        // Maps of maps and prog arrays hold 4-byte ids: libbpf fills in the sizes such
        // definitions usually leave out.
        if (is_map_in_map(out.spec.type) || out.spec.type == MapType::ProgArray) {
            if (out.spec.key_size == 0 && out.spec.type != MapType::HashOfMaps) {
                out.spec.key_size = 4;
            }
            if (out.spec.value_size == 0) out.spec.value_size = 4;
        }
        if (out.spec.inner && !is_map_in_map(out.spec.type)) {
            return Error(
                fmt::format("has an inner map definition but its type {} is not a map "
                            "of maps",
                            static_cast<uint32_t>(out.spec.type)));
        }
        return out;
    }

  private:
    // `__uint(name, val)`: a pointer to an array of `val` elements. Also accepts a pointer to
    // an enum, whose first enumerator holds the value (how 64-bit values are spelled).
    Result<uint64_t> integer_field(uint32_t type_id) const {
        auto target = pointee(type_id);
        if (!target) return std::move(target).error();
        const BtfType* t = btf_.type(*target);
        if (t->kind == BtfKind::Array) return uint64_t{t->elements};
        if ((t->kind == BtfKind::Enum || t->kind == BtfKind::Enum64) && !t->enumerators.empty()) {
            return static_cast<uint64_t>(t->enumerators.front().value);
        }
        return Error(
            fmt::format("is a pointer to {}, not __uint(name, value)", btf_kind_name(t->kind)));
    }

    // `__type(name, T)`: a pointer to T; returns T (modifiers skipped for the kind check only).
    Result<uint32_t> pointee(uint32_t type_id) const {
        const BtfType* ptr = btf_.type(btf_.skip_modifiers(type_id));
        if (ptr == nullptr || ptr->kind != BtfKind::Ptr) {
            return Error(fmt::format("is a {}, not a pointer as libbpf's macros declare",
                                     ptr ? btf_kind_name(ptr->kind) : "bad type"));
        }
        const uint32_t target = btf_.skip_modifiers(ptr->type);
        if (target == 0 || btf_.type(target) == nullptr) return Error("points to void");
        return ptr->type;
    }

    // `__array(values, T)`: an array of pointers to T; returns T with modifiers skipped.
    Result<uint32_t> values_element(uint32_t type_id) const {
        const BtfType* array = btf_.type(btf_.skip_modifiers(type_id));
        if (array == nullptr || array->kind != BtfKind::Array) {
            return Error("is not an array, as __array(values, ...) declares");
        }
        auto element = pointee(array->type);
        if (!element) return std::move(element).error();
        return btf_.skip_modifiers(*element);
    }

    const Btf& btf_;
};

const BtfType* find_datasec(const Btf* btf, std::string_view name) {
    if (btf == nullptr) return nullptr;
    auto id = btf->find(name, BtfKind::Datasec);
    return id ? btf->type(*id) : nullptr;
}

Status read_btf_maps(const ElfFile& elf, const Btf* btf, ObjectMaps& out) {
    const ElfSection* section = elf.find_section(".maps");
    if (section == nullptr) return {};
    const std::string where = section->label();
    const BtfType* datasec = find_datasec(btf, ".maps");
    if (datasec == nullptr) {
        if (section->size == 0) return {};
        return Error("BTF-defined maps need .BTF with a .maps DATASEC").in(where);
    }
    const BtfMapReader reader(*btf);
    struct Initialisers {
        uint32_t map;
        uint32_t var_offset;
        uint32_t var_size;
        uint32_t values_offset;
        bool programs;
    };
    std::vector<Initialisers> with_values;
    for (const auto& var : datasec->variables) {
        const BtfType* v = btf->type(var.type);
        if (v == nullptr || v->kind != BtfKind::Var) {
            return Error(fmt::format("DATASEC entry type {} is not a variable", var.type))
                .in(where);
        }
        const auto map_where = [&] { return fmt::format("map '{}'", v->name); };
        auto def = reader.read(v->type, std::string(v->name), false);
        if (!def) return std::move(def).error().in(map_where()).in(where);
        if (uint64_t{var.offset} + var.size > section->size) {
            return Error(fmt::format("variable at offset {} ({} bytes) lies outside the section",
                                     var.offset, var.size))
                .in(map_where())
                .in(where);
        }
        const auto index = static_cast<uint32_t>(out.maps.size());
        if (!out.by_location.emplace(std::make_pair(section->index, uint64_t{var.offset}), index)
                 .second) {
            return Error(fmt::format("another map is defined at offset {}", var.offset))
                .in(map_where())
                .in(where);
        }
        if (def->values_offset) {
            with_values.push_back(
                {index, var.offset, var.size, *def->values_offset, def->values_are_programs});
        }
        out.maps.push_back(std::move(def->spec));
    }

    // `values = { [i] = &map_or_prog }` initialisers are relocations in `.rel.maps`.
    std::sort(
        with_values.begin(), with_values.end(),
        [](const Initialisers& a, const Initialisers& b) { return a.var_offset < b.var_offset; });
    auto relocations = elf.relocations_for(*section, 8);
    if (!relocations) return std::move(relocations).error();
    for (const auto& r : *relocations) {
        const auto reloc_where = [&] { return fmt::format("relocation {}", r.index); };
        if (r.type != elf::kRelocAbs64) continue;
        const ElfSymbol& symbol = elf.symbols()[r.symbol];
        // The last map starting at or before the offset is the only candidate.
        const Initialisers* owner = nullptr;
        auto after = std::upper_bound(
            with_values.begin(), with_values.end(), r.offset,
            [](uint64_t offset, const Initialisers& w) { return offset < w.var_offset; });
        if (after != with_values.begin()) {
            const Initialisers& w = *std::prev(after);
            if (r.offset < uint64_t{w.var_offset} + w.var_size) owner = &w;
        }
        if (owner == nullptr) {
            return Error(fmt::format("offset {} is not in the values of a map", r.offset))
                .in(reloc_where())
                .in(".rel.maps");
        }
        MapSpec& map = out.maps[owner->map];
        const uint64_t into = r.offset - owner->var_offset;
        if (into < owner->values_offset || (into - owner->values_offset) % 8 != 0) {
            return Error(fmt::format("offset {} is not a slot of 'values'", r.offset))
                .in(reloc_where())
                .in(fmt::format("map '{}'", map.name));
        }
        const auto slot = static_cast<uint32_t>((into - owner->values_offset) / 8);
        std::string target;
        if (owner->programs) {
            if (!symbol.in_section() || symbol.type != elf::kSymbolFunc ||
                !elf.sections()[symbol.section].executable()) {
                return Error(fmt::format("slot {} names '{}', which is not a program", slot,
                                         symbol.name))
                    .in(fmt::format("map '{}'", map.name));
            }
            target = std::string(symbol.name);
        } else {
            auto it = out.by_location.find({symbol.section, symbol.value});
            if (!symbol.in_section() || it == out.by_location.end()) {
                return Error(
                           fmt::format("slot {} names '{}', which is not a map", slot, symbol.name))
                    .in(fmt::format("map '{}'", map.name));
            }
            target = out.maps[it->second].name;
        }
        map.initial_slots.emplace_back(slot, std::move(target));
    }
    for (auto& map : out.maps) {
        std::sort(map.initial_slots.begin(), map.initial_slots.end());
    }
    return {};
}

// ---- Global data and `.kconfig` -------------------------------------------------------------

Status read_data_sections(const ElfFile& elf, const Btf* btf, ObjectMaps& out) {
    // DATASEC ids by name, so that each section's lookup does not scan every type.
    std::map<std::string_view, uint32_t> datasecs;
    for (uint32_t id = 1; btf != nullptr && id <= btf->type_count(); ++id) {
        const BtfType* t = btf->type(id);
        if (t->kind == BtfKind::Datasec) datasecs.emplace(t->name, id);
    }
    for (const auto& section : elf.sections()) {
        if (section.index == 0 || section.executable() || !is_data_section(section.name)) {
            continue;
        }
        if (section.type != elf::kSectionProgbits && section.type != elf::kSectionNobits) continue;
        if (section.size == 0) continue;
        if (section.size > UINT32_MAX) {
            return Error(fmt::format("{} bytes is too large for a map value", section.size))
                .in(section.label());
        }
        MapSpec spec;
        spec.name = std::string(section.name);
        spec.type = MapType::Array;
        spec.key_size = 4;
        spec.value_size = static_cast<uint32_t>(section.size);
        spec.max_entries = 1;
        if (section.name.starts_with(".rodata")) {
            spec.origin = MapOrigin::Rodata;
            spec.flags = map_flags::kRdonlyProg;
        } else if (section.name.starts_with(".bss")) {
            spec.origin = MapOrigin::Bss;
        } else {
            spec.origin = MapOrigin::Data;
        }
        if (section.type == elf::kSectionProgbits) {
            spec.initial_value.assign(section.data.begin(), section.data.end());
        }
        if (auto it = datasecs.find(section.name); it != datasecs.end()) {
            spec.btf_value_type_id = it->second;
        }
        out.data_sections[section.index] = static_cast<uint32_t>(out.maps.size());
        out.maps.push_back(std::move(spec));
    }
    return {};
}

Status read_kconfig(const Btf* btf, ObjectMaps& out) {
    const BtfType* datasec = find_datasec(btf, ".kconfig");
    if (datasec == nullptr || datasec->variables.empty()) return {};
    for (const auto& var : datasec->variables) {
        const BtfType* v = btf->type(var.type);
        if (v == nullptr || v->kind != BtfKind::Var) {
            return Error(fmt::format("DATASEC entry type {} is not a variable", var.type))
                .in("BTF section .kconfig");
        }
        out.kconfig.push_back({std::string(v->name), var.offset, var.size});
    }
    MapSpec spec;
    spec.name = ".kconfig";
    spec.type = MapType::Array;
    spec.key_size = 4;
    spec.value_size = std::max<uint32_t>(datasec->size, 1);
    spec.max_entries = 1;
    spec.flags = map_flags::kRdonlyProg;
    spec.origin = MapOrigin::Kconfig;
    spec.btf_value_type_id = datasec->id;
    spec.initial_value.assign(spec.value_size, 0);  // the runtime fills in the values
    out.kconfig_map = static_cast<uint32_t>(out.maps.size());
    out.maps.push_back(std::move(spec));
    return {};
}

}  // namespace

const KconfigExtern* ObjectMaps::find_kconfig(std::string_view name) const {
    for (const auto& k : kconfig) {
        if (k.name == name) return &k;
    }
    return nullptr;
}

bool is_legacy_map_section(std::string_view name) {
    return name == "maps" || name.starts_with("maps/");
}

bool is_data_section(std::string_view name) {
    for (std::string_view base : {".data", ".rodata", ".bss"}) {
        if (name == base || (name.starts_with(base) && name[base.size()] == '.')) return true;
    }
    return false;
}

Result<ObjectMaps> read_map_definitions(const ElfFile& elf, const Btf* btf) {
    ObjectMaps out;
    if (auto s = read_legacy_maps(elf, out); !s) return std::move(s).error();
    if (auto s = read_btf_maps(elf, btf, out); !s) return std::move(s).error();
    if (auto s = read_data_sections(elf, btf, out); !s) return std::move(s).error();
    if (auto s = read_kconfig(btf, out); !s) return std::move(s).error();
    return out;
}

}  // namespace xbpf::loader
