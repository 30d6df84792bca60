// The loading pipeline behind xbpf::load(): maps first, then each program verified, rewritten
// and prepared, then the initialisers that refer to programs and maps by name.
#pragma once

#include "xbpf/runtime.hpp"

namespace xbpf {

class ObjectLoader {
  public:
    ObjectLoader(Object object, const LoadOptions& options);
    Result<std::shared_ptr<LoadedObject>> run();

  private:
    Status create_maps();
    Status load_program(const ProgramSpec& spec);
    Status fill_initial_slots();
    // The value an lddw with a pseudo source stands for in this object's maps.
    Result<uint64_t> resolve_lddw(const Insn& lo, const Insn& hi) const;
    bool selected(const ProgramSpec& spec) const;

    std::shared_ptr<LoadedObject> result_;
    const LoadOptions& options_;
    const HelperCatalog& helpers_;
};

}  // namespace xbpf
