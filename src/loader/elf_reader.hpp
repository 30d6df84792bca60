// A reader for the ELF64 little-endian relocatable objects clang emits for BPF.
//
// Written by hand rather than with libelf or LLVM's object library: objects come from users and
// fuzzers, and every field (offsets, sizes, indices, string offsets, counts) is checked against
// the file before it is used, so a bad object gives a precise error naming the section and the
// field ("section .rel.text: relocation 3: symbol index 912 is out of range (40 symbols)")
// instead of undefined behaviour. It needs no system header either (glibc's <elf.h> is not on
// every platform); the few constants used are the ELF specification's, below.
//
// Names and contents are views into the caller's bytes, which must outlive the ElfFile.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "xbpf/error.hpp"

namespace xbpf::loader {

// Constants from the ELF specification (System V gABI) and the BPF psABI.
namespace elf {
inline constexpr uint16_t kTypeRelocatable = 1;  // ET_REL
inline constexpr uint16_t kMachineNone = 0;      // EM_NONE
inline constexpr uint16_t kMachineBpf = 247;     // EM_BPF

inline constexpr uint32_t kSectionNull = 0;      // SHT_NULL
inline constexpr uint32_t kSectionProgbits = 1;  // SHT_PROGBITS
inline constexpr uint32_t kSectionSymtab = 2;    // SHT_SYMTAB
inline constexpr uint32_t kSectionStrtab = 3;    // SHT_STRTAB
inline constexpr uint32_t kSectionRela = 4;      // SHT_RELA
inline constexpr uint32_t kSectionNobits = 8;    // SHT_NOBITS
inline constexpr uint32_t kSectionRel = 9;       // SHT_REL

inline constexpr uint64_t kFlagWrite = 0x1;      // SHF_WRITE
inline constexpr uint64_t kFlagAlloc = 0x2;      // SHF_ALLOC
inline constexpr uint64_t kFlagExecInstr = 0x4;  // SHF_EXECINSTR

inline constexpr uint16_t kIndexUndefined = 0;       // SHN_UNDEF
inline constexpr uint16_t kIndexLoReserve = 0xff00;  // SHN_LORESERVE
inline constexpr uint16_t kIndexAbsolute = 0xfff1;   // SHN_ABS
inline constexpr uint16_t kIndexCommon = 0xfff2;     // SHN_COMMON
inline constexpr uint16_t kIndexExtended = 0xffff;   // SHN_XINDEX

inline constexpr uint8_t kSymbolNoType = 0;   // STT_NOTYPE
inline constexpr uint8_t kSymbolObject = 1;   // STT_OBJECT
inline constexpr uint8_t kSymbolFunc = 2;     // STT_FUNC
inline constexpr uint8_t kSymbolSection = 3;  // STT_SECTION
inline constexpr uint8_t kSymbolFile = 4;     // STT_FILE

inline constexpr uint8_t kBindLocal = 0;   // STB_LOCAL
inline constexpr uint8_t kBindGlobal = 1;  // STB_GLOBAL
inline constexpr uint8_t kBindWeak = 2;    // STB_WEAK

// BPF relocation types (R_BPF_*).
inline constexpr uint32_t kRelocNone = 0;
inline constexpr uint32_t kReloc64_64 = 1;     // lddw immediate (map, data, function address)
inline constexpr uint32_t kRelocAbs64 = 2;     // data: 64-bit absolute (BTF, DWARF, .maps)
inline constexpr uint32_t kRelocAbs32 = 3;     // data: 32-bit absolute
inline constexpr uint32_t kRelocNoDyld32 = 4;  // data: 32-bit, not for the dynamic linker
inline constexpr uint32_t kReloc64_32 = 10;    // call immediate (bpf-to-bpf call, extern call)

inline constexpr size_t kHeaderSize = 64;         // sizeof(Elf64_Ehdr)
inline constexpr size_t kSectionHeaderSize = 64;  // sizeof(Elf64_Shdr)
inline constexpr size_t kSymbolSize = 24;         // sizeof(Elf64_Sym)
inline constexpr size_t kRelSize = 16;            // sizeof(Elf64_Rel)
inline constexpr size_t kRelaSize = 24;           // sizeof(Elf64_Rela)
}  // namespace elf

// Longest section or symbol name accepted (Linux's KSYM_NAME_LEN), so that names copied into
// the loaded object stay small whatever the string table holds.
inline constexpr size_t kMaxNameLength = 512;

struct ElfSection {
    uint32_t index = 0;
    std::string_view name;
    uint32_t type = 0;
    uint64_t flags = 0;
    uint64_t size = 0;  // bytes; for NOBITS the size in memory, with no bytes in the file
    uint32_t link = 0;
    uint32_t info = 0;
    uint64_t entry_size = 0;
    std::span<const uint8_t> data;  // the bytes in the file; empty for NOBITS

    bool executable() const { return (flags & elf::kFlagExecInstr) != 0; }
    // "section .text", or "section [7]" when the section has no name: for error locations.
    std::string label() const;
};

struct ElfSymbol {
    uint32_t index = 0;
    std::string_view name;
    uint8_t type = 0;      // STT_*
    uint8_t bind = 0;      // STB_*
    uint16_t section = 0;  // st_shndx: a section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON
    uint64_t value = 0;
    uint64_t size = 0;

    // Defined in a section of the object (not undefined, absolute or common).
    bool in_section() const {
        return section != elf::kIndexUndefined && section < elf::kIndexLoReserve;
    }
};

struct ElfRelocation {
    uint32_t section = 0;  // the relocation section it comes from, for messages
    uint32_t index = 0;    // position in that section, for messages
    uint64_t offset = 0;   // byte offset in the section it applies to
    uint32_t type = 0;
    uint32_t symbol = 0;  // index into ElfFile::symbols()
    // SHT_RELA entries carry their addend; SHT_REL ones keep it in the relocated field.
    bool has_addend = false;
    int64_t addend = 0;
};

class ElfFile {
  public:
    // Checks the header, the section table, section names and the symbol table.
    static Result<ElfFile> parse(std::span<const uint8_t> bytes);

    const std::vector<ElfSection>& sections() const { return sections_; }
    const std::vector<ElfSymbol>& symbols() const { return symbols_; }
    const ElfSection* find_section(std::string_view name) const;

    // The relocations that apply to a section, from every relocation section (SHT_REL, or the
    // SHT_RELA of very old LLVM) whose sh_info names it; each one's symbol index and offset are
    // checked (the offset leaves room for `width` bytes in the target section).
    Result<std::vector<ElfRelocation>> relocations_for(const ElfSection& target,
                                                       uint64_t width) const;

  private:
    Status parse_sections(std::span<const uint8_t> bytes);
    Status parse_symbols();

    std::vector<ElfSection> sections_;
    std::vector<ElfSymbol> symbols_;
    // For each section, the relocation sections (SHT_REL, SHT_RELA) that apply to it.
    std::vector<std::vector<uint32_t>> relocation_sections_;
};

}  // namespace xbpf::loader
