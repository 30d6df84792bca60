// SHA-1 from nettle (Debian's libnettle): a well-kept implementation rather than our own.
#include "abi/sha1.hpp"

#include <nettle/sha1.h>

namespace xbpf::abi {

std::array<uint8_t, 20> sha1(std::span<const uint8_t> data) {
    static_assert(SHA1_DIGEST_SIZE == 20);
    sha1_ctx context;
    sha1_init(&context);
    sha1_update(&context, data.size(), data.data());
    std::array<uint8_t, 20> digest{};
    sha1_digest(&context, digest.size(), digest.data());
    return digest;
}

}  // namespace xbpf::abi
