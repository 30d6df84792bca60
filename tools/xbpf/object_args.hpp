// Options shared by the subcommands that load an object and run one of its programs
// (test-run, run): which program, its type, the engine, and map state across runs
// (--map-init / --map-dump in bpftool's JSON map format).
#pragma once

#include <memory>
#include <string>

#include "cli.hpp"
#include "xbpf/runtime.hpp"

namespace xbpf::cli {

struct ObjectArgs {
    std::string program;  // --program: function or section name
    std::string type;     // --type: bpftool name of the program type
    std::string engine;   // --engine: jit | interp (empty: the default)
    bool checked = false;
    std::string map_init;
    std::string map_dump;

    void add_to(CLI::App& app);

    struct Loaded {
        std::shared_ptr<LoadedObject> object;
        std::shared_ptr<Program> program;
    };
    // Loads FILE with the selected program only (verifying it), then applies --map-init.
    // Without --program the object must have exactly one program.
    Result<Loaded> load(const std::string& file) const;
    // Writes --map-dump, if given.
    Status dump_maps(const LoadedObject& object) const;
};

// {"NAME": [entries as bpftool's map dump -j prints them], ...} for every map of the object.
nlohmann::json maps_json(const LoadedObject& object);
// The same as text, at most `limit` entries per map.
std::string maps_text(const LoadedObject& object, size_t limit = 16);

// Whether a file starts with the ELF magic.
bool is_elf_file(const std::string& path);

}  // namespace xbpf::cli
