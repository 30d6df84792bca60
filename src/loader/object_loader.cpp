// load_object: ELF -> BTF -> maps -> relocated code -> linked programs with their BTF.ext
// information. Each step checks what it reads; see the headers of the steps for what they do.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "loader/btf_ext.hpp"
#include "loader/btf_layout.hpp"
#include "loader/code_sections.hpp"
#include "loader/elf_reader.hpp"
#include "loader/map_definitions.hpp"
#include "loader/program_linker.hpp"
#include "loader/relocations.hpp"
#include "xbpf/object.hpp"

namespace xbpf {

namespace {

using namespace loader;

// What an object may expand to in memory (instructions, function and line records, names)
// once subprograms are appended to every program.
constexpr size_t kLinkBudgetBytes = size_t{256} << 20;

Result<std::shared_ptr<Btf>> read_btf(const ElfFile& elf) {
    const ElfSection* section = elf.find_section(".BTF");
    if (section == nullptr) return std::shared_ptr<Btf>();
    auto btf = Btf::parse(section->data);
    if (!btf) return std::move(btf).error().in(section->label());
    if (auto s = fill_datasec_layouts(elf, **btf); !s) {
        return std::move(s).error().in(section->label());
    }
    return btf;
}

Result<BtfExt> read_btf_ext(const ElfFile& elf, const Btf* btf) {
    const ElfSection* section = elf.find_section(".BTF.ext");
    if (section == nullptr || btf == nullptr) return BtfExt{};
    auto ext = parse_btf_ext(section->data, *btf);
    if (!ext) return std::move(ext).error().in(section->label());
    return ext;
}

Status read_license_and_version(const ElfFile& elf, Object& object) {
    if (const ElfSection* license = elf.find_section("license")) {
        const auto* text = reinterpret_cast<const char*>(license->data.data());
        const auto end = std::find(text, text + license->data.size(), '\0');
        object.license.assign(text, end);
    }
    if (const ElfSection* version = elf.find_section("version")) {
        if (version->data.size() != 4) {
            return Error(fmt::format("holds {} bytes; the kernel version is a 4-byte number",
                                     version->data.size()))
                .in(version->label());
        }
        const auto& d = version->data;
        object.kernel_version = uint32_t{d[0]} | (uint32_t{d[1]} << 8) | (uint32_t{d[2]} << 16) |
                                (uint32_t{d[3]} << 24);
    }
    return {};
}

// Copies the BTF.ext records of each placed run of code into the program, at the run's new
// position.
Status attach_btf_ext(const ElfFile& elf, const BtfExt& ext, const LinkedProgram& linked,
                      ProgramSpec& program, LinkBudget& budget) {
    for (const Placement& p : linked.placements) {
        const std::string_view section = elf.sections()[p.section].name;
        const auto moved = [&p](uint32_t insn) { return p.program_start + (insn - p.start); };
        const auto funcs = records_in(ext.func_info, section, p.start, p.count);
        const auto lines = records_in(ext.line_info, section, p.start, p.count);
        const auto cores = records_in(ext.core_relocations, section, p.start, p.count);
        if (!budget.take(funcs.size() * sizeof(FuncInfo) + lines.size() * sizeof(LineInfo) +
                         cores.size() * sizeof(CoreRelocation))) {
            return Error("the object expands to too many BTF records with its subprograms");
        }
        for (const auto& f : funcs)
            program.func_info.push_back({moved(f.insn), f.type_id});
        for (const auto& l : lines) {
            program.line_info.push_back({moved(l.insn), l.file, l.source, l.line, l.column});
        }
        for (const auto& c : cores) {
            program.core_relocations.push_back({moved(c.insn), c.type_id, c.access,
                                                static_cast<CoreRelocationKind>(c.kind),
                                                CoreResolution::Local});
        }
    }
    return {};
}

Result<ProgramSpec> build_program(const ElfFile& elf, const CodeSections& code, const BtfExt& ext,
                                  const std::shared_ptr<const Btf>& btf, uint32_t section,
                                  const CodeFunction& entry, ProgramKind kind, LinkBudget& budget) {
    const ElfSection& elf_section = elf.sections()[section];
    auto linked = link_program(code, section, entry, budget);
    if (!linked) return std::move(linked).error();
    ProgramSpec program;
    program.name = std::string(entry.name);
    program.section = std::string(elf_section.name);
    program.kind = kind;
    if (kind == ProgramKind::Entry) {
        SectionProgramType type = program_type_for_section(elf_section.name);
        program.prog_type = type.prog_type;
        program.expected_attach_type = type.expected_attach_type;
        program.attach_target = std::move(type.attach_target);
        program.sleepable = type.sleepable;
    }
    program.section_insn = entry.start;
    program.own_insns = entry.count;
    program.insns = std::move(linked->insns);
    program.appended = std::move(linked->appended);
    program.btf = btf;
    if (auto s = attach_btf_ext(elf, ext, *linked, program, budget); !s) {
        return std::move(s).error();
    }
    return program;
}

Result<Object> load(std::span<const uint8_t> bytes, std::string name) {
    auto elf = ElfFile::parse(bytes);
    if (!elf) return std::move(elf).error();
    Object object;
    object.name = std::move(name);

    auto btf = read_btf(*elf);
    if (!btf) return std::move(btf).error();
    auto ext = read_btf_ext(*elf, btf->get());
    if (!ext) return std::move(ext).error();
    object.btf = *btf;

    if (auto s = read_license_and_version(*elf, object); !s) return std::move(s).error();

    auto maps = read_map_definitions(*elf, btf->get());
    if (!maps) return std::move(maps).error();

    auto code = read_code_sections(*elf);
    if (!code) return std::move(code).error();
    if (auto s = apply_relocations(*elf, *maps, *code); !s) return std::move(s).error();

    LinkBudget budget(kLinkBudgetBytes);
    // Programs of the program sections first, in section order; then `.text`'s functions.
    for (const bool text : {false, true}) {
        for (const auto& item : *code) {
            const uint32_t index = item.first;
            const CodeSection& section = item.second;
            if ((section.elf->name == ".text") != text) continue;
            for (const CodeFunction& entry : section.entry_points()) {
                const auto where = [&] {
                    return std::make_pair(section.elf->label(),
                                          fmt::format("function '{}'", entry.name));
                };
                auto program =
                    build_program(*elf, *code, *ext, object.btf, index, entry,
                                  text ? ProgramKind::TextFunction : ProgramKind::Entry, budget);
                if (!program) {
                    auto [section_label, function] = where();
                    Error error = std::move(program).error();
                    if (entry.name != section.elf->name) error.in(function);
                    return std::move(error).in(section_label);
                }
                object.programs.push_back(std::move(*program));
            }
        }
    }
    object.maps = std::move(maps->maps);
    object.kconfig = std::move(maps->kconfig);
    return object;
}

}  // namespace

size_t ProgramSpec::instruction_count() const {
    size_t count = 0;
    for (size_t pc = 0; pc < insns.size(); ++pc) {
        ++count;
        if (is_lddw(insns[pc])) ++pc;
    }
    return count;
}

const LineInfo* ProgramSpec::line_at(size_t insn) const {
    auto after = std::upper_bound(line_info.begin(), line_info.end(), insn,
                                  [](size_t i, const LineInfo& l) { return i < l.insn; });
    if (after == line_info.begin()) return nullptr;
    return &*std::prev(after);
}

const ProgramSpec* Object::find_program(std::string_view wanted) const {
    for (const auto& p : programs) {
        if (p.name == wanted) return &p;
    }
    for (const auto& p : programs) {
        if (p.section == wanted) return &p;
    }
    return nullptr;
}

const MapSpec* Object::find_map(std::string_view wanted) const {
    for (const auto& m : maps) {
        if (m.name == wanted) return &m;
    }
    return nullptr;
}

Result<Object> load_object(std::span<const uint8_t> bytes, std::string name) {
    const std::string where = name;
    auto object = load(bytes, std::move(name));
    if (!object) return std::move(object).error().in(where);
    return object;
}

Result<Object> load_object_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error("cannot open the file").in(path.string());
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (in.bad()) return Error("cannot read the file").in(path.string());
    return load_object(bytes, path.string());
}

}  // namespace xbpf
