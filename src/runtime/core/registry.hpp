// Process-wide bookkeeping of live programs: ids handed out in increasing order, weak
// references so that listing never keeps a program alive.
#pragma once

#include <memory>

#include "xbpf/runtime.hpp"

namespace xbpf::runtime {

uint32_t next_program_id();
void register_program(const std::shared_ptr<Program>& program);

}  // namespace xbpf::runtime
