// The object loader: reads an eBPF ELF object as stock clang emits it under libbpf's conventions
// and describes it as plain data, the programs with their final instructions and the maps they
// need. Nothing is created here: the runtime turns the description into maps and programs, the
// verifier reads it.
//
// What a loaded object looks like:
// - programs: one per global function of an executable section other than `.text` (or one per
//   section when it has no function symbol), named after the function (or the section), with
//   the `.text` subprograms it calls appended after its own code, as libbpf does. The global
//   functions of `.text` are listed too (kind TextFunction), so each can be verified alone.
// - maps: legacy `maps` definitions, then BTF-defined `.maps`, then one single-element array
//   per global data section (`.data*`, `.rodata*`, `.bss*`), then `.kconfig`.
// - instructions refer to maps only by index into `Object::maps`: lddw src 5 (map) and src 6
//   (map value, offset in the second slot's imm), so they pass validate_program with
//   require_resolved = false and need no file descriptors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "xbpf/btf.hpp"
#include "xbpf/error.hpp"
#include "xbpf/insn.hpp"
#include "xbpf/linux_names.hpp"
#include "xbpf/map_spec.hpp"

namespace xbpf {

// What a section name says about its programs, per libbpf's table of program types and ELF
// sections (plus the legacy prefixes old loaders accepted, such as `socket1` or `xdp_fwd`).
struct SectionProgramType {
    ProgType prog_type = ProgType::Unspec;  // Unspec: the name does not say; the user must
    // The attach type the program is loaded with (BPF_PROG_LOAD's expected_attach_type);
    // nullopt when the section names none (Linux then takes 0).
    std::optional<AttachType> expected_attach_type;
    // What comes after the prefix: "sys_write" of "kprobe/sys_write", "syscalls/sys_enter_open"
    // of "tracepoint/syscalls/sys_enter_open"; empty when there is none.
    std::string attach_target;
    bool sleepable = false;  // the ".s" variants (fentry.s/, lsm.s/, uprobe.s/ ...)
};

// The program type and attach type a section name stands for.
SectionProgramType program_type_for_section(std::string_view section);

// BTF function information for one function of a program (BTF.ext func_info).
struct FuncInfo {
    uint32_t insn = 0;     // slot index of the function's first instruction in the program
    uint32_t type_id = 0;  // its BTF FUNC type
};

// Source position of an instruction (BTF.ext line_info). The strings view the object's BTF
// string table, which the program keeps alive (ProgramSpec::btf).
struct LineInfo {
    uint32_t insn = 0;  // slot index in the program
    std::string_view file;
    std::string_view source;  // the text of the source line, as clang recorded it
    uint32_t line = 0;
    uint32_t column = 0;
};

// A CO-RE relocation (BTF.ext core_relo, `enum bpf_core_relo_kind`).
enum class CoreRelocationKind : uint32_t {
    FieldByteOffset = 0,
    FieldByteSize = 1,
    FieldExists = 2,
    FieldSigned = 3,
    FieldLshiftU64 = 4,
    FieldRshiftU64 = 5,
    TypeIdLocal = 6,
    TypeIdTarget = 7,
    TypeExists = 8,
    TypeSize = 9,
    EnumvalExists = 10,
    EnumvalValue = 11,
    TypeMatches = 12,
};

// How a CO-RE relocation was resolved.
enum class CoreResolution : uint8_t {
    // Against the object's own BTF: the value clang compiled in is kept. A later version may
    // resolve against a target kernel's BTF instead.
    Local,
};

struct CoreRelocation {
    uint32_t insn = 0;        // slot index in the program
    uint32_t type_id = 0;     // root type in the object's BTF
    std::string_view access;  // access string, e.g. "0:1:2" (views the BTF strings)
    CoreRelocationKind kind = CoreRelocationKind::FieldByteOffset;
    CoreResolution resolution = CoreResolution::Local;
};

enum class ProgramKind : uint8_t {
    Entry,         // a program of a program section: loadable and attachable
    TextFunction,  // a global function of `.text`, listed so it can be verified on its own
};

// A `.text` function appended to a program (or a program section's own function called from
// another one), and where its code now starts.
struct AppendedFunction {
    std::string name;   // the function's symbol, or "<section>+<slot>" when it has none
    uint32_t insn = 0;  // slot index of its first instruction in the program
};

struct ProgramSpec {
    std::string name;     // function symbol, or the section name when the section has none
    std::string section;  // ELF section the program's own code comes from
    ProgramKind kind = ProgramKind::Entry;
    ProgType prog_type = ProgType::Unspec;  // from the section name; Unspec: caller decides
    std::optional<AttachType> expected_attach_type;  // see SectionProgramType
    std::string attach_target;                       // see SectionProgramType::attach_target
    bool sleepable = false;
    // Slot index of the program's first instruction within its section.
    uint32_t section_insn = 0;
    // Slots of the program's own code; appended functions follow from there.
    uint32_t own_insns = 0;
    // The final instructions: relocated, with subprograms appended and calls fixed.
    std::vector<Insn> insns;
    std::vector<AppendedFunction> appended;
    std::vector<FuncInfo> func_info;  // sorted by insn
    std::vector<LineInfo> line_info;  // sorted by insn
    std::vector<CoreRelocation> core_relocations;
    std::shared_ptr<const Btf> btf;  // the object's BTF (null without `.BTF`)

    // Instructions as verifiers count them: an lddw (two slots) counts once.
    size_t instruction_count() const;
    // The source line of a slot: the last line_info record at or before it, or nullptr.
    const LineInfo* line_at(size_t insn) const;
};

// A `.kconfig` extern (LINUX_KERNEL_VERSION, CONFIG_*): where its value lives in the `.kconfig`
// map, for the runtime to fill in.
struct KconfigExtern {
    std::string name;
    uint32_t offset = 0;
    uint32_t size = 0;
};

struct Object {
    std::string name;  // what errors and listings call the object (usually its file name)
    std::vector<ProgramSpec> programs;
    std::vector<MapSpec> maps;    // lddw src 5/6 imm indexes this vector
    std::string license;          // the `license` section, "" when absent
    uint32_t kernel_version = 0;  // the `version` section, 0 when absent
    std::vector<KconfigExtern> kconfig;
    std::shared_ptr<const Btf> btf;  // null when the object has no `.BTF`

    // Lookups by name; nullptr when absent. A program is found by its name (function) or,
    // failing that, by its section name.
    const ProgramSpec* find_program(std::string_view name) const;
    const MapSpec* find_map(std::string_view name) const;
};

// Reads an object from memory. `name` is used in error messages ("prog.o: section .text: ...").
// Malformed input gives an Error naming the section and the problem; nothing is trusted.
Result<Object> load_object(std::span<const uint8_t> bytes, std::string name);
// Reads an object from a file; errors start with the path.
Result<Object> load_object_file(const std::filesystem::path& path);

}  // namespace xbpf
