// Every Linux program type xbpf has a contract for, gathered from the per-family files.
#include "runtime/progtypes/linux_types.hpp"

namespace xbpf::progtypes {

std::vector<std::shared_ptr<ProgramType>> linux_program_types() {
    std::vector<std::shared_ptr<ProgramType>> out;
    add_skb_types(out);
    add_xdp_type(out);
    add_socket_types(out);
    add_cgroup_types(out);
    add_tracing_types(out);
    return out;
}

}  // namespace xbpf::progtypes
