// Linux's program types as contracts (internal): one builder per family of types, each in its
// own file, gathered by linux_program_types().
#pragma once

#include <memory>
#include <vector>

#include "xbpf/program_type.hpp"

namespace xbpf::progtypes {

// Every Linux program type xbpf knows, for ProgramTypeRegistry::global().
std::vector<std::shared_ptr<ProgramType>> linux_program_types();

void add_xdp_type(std::vector<std::shared_ptr<ProgramType>>& out);       // xdp_type.cpp
void add_skb_types(std::vector<std::shared_ptr<ProgramType>>& out);      // skb_types.cpp
void add_socket_types(std::vector<std::shared_ptr<ProgramType>>& out);   // socket_types.cpp
void add_cgroup_types(std::vector<std::shared_ptr<ProgramType>>& out);   // cgroup_types.cpp
void add_tracing_types(std::vector<std::shared_ptr<ProgramType>>& out);  // tracing_types.cpp

}  // namespace xbpf::progtypes
