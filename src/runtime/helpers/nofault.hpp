// Reading memory the program names by address without trusting it (internal): what Linux's
// *_nofault copies do. bpf_trace_printk's %s and %pI4 take any pointer, which no verifier can
// check, so a bad one must yield an error, not a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace xbpf::helpers {

// Copies `n` bytes from `src`; false if any of them is not readable.
bool read_nofault(void* dst, uintptr_t src, size_t n);
// The NUL-terminated string at `src`, at most `max` bytes; stops early at unreadable memory.
// Returns false when not even the first byte could be read.
bool read_string_nofault(uintptr_t src, size_t max, std::string& out);

}  // namespace xbpf::helpers
