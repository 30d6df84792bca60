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

// Per family, each defined in its own file.
void add_map_helpers(std::vector<Implementation>& out);       // map_helpers.cpp
void add_time_helpers(std::vector<Implementation>& out);      // time_helpers.cpp
void add_process_helpers(std::vector<Implementation>& out);   // process_helpers.cpp
void add_print_helpers(std::vector<Implementation>& out);     // print_helpers.cpp
void add_ringbuf_helpers(std::vector<Implementation>& out);   // ringbuf_helpers.cpp
void add_packet_helpers(std::vector<Implementation>& out);    // packet_helpers.cpp
void add_checksum_helpers(std::vector<Implementation>& out);  // checksum_helpers.cpp
void add_string_helpers(std::vector<Implementation>& out);    // string_helpers.cpp
void add_control_helpers(std::vector<Implementation>& out);   // control_helpers.cpp
void add_callback_helpers(std::vector<Implementation>& out);  // callback_helpers.cpp

}  // namespace xbpf::helpers
