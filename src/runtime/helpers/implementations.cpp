// The list of implemented helpers: one entry per family file.
#include "runtime/helpers/implementations.hpp"

namespace xbpf::helpers {

std::vector<Implementation> linux_implementations() {
    std::vector<Implementation> out;
    add_map_helpers(out);
    add_time_helpers(out);
    add_process_helpers(out);
    add_print_helpers(out);
    add_ringbuf_helpers(out);
    add_packet_helpers(out);
    add_checksum_helpers(out);
    add_string_helpers(out);
    add_control_helpers(out);
    add_callback_helpers(out);
    return out;
}

}  // namespace xbpf::helpers
