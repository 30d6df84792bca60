// Key hashing for hash maps and the bloom filter. Written here rather than taken from a library
// (no xxHash development package is part of the project's dependencies): keys are short and
// hashed on every lookup, so a word-at-a-time multiply-mix with a strong finaliser is what
// matters. Each map has its own random seed (0 with BPF_F_ZERO_SEED, as in Linux) so key sets
// cannot be chosen to collide across runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "runtime/maps/word_copy.hpp"

namespace xbpf::maps {

inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

inline uint64_t hash_bytes(const void* data, size_t size, uint64_t seed) {
    const auto* p = static_cast<const uint8_t*>(data);
    if (size <= 8) {
        // The common short keys (u32, u64, small structs): one mixing round is enough.
        uint64_t w;
        if (size == 8) {
            std::memcpy(&w, p, 8);
        } else {
            w = tail_word(p, size);
        }
        return mix64(w ^ seed ^ (size * 0x9e3779b97f4a7c15ULL));
    }
    uint64_t h = seed ^ (size * 0x9e3779b97f4a7c15ULL);
    size_t off = 0;
    for (; off + 8 <= size; off += 8) {
        uint64_t w;
        std::memcpy(&w, p + off, 8);
        h = (h ^ mix64(w + 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
        h = (h << 27) | (h >> 37);
    }
    if (off < size) {
        const uint64_t w = tail_word(p + off, size - off);
        h = (h ^ mix64(w + 0x94d049bb133111ebULL)) * 0xbf58476d1ce4e5b9ULL;
    }
    return mix64(h);
}

// A fresh random seed (or 0 for BPF_F_ZERO_SEED).
uint64_t new_hash_seed(bool zero_seed);

}  // namespace xbpf::maps
