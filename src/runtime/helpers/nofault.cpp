// process_vm_readv on the process itself copies memory with the kernel's fault handling: an
// unmapped address gives EFAULT instead of a signal.
#include "runtime/helpers/nofault.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace xbpf::helpers {

bool read_nofault(void* dst, uintptr_t src, size_t n) {
    if (n == 0) return true;
    iovec local{dst, n};
    iovec remote{reinterpret_cast<void*>(src), n};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
}

bool read_string_nofault(uintptr_t src, size_t max, std::string& out) {
    out.clear();
    constexpr size_t kPage = 4096;
    char chunk[kPage];
    while (out.size() < max) {
        // Never read across a page boundary at once: the next page may be unmapped while the
        // string ends before it.
        const size_t to_page_end = kPage - (src % kPage);
        const size_t n = std::min({to_page_end, max - out.size(), sizeof chunk});
        if (!read_nofault(chunk, src, n)) return !out.empty();
        const size_t len = strnlen(chunk, n);
        out.append(chunk, len);
        if (len < n) return true;
        src += n;
    }
    return true;
}

}  // namespace xbpf::helpers
