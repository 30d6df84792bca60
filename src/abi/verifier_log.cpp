#include "abi/verifier_log.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include "abi/attr.hpp"

namespace xbpf::abi {

int write_log(uint64_t log_buf, uint32_t log_size, uint32_t log_level, const std::string& text) {
    if (log_buf == 0 || log_size == 0) return 0;
    char* out = user_ptr<char>(log_buf);
    const size_t n = std::min<size_t>(text.size(), log_size - 1);
    // A rotating log keeps the end of the text (where the verdict is); BPF_LOG_FIXED the start.
    const size_t from = (log_level & kLogFixed) != 0 ? 0 : text.size() - n;
    std::memcpy(out, text.data() + from, n);
    out[n] = '\0';
    return text.size() + 1 > log_size ? -ENOSPC : 0;
}

bool log_attrs_valid(uint32_t level, uint32_t size, uint64_t buf, uint32_t level_mask) {
    if ((buf != 0) != (size != 0)) return false;  // buffer and size come together
    if (buf != 0 && level == 0) return false;     // a buffer without a level means nothing
    return (level & ~level_mask) == 0 && size <= (UINT_MAX >> 2);
}

}  // namespace xbpf::abi
