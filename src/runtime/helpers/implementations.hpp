// The helpers xbpf runs (internal): each Linux helper id that makes sense in user space, with
// its implementation. The catalog pairs them with the prototypes (linux_prototypes.hpp).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "xbpf/engine.hpp"

namespace xbpf::helpers {

struct Implementation {
    int32_t id;
    HelperFn function;
};

// Every implemented helper, gathered from the per-family lists below.
std::vector<Implementation> linux_implementations();

}  // namespace xbpf::helpers
