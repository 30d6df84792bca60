// syscall()'s replacement in both entry modes: its variadic arguments are read as the six longs
// the kernel's calling convention passes; bpf() goes to xbpf, any other call to `forward`.
#pragma once

#include <sys/syscall.h>

#include <cstdarg>

#include "xbpf/bpf_abi.hpp"

namespace xbpf::abi {

// `forward(number, args)` runs a system call that is not bpf(); `args` holds six longs.
template <typename Forward>
long route_syscall(long number, va_list arguments, Forward forward) {
    long a[6];
    for (long& x : a)
        x = va_arg(arguments, long);
    if (number == SYS_bpf) {
        return xbpf::bpf_syscall(static_cast<int>(a[0]), reinterpret_cast<void*>(a[1]),
                                 static_cast<unsigned>(a[2]));
    }
    return forward(number, a);
}

}  // namespace xbpf::abi
