// bpf_strtol, bpf_strtoul and bpf_strncmp with Linux's parsing rules and errors.
#include <linux/bpf.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>

#include "runtime/helpers/implementations.hpp"

namespace xbpf::helpers {
namespace {

constexpr uint64_t kBaseMask = 0x1f;  // BPF_STRTOX_BASE_MASK

uint64_t error(int e) {
    return static_cast<uint64_t>(static_cast<int64_t>(-e));
}

// Parses an unsigned number from buf[0, len): leading spaces, an optional '-' (reported in
// `negative`), a radix prefix as the base allows, digits. Returns the characters consumed or a
// negative errno.
int64_t parse(const char* buf, size_t len, uint64_t flags, bool& negative, uint64_t& value) {
    if ((flags & ~kBaseMask) != 0 || len == 0) return -EINVAL;
    unsigned base = static_cast<unsigned>(flags & kBaseMask);
    if (base != 0 && base != 8 && base != 10 && base != 16) return -EINVAL;
    size_t i = 0;
    auto at = [&](size_t k) { return k < len ? buf[k] : '\0'; };
    while (i < len && buf[i] != '\0' && std::isspace(static_cast<unsigned char>(buf[i])))
        ++i;
    negative = at(i) == '-';
    if (negative) ++i;
    const bool hex_prefix = at(i) == '0' &&
                            std::tolower(static_cast<unsigned char>(at(i + 1))) == 'x' &&
                            std::isxdigit(static_cast<unsigned char>(at(i + 2)));
    if (base == 0) base = hex_prefix ? 16 : at(i) == '0' ? 8 : 10;
    if (base == 16 && hex_prefix) i += 2;
    const size_t digits_start = i;
    value = 0;
    for (; i < len; ++i) {
        const int c = std::tolower(static_cast<unsigned char>(buf[i]));
        unsigned digit;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else {
            break;
        }
        if (digit >= base) break;
        if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) return -ERANGE;
        value = value * base + digit;
    }
    if (i == digits_start) return -EINVAL;
    return static_cast<int64_t>(i);
}

uint64_t strtol(uint64_t buf, uint64_t len, uint64_t flags, uint64_t res, uint64_t, RunContext&) {
    bool negative = false;
    uint64_t value = 0;
    const int64_t n = parse(reinterpret_cast<const char*>(static_cast<uintptr_t>(buf)), len, flags,
                            negative, value);
    if (n < 0) return static_cast<uint64_t>(n);
    int64_t result;
    if (negative) {
        if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1)
            return error(ERANGE);
        result = static_cast<int64_t>(0 - value);
    } else {
        if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return error(ERANGE);
        result = static_cast<int64_t>(value);
    }
    std::memcpy(reinterpret_cast<void*>(static_cast<uintptr_t>(res)), &result, 8);
    return static_cast<uint64_t>(n);
}

uint64_t strtoul(uint64_t buf, uint64_t len, uint64_t flags, uint64_t res, uint64_t, RunContext&) {
    bool negative = false;
    uint64_t value = 0;
    const int64_t n = parse(reinterpret_cast<const char*>(static_cast<uintptr_t>(buf)), len, flags,
                            negative, value);
    if (n < 0) return static_cast<uint64_t>(n);
    if (negative) return error(EINVAL);
    std::memcpy(reinterpret_cast<void*>(static_cast<uintptr_t>(res)), &value, 8);
    return static_cast<uint64_t>(n);
}

// Linux's strncmp: -1, 0 or 1, comparing bytes as unsigned.
uint64_t strncmp_helper(uint64_t s1, uint64_t s1_size, uint64_t s2, uint64_t, uint64_t,
                        RunContext&) {
    const auto* a = reinterpret_cast<const unsigned char*>(static_cast<uintptr_t>(s1));
    const auto* b = reinterpret_cast<const unsigned char*>(static_cast<uintptr_t>(s2));
    for (uint64_t i = 0; i < s1_size; ++i) {
        if (a[i] != b[i]) return a[i] < b[i] ? static_cast<uint64_t>(-1) : 1;
        if (a[i] == 0) break;
    }
    return 0;
}

}  // namespace

void add_string_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_strtol, strtol});
    out.push_back({BPF_FUNC_strtoul, strtoul});
    out.push_back({BPF_FUNC_strncmp, strncmp_helper});
}

}  // namespace xbpf::helpers
