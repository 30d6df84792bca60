#include "loader/elf_reader.hpp"

#include <fmt/format.h>

#include "loader/byte_reader.hpp"

namespace xbpf::loader {

namespace {

// Field offsets in the ELF64 file header, section header, symbol and relocation entry.
namespace ehdr {
constexpr size_t kIdentClass = 4;  // EI_CLASS: 2 = ELFCLASS64
constexpr size_t kIdentData = 5;   // EI_DATA: 1 = ELFDATA2LSB
constexpr size_t kIdentVersion = 6;
constexpr size_t kType = 16;
constexpr size_t kMachine = 18;
constexpr size_t kShoff = 40;
constexpr size_t kShentsize = 58;
constexpr size_t kShnum = 60;
constexpr size_t kShstrndx = 62;
}  // namespace ehdr
namespace shdr {
constexpr size_t kName = 0;
constexpr size_t kType = 4;
constexpr size_t kFlags = 8;
constexpr size_t kOffset = 24;
constexpr size_t kSize = 32;
constexpr size_t kLink = 40;
constexpr size_t kInfo = 44;
constexpr size_t kEntsize = 56;
}  // namespace shdr
namespace sym {
constexpr size_t kName = 0;
constexpr size_t kInfo = 4;
constexpr size_t kShndx = 6;
constexpr size_t kValue = 8;
constexpr size_t kSize = 16;
}  // namespace sym

// The NUL-terminated string at `offset` of a string table, or an error saying what is wrong.
Result<std::string_view> string_in_table(std::span<const uint8_t> table, uint64_t offset,
                                         std::string_view table_label) {
    if (offset >= table.size()) {
        return Error(fmt::format("name offset {:#x} is outside {} ({:#x} bytes)", offset,
                                 table_label, table.size()));
    }
    const auto* begin = reinterpret_cast<const char*>(table.data()) + offset;
    const size_t room = table.size() - static_cast<size_t>(offset);
    size_t length = 0;
    while (length < room && begin[length] != '\0')
        ++length;
    if (length == room) {
        return Error(
            fmt::format("name at offset {:#x} of {} is not NUL-terminated", offset, table_label));
    }
    if (length > kMaxNameLength) {
        return Error(fmt::format("name at offset {:#x} of {} is {} bytes long (the limit is {})",
                                 offset, table_label, length, kMaxNameLength));
    }
    return std::string_view(begin, length);
}

}  // namespace

std::string ElfSection::label() const {
    if (name.empty()) return fmt::format("section [{}]", index);
    return fmt::format("section {}", name);
}

Result<ElfFile> ElfFile::parse(std::span<const uint8_t> bytes) {
    const ByteReader file(bytes);
    if (!file.has(0, elf::kHeaderSize)) {
        return Error(fmt::format("file is {} bytes, too small for an ELF header ({} bytes)",
                                 bytes.size(), elf::kHeaderSize));
    }
    if (file.u8(0) != 0x7f || file.u8(1) != 'E' || file.u8(2) != 'L' || file.u8(3) != 'F') {
        return Error("not an ELF file (bad magic number)");
    }
    if (file.u8(ehdr::kIdentClass) != 2) {
        return Error("not a 64-bit ELF file (eBPF objects are ELFCLASS64)");
    }
    if (file.u8(ehdr::kIdentData) != 1) {
        return Error("not a little-endian ELF file (big-endian eBPF objects are not supported)");
    }
    if (file.u8(ehdr::kIdentVersion) != 1) {
        return Error(fmt::format("unknown ELF version {}", file.u8(ehdr::kIdentVersion)));
    }
    // LLVM wrote EM_NONE (0) before EM_BPF existed; objects of that age still load (libbpf
    // accepts them too).
    if (const uint16_t machine = file.u16(ehdr::kMachine);
        machine != elf::kMachineBpf && machine != elf::kMachineNone) {
        return Error(fmt::format("ELF machine is {}, not BPF ({})", machine, elf::kMachineBpf));
    }
    if (const uint16_t type = file.u16(ehdr::kType); type != elf::kTypeRelocatable) {
        return Error(fmt::format("ELF type is {}, not a relocatable object (1)", type));
    }
    ElfFile out;
    if (auto status = out.parse_sections(bytes); !status) return std::move(status).error();
    if (auto status = out.parse_symbols(); !status) return std::move(status).error();
    return out;
}

Status ElfFile::parse_sections(std::span<const uint8_t> bytes) {
    const ByteReader file(bytes);
    const uint64_t shoff = file.u64(ehdr::kShoff);
    const uint16_t shentsize = file.u16(ehdr::kShentsize);
    const uint16_t shnum = file.u16(ehdr::kShnum);
    const uint16_t shstrndx = file.u16(ehdr::kShstrndx);
    if (shnum == 0) {
        // Also how extended section numbering starts (the count in section 0): clang never
        // needs it for BPF, and an object without sections has no programs.
        return Error("the object has no section table");
    }
    if (shentsize != elf::kSectionHeaderSize) {
        return Error(fmt::format("section header size is {}, expected {}", shentsize,
                                 elf::kSectionHeaderSize));
    }
    if (!file.has(shoff, uint64_t{shnum} * elf::kSectionHeaderSize)) {
        return Error(fmt::format(
            "section table ({} sections at offset {:#x}) runs past the end of the file ({:#x} "
            "bytes)",
            shnum, shoff, bytes.size()));
    }
    if (shstrndx >= shnum) {
        return Error(fmt::format("section name table index {} is out of range ({} sections)",
                                 shstrndx, shnum));
    }

    // Headers first, then names (so that errors about contents can name the section), then
    // contents.
    std::vector<uint32_t> name_offsets(shnum);
    std::vector<uint64_t> offsets(shnum);
    sections_.resize(shnum);
    for (uint32_t i = 0; i < shnum; ++i) {
        const uint64_t at = shoff + uint64_t{i} * elf::kSectionHeaderSize;
        ElfSection& s = sections_[i];
        s.index = i;
        name_offsets[i] = file.u32(at + shdr::kName);
        s.type = file.u32(at + shdr::kType);
        s.flags = file.u64(at + shdr::kFlags);
        offsets[i] = file.u64(at + shdr::kOffset);
        s.size = file.u64(at + shdr::kSize);
        s.link = file.u32(at + shdr::kLink);
        s.info = file.u32(at + shdr::kInfo);
        s.entry_size = file.u64(at + shdr::kEntsize);
    }
    const auto load_contents = [&](ElfSection& s) -> Status {
        if (s.type == elf::kSectionNobits || s.type == elf::kSectionNull) return {};
        if (!file.has(offsets[s.index], s.size)) {
            return Error(fmt::format("contents ({:#x} bytes at offset {:#x}) run past the end of "
                                     "the file ({:#x} bytes)",
                                     s.size, offsets[s.index], bytes.size()))
                .in(s.label());
        }
        s.data = file.slice(offsets[s.index], s.size);
        return {};
    };

    ElfSection& names = sections_[shstrndx];
    if (names.type != elf::kSectionStrtab) {
        return Error(fmt::format("section name table [{}] is not a string table (type {})",
                                 shstrndx, names.type));
    }
    if (auto status = load_contents(names); !status) return status;
    relocation_sections_.resize(shnum);
    for (uint32_t i = 1; i < shnum; ++i) {
        auto name = string_in_table(names.data, name_offsets[i], "the section name table");
        if (!name) return std::move(name).error().in(fmt::format("section [{}]", i));
        sections_[i].name = *name;
        const ElfSection& s = sections_[i];
        if ((s.type == elf::kSectionRel || s.type == elf::kSectionRela) && s.info < shnum) {
            relocation_sections_[s.info].push_back(i);
        }
    }
    for (auto& s : sections_) {
        if (auto status = load_contents(s); !status) return status;
    }
    return {};
}

Status ElfFile::parse_symbols() {
    const ElfSection* symtab = nullptr;
    for (const auto& s : sections_) {
        if (s.type != elf::kSectionSymtab) continue;
        if (symtab != nullptr) return Error("the object has more than one symbol table");
        symtab = &s;
    }
    if (symtab == nullptr) return {};  // no symbols: nothing refers to anything

    const std::string where = symtab->label();
    if (symtab->entry_size != elf::kSymbolSize) {
        return Error(fmt::format("symbol entry size is {}, expected {}", symtab->entry_size,
                                 elf::kSymbolSize))
            .in(where);
    }
    if (symtab->size % elf::kSymbolSize != 0) {
        return Error(fmt::format("size {:#x} is not a multiple of the symbol size ({})",
                                 symtab->size, elf::kSymbolSize))
            .in(where);
    }
    if (symtab->link == 0 || symtab->link >= sections_.size() ||
        sections_[symtab->link].type != elf::kSectionStrtab) {
        return Error(fmt::format("linked string table [{}] is not a string table", symtab->link))
            .in(where);
    }
    const std::span<const uint8_t> strings = sections_[symtab->link].data;
    const ByteReader table(symtab->data);
    const size_t count = symtab->data.size() / elf::kSymbolSize;
    symbols_.resize(count);
    for (size_t i = 0; i < count; ++i) {
        const uint64_t at = i * elf::kSymbolSize;
        ElfSymbol& symbol = symbols_[i];
        symbol.index = static_cast<uint32_t>(i);
        const uint8_t info = table.u8(at + sym::kInfo);
        symbol.type = info & 0xf;
        symbol.bind = info >> 4;
        symbol.section = table.u16(at + sym::kShndx);
        symbol.value = table.u64(at + sym::kValue);
        symbol.size = table.u64(at + sym::kSize);
        const auto symbol_where = [&] { return fmt::format("symbol {}", i); };
        auto name = string_in_table(strings, table.u32(at + sym::kName), "the string table");
        if (!name) return std::move(name).error().in(symbol_where()).in(where);
        symbol.name = *name;
        if (symbol.section == elf::kIndexExtended) {
            return Error("extended section indices (SHN_XINDEX) are not supported")
                .in(symbol_where())
                .in(where);
        }
        if (symbol.in_section() && symbol.section >= sections_.size()) {
            return Error(fmt::format("section index {} is out of range ({} sections)",
                                     symbol.section, sections_.size()))
                .in(symbol_where())
                .in(where);
        }
    }
    return {};
}

const ElfSection* ElfFile::find_section(std::string_view name) const {
    for (const auto& s : sections_) {
        if (s.index != 0 && s.name == name) return &s;
    }
    return nullptr;
}

Result<std::vector<ElfRelocation>> ElfFile::relocations_for(const ElfSection& target,
                                                            uint64_t width) const {
    std::vector<ElfRelocation> out;
    if (target.index >= relocation_sections_.size()) return out;
    for (const uint32_t rel_index : relocation_sections_[target.index]) {
        const ElfSection& rel = sections_[rel_index];
        const std::string where = rel.label();
        const bool with_addend = rel.type == elf::kSectionRela;
        const size_t entry_size = with_addend ? elf::kRelaSize : elf::kRelSize;
        if (rel.entry_size != entry_size) {
            return Error(fmt::format("relocation entry size is {}, expected {}", rel.entry_size,
                                     entry_size))
                .in(where);
        }
        if (rel.size % entry_size != 0) {
            return Error(fmt::format("size {:#x} is not a multiple of the relocation size ({})",
                                     rel.size, entry_size))
                .in(where);
        }
        if (rel.link >= sections_.size() || sections_[rel.link].type != elf::kSectionSymtab) {
            return Error(fmt::format("linked section [{}] is not the symbol table", rel.link))
                .in(where);
        }
        const ByteReader table(rel.data);
        const size_t count = rel.data.size() / entry_size;
        for (size_t i = 0; i < count; ++i) {
            ElfRelocation r;
            r.section = rel.index;
            r.index = static_cast<uint32_t>(i);
            r.offset = table.u64(i * entry_size);
            const uint64_t info = table.u64(i * entry_size + 8);
            r.has_addend = with_addend;
            if (with_addend) r.addend = static_cast<int64_t>(table.u64(i * entry_size + 16));
            r.type = static_cast<uint32_t>(info & 0xffffffff);
            r.symbol = static_cast<uint32_t>(info >> 32);
            const auto reloc_where = [&] { return fmt::format("relocation {}", i); };
            if (r.symbol >= symbols_.size()) {
                return Error(fmt::format("symbol index {} is out of range ({} symbols)", r.symbol,
                                         symbols_.size()))
                    .in(reloc_where())
                    .in(where);
            }
            if (r.offset > target.size || width > target.size - r.offset) {
                return Error(fmt::format("offset {:#x} is outside {} ({:#x} bytes)", r.offset,
                                         target.label(), target.size))
                    .in(reloc_where())
                    .in(where);
            }
            out.push_back(r);
        }
    }
    return out;
}

}  // namespace xbpf::loader
