// The runtime: turns a loaded object (object.hpp) into live maps and verified, runnable
// programs, and keeps track of them the way Linux does — every program and map has an id and
// lives as long as someone holds a reference to it.
//
// Loading an object, as libbpf's bpf_object__load does:
//   1. every map of the object is created (create_map), global data gets its initial contents;
//   2. every selected program is verified against its program type's contract (verify());
//      a rejected program fails the whole load with the verifier's explanation;
//   3. verified context accesses are rewritten to the native layout and each program is
//      prepared for its engine, its lddw map references resolved to the live maps;
//   4. prog_array and map-of-maps initialisers (`values = {...}`) are filled in.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "xbpf/engine.hpp"
#include "xbpf/error.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/map.hpp"
#include "xbpf/object.hpp"
#include "xbpf/program_type.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf {

struct LoadOptions {
    // Programs to load, by name (function or section name); empty: every entry program.
    // Programs not listed are neither verified nor prepared (libbpf's autoload = false).
    std::vector<std::string> programs;
    // The program type for programs whose section does not name one (or to override it).
    std::optional<uint32_t> prog_type;
    // The engine; unset: the JIT where it is available, the interpreter otherwise.
    std::optional<EngineKind> engine;
    // Run in the checked interpreter: every memory access is bounds-checked at run time too
    // (implies the interpreter).
    bool checked = false;
    VerifierOptions verifier;
    // Helpers programs may call (their prototypes and implementations); null: Linux's.
    const HelperCatalog* helpers = nullptr;
};

class Runtime;

// A verified program, ready to run. Immutable; shared by everyone who uses it.
class Program final : public TailCallTarget {
  public:
    uint32_t id() const { return id_; }
    uint32_t object_id() const override { return id_; }
    const std::string& name() const { return spec_.name; }
    const ProgramSpec& spec() const { return spec_; }
    const ProgramType& type() const { return *type_; }
    // The instructions as loaded (before context rewriting): what `xbpf disasm` shows.
    std::span<const Insn> instructions() const { return spec_.insns; }
    // The instructions the engine runs (context accesses rewritten): bpftool's "xlated".
    std::span<const Insn> translated() const { return translated_; }
    const VerifierReport& verification() const { return verification_; }
    // The maps the program references, by the object's map index.
    const std::vector<std::shared_ptr<Map>>& maps() const { return maps_; }
    // The values of its global-data maps (.data, .rodata, .bss...), which it reaches directly:
    // what a checked run must allow besides the context and packet.
    std::vector<MemoryRegion> global_data_regions() const;
    const Executable& executable() const { return *executable_; }
    const Executable* executable(EngineKind engine) const override;
    const HelperCatalog& helpers() const { return *helpers_; }
    std::chrono::system_clock::time_point loaded_at() const { return loaded_at_; }

  private:
    friend class ObjectLoader;
    Program() = default;

    uint32_t id_ = 0;
    ProgramSpec spec_;
    std::shared_ptr<const ProgramType> type_;
    std::vector<Insn> translated_;
    VerifierReport verification_;
    std::vector<std::shared_ptr<Map>> maps_;
    std::unique_ptr<Executable> executable_;
    const HelperCatalog* helpers_ = nullptr;
    std::chrono::system_clock::time_point loaded_at_;
};

// An object after loading: its maps and programs, alive while this (or they) are referenced.
class LoadedObject {
  public:
    const Object& object() const { return object_; }
    const std::vector<std::shared_ptr<Program>>& programs() const { return programs_; }
    const std::vector<std::shared_ptr<Map>>& maps() const { return maps_; }
    // By name (function, or section for programs); nullptr when absent or not loaded.
    std::shared_ptr<Program> find_program(std::string_view name) const;
    std::shared_ptr<Map> find_map(std::string_view name) const;

  private:
    friend class ObjectLoader;
    Object object_;
    std::vector<std::shared_ptr<Program>> programs_;
    std::vector<std::shared_ptr<Map>> maps_;
};

// Loads an object: creates its maps, verifies and prepares its programs. Errors say which
// program or map failed and why (for a rejected program: the verifier's whole explanation).
Result<std::shared_ptr<LoadedObject>> load(Object object, const LoadOptions& options = {});
Result<std::shared_ptr<LoadedObject>> load_file(const std::filesystem::path& path,
                                                const LoadOptions& options = {});

// Loads one program whose maps already exist, as bpf(BPF_PROG_LOAD) gives one: its lddw
// instructions refer to `maps` by index (src 5 map, src 6 map value). The type is
// spec.prog_type unless options.prog_type is set; options.programs is ignored. It is verified
// (against the maps' specs), rewritten and prepared exactly as a program of an object is.
// `report`, if given, receives the verifier's report whether or not the program was accepted
// (with options.verifier.verbose, its state log too).
Result<std::shared_ptr<Program>> load_program(ProgramSpec spec,
                                              std::vector<std::shared_ptr<Map>> maps,
                                              const LoadOptions& options = {},
                                              VerifierReport* report = nullptr);

// The live programs, in id order (like `bpftool prog show`); maps are listed by the map layer.
std::vector<std::shared_ptr<Program>> live_programs();
std::shared_ptr<Program> find_program_by_id(uint32_t id);

}  // namespace xbpf
