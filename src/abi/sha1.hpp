// SHA-1 (nettle), for program tags: Linux's tag is the first 8 bytes of the SHA-1 of the
// program's instructions with map references zeroed.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace xbpf::abi {

std::array<uint8_t, 20> sha1(std::span<const uint8_t> data);

}  // namespace xbpf::abi
