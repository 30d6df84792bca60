// Internet checksum arithmetic as Linux's csum_* functions define it (internal): 32-bit
// partial sums (__wsum) with end-around carry, folded to the 16-bit one's complement checksum
// stored in headers. Values are the bytes as they lie in memory, read on a little-endian host.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xbpf::helpers::csum {

inline uint32_t add(uint32_t a, uint32_t b) {
    const uint64_t s = static_cast<uint64_t>(a) + b;
    return static_cast<uint32_t>(s + (s >> 32));
}
inline uint32_t sub(uint32_t a, uint32_t b) {
    return add(a, ~b);
}
// The 16-bit checksum of a partial sum: folded and complemented.
inline uint16_t fold(uint32_t sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}
// A partial sum of `len` bytes (a multiple of 4) plus `seed`.
uint32_t partial(const uint8_t* data, size_t len, uint32_t seed);

// In-place updates of a checksum field (csum_replace4/2 and csum_replace_by_diff).
void replace4(uint16_t* field, uint32_t from, uint32_t to);
void replace2(uint16_t* field, uint16_t from, uint16_t to);
void replace_by_diff(uint16_t* field, uint32_t diff);

}  // namespace xbpf::helpers::csum
