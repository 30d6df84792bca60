// The executable sections of an object: their instructions, where their functions begin and
// end, and where their calls and function addresses lead once relocations are applied.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loader/elf_reader.hpp"
#include "xbpf/error.hpp"
#include "xbpf/insn.hpp"

namespace xbpf::loader {

// An instruction slot of an executable section.
struct CodeTarget {
    uint32_t section = 0;
    uint32_t slot = 0;

    friend auto operator<=>(const CodeTarget&, const CodeTarget&) = default;
};

// A run of instructions: a function, or code without a symbol of its own.
struct CodeFunction {
    uint32_t start = 0;     // first slot in the section
    uint32_t count = 0;     // slots
    std::string_view name;  // empty when no symbol starts here
    bool global = false;    // a global or weak STT_FUNC symbol
};

struct CodeSection {
    const ElfSection* elf = nullptr;
    std::vector<Insn> insns;
    // Functions by start, without overlaps. From STT_FUNC symbols; when a section has none (old
    // clang emitted STT_NOTYPE), from its global symbols, or the whole section.
    std::vector<CodeFunction> functions;
    bool has_function_symbols = false;
    // Where relocated calls (src 1) and function addresses (lddw src 4) lead, by slot.
    std::map<uint32_t, CodeTarget> relocated_targets;

    // The code starting at `slot`: the function starting there, or the rest of the function
    // (or of the gap between functions) that contains it.
    CodeFunction code_at(uint32_t slot) const;
    // The programs this section defines: its global functions, or the whole section when it
    // has none.
    std::vector<CodeFunction> entry_points() const;
};

using CodeSections = std::map<uint32_t, CodeSection>;  // by ELF section index

// Decodes every executable section and splits it into functions.
Result<CodeSections> read_code_sections(const ElfFile& elf);

}  // namespace xbpf::loader
