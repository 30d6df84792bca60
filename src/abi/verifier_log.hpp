// The verifier's report as BPF_PROG_LOAD returns it in log_buf.
#pragma once

#include <cstdint>
#include <string>

namespace xbpf::abi {

// BPF_LOG_FIXED (Linux 6.4): keep the start of a log that does not fit instead of its end.
inline constexpr uint32_t kLogFixed = 8;

// Writes `text` to the caller's log buffer (log_buf, log_size bytes, always NUL-terminated) as
// Linux (6.4 on) does: 0 when it fits; when it does not, the end of the text (the start with
// BPF_LOG_FIXED) and -ENOSPC.
int write_log(uint64_t log_buf, uint32_t log_size, uint32_t log_level, const std::string& text);

// Linux's checks of log_level/log_size/log_buf (false: EINVAL): buffer and size together, a
// buffer only with a level, known level bits, a size below 2^30.
bool log_attrs_valid(uint32_t level, uint32_t size, uint64_t buf, uint32_t level_mask);

}  // namespace xbpf::abi
