// The loading pipeline behind xbpf::load(): maps first, then each program verified, rewritten
// and prepared, then the initialisers that refer to programs and maps by name.
#pragma once

#include <span>

#include "xbpf/runtime.hpp"

namespace xbpf {

// The value an lddw with a pseudo source (map by index, map value by index) stands for, given
// the program's maps.
Result<uint64_t> resolve_map_lddw(std::span<const std::shared_ptr<Map>> maps, const Insn& lo,
                                  const Insn& hi);

class ObjectLoader {
  public:
    ObjectLoader(Object object, const LoadOptions& options);
    Result<std::shared_ptr<LoadedObject>> run();

    // One program, verified against `map_specs` (what the verifier knows of its maps: the
    // object's definitions, or the live maps' specs), rewritten, prepared with its lddw
    // references resolved to `maps`, given an id and registered. Shared by object loading and
    // load_program() (bpf(BPF_PROG_LOAD)). `report`, if given, receives the verifier's report.
    static Result<std::shared_ptr<Program>> build_program(const ProgramSpec& spec,
                                                          std::vector<std::shared_ptr<Map>> maps,
                                                          std::span<const MapSpec> map_specs,
                                                          const LoadOptions& options,
                                                          const HelperCatalog& helpers,
                                                          VerifierReport* report);

  private:
    Status create_maps();
    Status load_program(const ProgramSpec& spec);
    Status fill_initial_slots();
    bool selected(const ProgramSpec& spec) const;

    std::shared_ptr<LoadedObject> result_;
    const LoadOptions& options_;
    const HelperCatalog& helpers_;
};

}  // namespace xbpf
