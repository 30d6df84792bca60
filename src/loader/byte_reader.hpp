// Bounds-checked little-endian reads from untrusted bytes.
//
// Objects are little-endian whatever the host is, and their fields may sit at any alignment, so
// every multi-byte field is assembled byte by byte. Callers check a range with `has` before
// reading it; the readers themselves never look outside the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace xbpf::loader {

class ByteReader {
  public:
    ByteReader() = default;
    explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    size_t size() const { return bytes_.size(); }
    std::span<const uint8_t> bytes() const { return bytes_; }

    // True when [offset, offset + length) lies inside the bytes (no overflow possible).
    bool has(uint64_t offset, uint64_t length) const {
        return offset <= bytes_.size() && length <= bytes_.size() - offset;
    }
    // The sub-range [offset, offset + length); callers check `has` first.
    std::span<const uint8_t> slice(uint64_t offset, uint64_t length) const {
        return bytes_.subspan(static_cast<size_t>(offset), static_cast<size_t>(length));
    }

    uint8_t u8(uint64_t offset) const { return has(offset, 1) ? bytes_[offset] : 0; }
    uint16_t u16(uint64_t offset) const { return static_cast<uint16_t>(le(offset, 2)); }
    uint32_t u32(uint64_t offset) const { return static_cast<uint32_t>(le(offset, 4)); }
    int32_t s32(uint64_t offset) const { return static_cast<int32_t>(u32(offset)); }
    uint64_t u64(uint64_t offset) const { return le(offset, 8); }

  private:
    // Reads `width` bytes as a little-endian number; 0 when out of range (callers check).
    uint64_t le(uint64_t offset, unsigned width) const {
        if (!has(offset, width)) return 0;
        uint64_t value = 0;
        for (unsigned i = 0; i < width; ++i) {
            value |= static_cast<uint64_t>(bytes_[static_cast<size_t>(offset) + i]) << (8 * i);
        }
        return value;
    }

    std::span<const uint8_t> bytes_;
};

}  // namespace xbpf::loader
