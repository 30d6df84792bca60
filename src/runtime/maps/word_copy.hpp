// Copies and compares of map keys and values, one 8-byte word at a time with relaxed atomic
// accesses. Lock-free readers read elements that writers may be recycling at the same moment;
// doing every such access as an atomic word keeps that well-defined (and visible to
// ThreadSanitizer as intended) while compiling to plain moves on x86-64 and arm64. Readers
// detect and discard mixed results with the element's sequence counter.
//
// Storage in a map is always 8-byte aligned and padded to a multiple of 8 bytes with zeroes;
// the program's or host's buffer is arbitrary memory of exactly `size` bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xbpf::maps {

inline constexpr size_t round_up8(size_t n) {
    return (n + 7) & ~size_t{7};
}

inline uint64_t load_word(const void* storage) {
    return __atomic_load_n(static_cast<const uint64_t*>(storage), __ATOMIC_RELAXED);
}
inline void store_word(void* storage, uint64_t v) {
    __atomic_store_n(static_cast<uint64_t*>(storage), v, __ATOMIC_RELAXED);
}

// Up to 7 bytes as the low bytes of a word (fixed-size copies, so no library call).
inline uint64_t tail_word(const uint8_t* p, size_t n) {
    uint64_t w = 0;
    if (n & 4) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        w = v;
        p += 4;
    }
    if (n & 2) {
        uint16_t v;
        std::memcpy(&v, p, 2);
        w |= uint64_t{v} << ((n & 4) * 8);
        p += 2;
    }
    if (n & 1) w |= uint64_t{*p} << ((n & 6) * 8);
    return w;
}

// Reads `size` bytes of a buffer as words, the last one zero-padded.
inline uint64_t buffer_word(const uint8_t* src, size_t offset, size_t size) {
    if (size - offset >= 8) {
        uint64_t w;
        std::memcpy(&w, src + offset, 8);
        return w;
    }
    return tail_word(src + offset, size - offset);
}

// storage (padded) <- buffer of `size` bytes.
inline void copy_in(void* storage, const void* src, size_t size) {
    auto* dst = static_cast<uint8_t*>(storage);
    const auto* s = static_cast<const uint8_t*>(src);
    for (size_t off = 0; off < size; off += 8)
        store_word(dst + off, buffer_word(s, off, size));
}

// storage (padded) <- zeroes.
inline void zero_storage(void* storage, size_t size) {
    auto* dst = static_cast<uint8_t*>(storage);
    for (size_t off = 0; off < size; off += 8)
        store_word(dst + off, 0);
}

// buffer of `size` bytes <- storage.
inline void copy_out(void* dst, const void* storage, size_t size) {
    auto* d = static_cast<uint8_t*>(dst);
    const auto* src = static_cast<const uint8_t*>(storage);
    size_t off = 0;
    for (; off + 8 <= size; off += 8) {
        uint64_t w = load_word(src + off);
        std::memcpy(d + off, &w, 8);
    }
    if (off < size) {
        uint64_t w = load_word(src + off);
        std::memcpy(d + off, &w, size - off);
    }
}

// storage (padded) <- storage (padded), both `size` bytes rounded up to 8.
inline void copy_storage(void* dst, const void* src, size_t size) {
    auto* d = static_cast<uint8_t*>(dst);
    const auto* s = static_cast<const uint8_t*>(src);
    for (size_t off = 0; off < size; off += 8)
        store_word(d + off, load_word(s + off));
}

// Does storage (padded) hold the `size` bytes of `key`?
inline bool equal_to_buffer(const void* storage, const void* key, size_t size) {
    const auto* st = static_cast<const uint8_t*>(storage);
    const auto* k = static_cast<const uint8_t*>(key);
    for (size_t off = 0; off < size; off += 8) {
        if (load_word(st + off) != buffer_word(k, off, size)) return false;
    }
    return true;
}

}  // namespace xbpf::maps
