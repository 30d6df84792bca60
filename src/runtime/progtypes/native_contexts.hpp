// The native contexts of the runnable packet types, as C++ structs (internal). Their layout is
// the one ContextBuilder gives (the uapi struct, then 8-byte slots for the 32-bit pointer
// fields); a test checks the two agree.
#pragma once

#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>

namespace xbpf::progtypes {

// xdp programs: struct xdp_md, then data, data_end, data_meta.
struct NativeXdp {
    xdp_md uapi;
    uint8_t* data;
    uint8_t* data_end;
    uint8_t* data_meta;
};
static_assert(offsetof(NativeXdp, data) == 24);

// __sk_buff programs: struct __sk_buff, then data, data_end, data_meta. uapi.sk stays where
// the uapi puts it (an 8-byte slot already).
struct NativeSkb {
    __sk_buff uapi;
    uint8_t* data;
    uint8_t* data_end;
    uint8_t* data_meta;
};
static_assert(offsetof(NativeSkb, data) == 192);

}  // namespace xbpf::progtypes
