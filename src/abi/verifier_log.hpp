// The verifier's report as BPF_PROG_LOAD returns it in log_buf.
#pragma once

#include <cstdint>
#include <string>

namespace xbpf::abi {

// Writes `text` to the caller's log buffer (log_buf, log_size bytes, always NUL-terminated)
// as Linux 6.1 does: 0 when it fits, -ENOSPC when it had to be truncated.
int write_log(uint64_t log_buf, uint32_t log_size, const std::string& text);

// Linux's checks of log_level/log_size/log_buf (EINVAL when they are inconsistent): a log is
// requested with all three, or none of them.
bool log_attrs_valid(uint32_t level, uint32_t size, uint64_t buf, uint32_t level_mask);

}  // namespace xbpf::abi
