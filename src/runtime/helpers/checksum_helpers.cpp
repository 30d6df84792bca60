// bpf_csum_diff, bpf_l3_csum_replace and bpf_l4_csum_replace, with Linux's checks.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "runtime/helpers/checksum.hpp"
#include "runtime/helpers/implementations.hpp"
#include "runtime/progtypes/native_contexts.hpp"

namespace xbpf::helpers {
namespace {

constexpr uint64_t kMaxDiffBytes = 512;    // Linux's per-CPU scratch of 128 words
constexpr uint16_t kMangledZero = 0xffff;  // CSUM_MANGLED_0

uint64_t error(int e) {
    return static_cast<uint64_t>(static_cast<int64_t>(-e));
}

uint64_t csum_diff(uint64_t from, uint64_t from_size, uint64_t to, uint64_t to_size, uint64_t seed,
                   RunContext&) {
    if (((from_size | to_size) & 3) != 0 || from_size + to_size > kMaxDiffBytes)
        return error(EINVAL);
    uint8_t diff[kMaxDiffBytes];
    const auto* f = reinterpret_cast<const uint8_t*>(static_cast<uintptr_t>(from));
    for (uint64_t i = 0; i < from_size; ++i)
        diff[i] = static_cast<uint8_t>(~f[i]);
    if (to_size != 0)
        std::memcpy(diff + from_size, reinterpret_cast<const void*>(static_cast<uintptr_t>(to)),
                    to_size);
    return csum::partial(diff, from_size + to_size, static_cast<uint32_t>(seed));
}

// The checksum field at `offset` of the packet, or an errno.
uint16_t* checksum_field(progtypes::NativeSkb& skb, uint64_t offset, int& err) {
    const auto offset32 = static_cast<uint32_t>(offset);
    if (offset32 > 0xffff || (offset32 & 1) != 0 ||
        offset32 + 2 > static_cast<uint64_t>(skb.data_end - skb.data)) {
        err = EFAULT;
        return nullptr;
    }
    return reinterpret_cast<uint16_t*>(skb.data + offset32);
}

// Both helpers update a checksum by a 2- or 4-byte field change, or by a csum_diff result.
int replace(uint16_t* field, uint64_t from, uint64_t to, uint64_t flags) {
    switch (flags & BPF_F_HDR_FIELD_MASK) {
        case 0:
            if (from != 0) return EINVAL;
            csum::replace_by_diff(field, static_cast<uint32_t>(to));
            return 0;
        case 2:
            csum::replace2(field, static_cast<uint16_t>(from), static_cast<uint16_t>(to));
            return 0;
        case 4:
            csum::replace4(field, static_cast<uint32_t>(from), static_cast<uint32_t>(to));
            return 0;
        default: return EINVAL;
    }
}

uint64_t l3_csum_replace(uint64_t ctx, uint64_t offset, uint64_t from, uint64_t to, uint64_t flags,
                         RunContext&) {
    if ((flags & ~static_cast<uint64_t>(BPF_F_HDR_FIELD_MASK)) != 0) return error(EINVAL);
    int err = 0;
    uint16_t* field = checksum_field(
        *reinterpret_cast<progtypes::NativeSkb*>(static_cast<uintptr_t>(ctx)), offset, err);
    if (field == nullptr) return error(err);
    err = replace(field, from, to, flags);
    return err == 0 ? 0 : error(err);
}

uint64_t l4_csum_replace(uint64_t ctx, uint64_t offset, uint64_t from, uint64_t to, uint64_t flags,
                         RunContext&) {
    constexpr uint64_t kAllowed = BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR |
                                  BPF_F_IPV6 | BPF_F_HDR_FIELD_MASK;
    if ((flags & ~kAllowed) != 0) return error(EINVAL);
    int err = 0;
    uint16_t* field = checksum_field(
        *reinterpret_cast<progtypes::NativeSkb*>(static_cast<uintptr_t>(ctx)), offset, err);
    if (field == nullptr) return error(err);
    const bool mangled_zero = (flags & BPF_F_MARK_MANGLED_0) != 0;
    uint16_t current;
    std::memcpy(&current, field, 2);
    // A UDP checksum of zero means "none": leave it unless told to enforce one.
    if (mangled_zero && (flags & BPF_F_MARK_ENFORCE) == 0 && current == 0) return 0;
    // xbpf's packets carry complete checksums (no offload), so the pseudo-header flag changes
    // nothing in the field itself.
    err = replace(field, from, to, flags);
    if (err != 0) return error(err);
    std::memcpy(&current, field, 2);
    if (mangled_zero && current == 0) std::memcpy(field, &kMangledZero, 2);
    return 0;
}

}  // namespace

void add_checksum_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_csum_diff, csum_diff});
    out.push_back({BPF_FUNC_l3_csum_replace, l3_csum_replace});
    out.push_back({BPF_FUNC_l4_csum_replace, l4_csum_replace});
}

}  // namespace xbpf::helpers
