#include "abi/verifier_log.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include "abi/attr.hpp"

namespace xbpf::abi {

int write_log(uint64_t log_buf, uint32_t log_size, const std::string& text) {
    if (log_buf == 0 || log_size == 0) return 0;
    char* out = user_ptr<char>(log_buf);
    const size_t n = std::min<size_t>(text.size(), log_size - 1);
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
    return text.size() + 1 > log_size ? -ENOSPC : 0;
}

bool log_attrs_valid(uint32_t level, uint32_t size, uint64_t buf, uint32_t level_mask) {
    if (level == 0 && size == 0 && buf == 0) return true;
    return size >= 128 && size <= (UINT_MAX >> 2) && level != 0 && buf != 0 &&
           (level & ~level_mask) == 0;
}

}  // namespace xbpf::abi
