// The prototypes of every Linux helper (internal): the facts of each helper's Linux
// `struct bpf_func_proto`, with no implementation attached.
#pragma once

#include <vector>

#include "xbpf/helpers.hpp"

namespace xbpf::helpers {

// One definition per Linux helper id 1..__BPF_FUNC_MAX_ID-1, in id order, function == nullptr.
std::vector<HelperDefinition> linux_prototypes();

}  // namespace xbpf::helpers
