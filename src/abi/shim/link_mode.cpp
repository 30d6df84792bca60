// Link mode: a program linked with the xbpf_libbpf target gets Debian's static libbpf with its
// system calls wrapped (-Wl,--wrap=...): bpf() goes to xbpf, mmap of map descriptors maps the
// maps' memory, and bpffs checks see the pin namespace. Everything else reaches the C library.
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#include <cstdarg>

#include "abi/shim/route_syscall.hpp"
#include "xbpf/bpf_abi.hpp"

extern "C" {
long __real_syscall(long number, ...);
void* __real_mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset);
void* __real_mmap64(void* addr, size_t length, int prot, int flags, int fd, off_t offset);
int __real_statfs(const char* path, struct statfs* buf);
int __real_statfs64(const char* path, struct statfs64* buf);
int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event* event);

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
    if (auto handled = xbpf::abi::epoll_ctl_object(__real_epoll_ctl, epfd, op, fd, event)) {
        return *handled;
    }
    return __real_epoll_ctl(epfd, op, fd, event);
}

long __wrap_syscall(long number, ...) {
    va_list args;
    va_start(args, number);
    const long result = xbpf::abi::route_syscall(number, args, [](long n, const long* a) {
        return __real_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
    });
    va_end(args);
    return result;
}

void* __wrap_mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
    if (fd >= 0) {
        if (auto mapped =
                xbpf::abi::mmap_object(__real_mmap, addr, length, prot, flags, fd, offset)) {
            return *mapped;
        }
    }
    return __real_mmap(addr, length, prot, flags, fd, offset);
}

// libbpf is built with 64-bit file offsets: its calls name mmap64 and statfs64, which on 64-bit
// Linux take the same arguments as mmap and statfs.
void* __wrap_mmap64(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
    if (fd >= 0) {
        if (auto mapped =
                xbpf::abi::mmap_object(__real_mmap64, addr, length, prot, flags, fd, offset)) {
            return *mapped;
        }
    }
    return __real_mmap64(addr, length, prot, flags, fd, offset);
}

int __wrap_statfs64(const char* path, struct statfs64* buf) {
    static_assert(sizeof(struct statfs64) == sizeof(struct statfs));
    if (auto handled = xbpf::abi::statfs_bpffs(path, reinterpret_cast<struct statfs*>(buf))) {
        return *handled;
    }
    return __real_statfs64(path, buf);
}

int __wrap_statfs(const char* path, struct statfs* buf) {
    if (auto handled = xbpf::abi::statfs_bpffs(path, buf)) return *handled;
    return __real_statfs(path, buf);
}
}
