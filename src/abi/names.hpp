// Object names as bpf(2) takes them (map_name, prog_name: BPF_OBJ_NAME_LEN bytes).
#pragma once

#include <linux/bpf.h>

#include <cctype>
#include <optional>
#include <string>

namespace xbpf::abi {

// The name, or nullopt when Linux refuses it (EINVAL): no NUL within BPF_OBJ_NAME_LEN bytes,
// or a character other than letters, digits, '_' and '.'.
inline std::optional<std::string> object_name(const char (&raw)[BPF_OBJ_NAME_LEN]) {
    std::string name;
    for (char c : raw) {
        if (c == '\0') return name;
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') {
            return std::nullopt;
        }
        name.push_back(c);
    }
    return std::nullopt;
}

// Copies a name into a BPF_OBJ_NAME_LEN field of an info struct (NUL-terminated, truncated).
inline void put_name(char (&out)[BPF_OBJ_NAME_LEN], const std::string& name) {
    const size_t n = std::min(name.size(), size_t(BPF_OBJ_NAME_LEN - 1));
    name.copy(out, n);
    out[n] = '\0';
}

}  // namespace xbpf::abi
