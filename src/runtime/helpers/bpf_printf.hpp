// printf as Linux's BPF helpers implement it (internal): bpf_trace_printk, bpf_trace_vprintk
// and bpf_snprintf accept only %d %i %u %x %X (with l or ll), %c, %s, %p (%pK %px %ps %pS),
// %pI4 %pi4 %pI6 %pi6, %pks %pus and %%, with the flags 0 + - space and a width, and at most
// as many conversions as arguments. Anything else is -EINVAL, as in Linux.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace xbpf::helpers {

struct Formatted {
    int error = 0;     // 0, or a negative errno
    std::string text;  // the output when error == 0
};

// `format` without its terminating NUL; `args` the raw 64-bit arguments.
Formatted bpf_printf(std::string_view format, std::span<const uint64_t> args);

}  // namespace xbpf::helpers
