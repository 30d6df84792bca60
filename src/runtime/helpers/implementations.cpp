// The list of implemented helpers: one entry per family file.
#include "runtime/helpers/implementations.hpp"

namespace xbpf::helpers {

std::vector<Implementation> linux_implementations() {
    std::vector<Implementation> out;
    return out;
}

}  // namespace xbpf::helpers
