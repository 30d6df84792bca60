// Reading `union bpf_attr` as Linux reads it, and writing results back into the caller's copy.
#pragma once

#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xbpf::abi {

// The byte just past a member of union bpf_attr: Linux's CHECK_ATTR requires every byte from
// there to the end of the union to be zero for the command whose last field it is.
#define XBPF_ATTR_END(member) \
    (offsetof(union bpf_attr, member) + sizeof(static_cast<union bpf_attr*>(nullptr)->member))

// The caller's attr and where to write results back. Only the first `size` bytes exist on the
// caller's side; the rest of `attr` is zero.
struct Call {
    union bpf_attr attr;
    void* user = nullptr;
    unsigned int size = 0;

    // Writes a field of the result back to the caller's attr (skipped when the caller's attr is
    // too short to hold it, as Linux would fault instead: callers pass full attrs).
    template <typename T>
    void put(size_t offset, T value) const {
        if (offset + sizeof(T) <= size)
            std::memcpy(static_cast<char*>(user) + offset, &value, sizeof(T));
    }
};

// A user pointer field (__aligned_u64) as a pointer.
template <typename T = void>
T* user_ptr(uint64_t address) {
    return reinterpret_cast<T*>(static_cast<uintptr_t>(address));
}

// Whether bytes [from, to) of a caller's buffer are zero (tails of structs newer than ours).
inline bool all_zero(const void* p, size_t from, size_t to) {
    const auto* bytes = static_cast<const unsigned char*>(p);
    for (size_t i = from; i < to; ++i) {
        if (bytes[i] != 0) return false;
    }
    return true;
}

}  // namespace xbpf::abi
