#include "runtime/helpers/checksum.hpp"

#include <cstring>

namespace xbpf::helpers::csum {

uint32_t partial(const uint8_t* data, size_t len, uint32_t seed) {
    // Summing 32-bit words into 64 bits and folding once is the same one's complement sum as
    // adding them with end-around carry one by one.
    uint64_t sum = seed;
    for (size_t i = 0; i + 4 <= len; i += 4) {
        uint32_t word;
        std::memcpy(&word, data + i, 4);
        sum += word;
    }
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    return static_cast<uint32_t>(sum);
}

void replace4(uint16_t* field, uint32_t from, uint32_t to) {
    uint16_t old;
    std::memcpy(&old, field, 2);
    const uint16_t updated = fold(add(sub(static_cast<uint16_t>(~old), from), to));
    std::memcpy(field, &updated, 2);
}

void replace2(uint16_t* field, uint16_t from, uint16_t to) {
    replace4(field, from, to);
}

void replace_by_diff(uint16_t* field, uint32_t diff) {
    uint16_t old;
    std::memcpy(&old, field, 2);
    const uint16_t updated = fold(add(diff, static_cast<uint16_t>(~old)));
    std::memcpy(field, &updated, 2);
}

}  // namespace xbpf::helpers::csum
