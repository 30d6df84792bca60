#include "runtime/helpers/bpf_printf.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdio>

#include "runtime/helpers/nofault.hpp"

namespace xbpf::helpers {
namespace {

// Linux bounds the strings %s copies by its format buffer.
constexpr size_t kMaxStringArgument = 512;

bool is_punct_or_end(char c) {
    return c == 0 || std::isspace(static_cast<unsigned char>(c)) ||
           std::ispunct(static_cast<unsigned char>(c));
}

// printf of one conversion with the flags and width the format gave.
template <typename T>
std::string c_format(const std::string& spec, T value) {
    char buf[640];
    const int n = std::snprintf(buf, sizeof buf, spec.c_str(), value);
    return std::string(buf, static_cast<size_t>(std::max(0, std::min<int>(n, sizeof buf - 1))));
}

std::string format_ip(uintptr_t address, bool v6, bool colons) {
    uint8_t b[16] = {};
    if (!read_nofault(b, address, v6 ? 16 : 4)) return "(efault)";
    if (!v6) return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
    std::string out;
    for (int i = 0; i < 16; i += 2) {
        if (colons && i != 0) out += ':';
        out += fmt::format("{:02x}{:02x}", b[i], b[i + 1]);
    }
    return out;
}

}  // namespace

Formatted bpf_printf(std::string_view f, std::span<const uint64_t> args) {
    Formatted out;
    size_t used = 0;
    auto at = [&f](size_t i) { return i < f.size() ? f[i] : '\0'; };
    for (size_t i = 0; i < f.size(); ++i) {
        const char c = f[i];
        if ((!std::isprint(static_cast<unsigned char>(c)) &&
             !std::isspace(static_cast<unsigned char>(c))) ||
            static_cast<unsigned char>(c) > 127) {
            return {-EINVAL, {}};
        }
        if (c != '%') {
            out.text += c;
            continue;
        }
        if (at(i + 1) == '%') {
            out.text += '%';
            ++i;
            continue;
        }
        if (used >= args.size()) return {-EINVAL, {}};
        const uint64_t arg = args[used++];
        std::string spec = "%";
        ++i;
        while (at(i) == '0' || at(i) == '+' || at(i) == '-' || at(i) == ' ')
            spec += f[i++];
        while (at(i) >= '0' && at(i) <= '9')
            spec += f[i++];
        const char conv = at(i);
        if (conv == 'p') {
            const char next = at(i + 1);
            if ((next == 'k' || next == 'u') && at(i + 2) == 's') {
                i += 2;
                if (!is_punct_or_end(at(i + 1))) return {-EINVAL, {}};
                std::string s;
                read_string_nofault(static_cast<uintptr_t>(arg), kMaxStringArgument, s);
                out.text += c_format(spec + "s", s.c_str());
                continue;
            }
            if (next == 'i' || next == 'I') {
                const char version = at(i + 2);
                if (version != '4' && version != '6') return {-EINVAL, {}};
                i += 2;
                out.text += c_format(
                    spec + "s",
                    format_ip(static_cast<uintptr_t>(arg), version == '6', next == 'I').c_str());
                continue;
            }
            if (next == 'K' || next == 'x' || next == 's' || next == 'S') {
                ++i;
            } else if (!is_punct_or_end(next)) {
                return {-EINVAL, {}};
            }
            // Pointers print as their raw value (Linux hashes plain %p; xbpf has nothing to hide
            // from its own process).
            out.text += c_format(spec + "llx", static_cast<unsigned long long>(arg));
            continue;
        }
        if (conv == 's') {
            if (!is_punct_or_end(at(i + 1))) return {-EINVAL, {}};
            std::string s;
            read_string_nofault(static_cast<uintptr_t>(arg), kMaxStringArgument, s);
            out.text += c_format(spec + "s", s.c_str());
            continue;
        }
        if (conv == 'c') {
            out.text += c_format(spec + "c", static_cast<int>(static_cast<unsigned char>(arg)));
            continue;
        }
        int width = 4;
        if (at(i) == 'l') {
            width = 8;
            ++i;
        }
        if (at(i) == 'l') ++i;
        const char kind = at(i);
        if (kind != 'd' && kind != 'i' && kind != 'u' && kind != 'x' && kind != 'X')
            return {-EINVAL, {}};
        if (kind == 'd' || kind == 'i') {
            const long long v = width == 8 ? static_cast<long long>(arg)
                                           : static_cast<int32_t>(static_cast<uint32_t>(arg));
            out.text += c_format(spec + "lld", v);
        } else {
            const unsigned long long v = width == 8 ? arg : static_cast<uint32_t>(arg);
            out.text += c_format(spec + "ll" + kind, v);
        }
    }
    return out;
}

}  // namespace xbpf::helpers
