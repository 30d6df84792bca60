// Preload mode: libxbpf-preload.so, loaded with LD_PRELOAD (what `xbpf exec` does), routes an
// unmodified, dynamically linked program's bpf() to xbpf by replacing the C library functions
// it reaches the kernel through: syscall(SYS_bpf, ...), mmap of map descriptors, statfs and
// mount of bpffs (the pin namespace stands for /sys/fs/bpf), epoll_ctl of ring buffers, and
// readlink of /proc/self/fd/N,
// which tools read to tell a map descriptor from a program's.
#include <dlfcn.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "abi/shim/raw_syscall.hpp"
#include "abi/shim/route_syscall.hpp"
#include "xbpf/bpf_abi.hpp"

namespace {

using xbpf::abi::raw_syscall6;
using xbpf::abi::syscall_result;

void* kernel_mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
    const long ret = raw_syscall6(SYS_mmap, reinterpret_cast<long>(addr), long(length), prot, flags,
                                  fd, long(offset));
    if (ret < 0 && ret > -4096) {
        errno = static_cast<int>(-ret);
        return MAP_FAILED;
    }
    return reinterpret_cast<void*>(ret);
}

template <typename Fn>
Fn next(const char* name) {
    return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// The descriptor number of "/proc/self/fd/N" (or /proc/<our pid>/fd/N), or -1.
int proc_fd_number(const char* path) {
    if (path == nullptr) return -1;
    std::string p = path;
    const std::string self = "/proc/self/fd/";
    const std::string mine = "/proc/" + std::to_string(getpid()) + "/fd/";
    std::string rest;
    if (p.rfind(self, 0) == 0) {
        rest = p.substr(self.size());
    } else if (p.rfind(mine, 0) == 0) {
        rest = p.substr(mine.size());
    } else {
        return -1;
    }
    if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::atoi(rest.c_str());
}

ssize_t object_link(const char* path, char* buf, size_t size) {
    const int fd = proc_fd_number(path);
    if (fd < 0) return -2;
    auto name = xbpf::abi::object_fd_name(fd);
    if (!name) return -2;
    const size_t n = std::min(size, name->size());
    std::memcpy(buf, name->data(), n);
    return static_cast<ssize_t>(n);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) long syscall(long number, ...) {
    va_list args;
    va_start(args, number);
    const long result = xbpf::abi::route_syscall(number, args, [](long n, const long* a) {
        return syscall_result(raw_syscall6(n, a[0], a[1], a[2], a[3], a[4], a[5]));
    });
    va_end(args);
    return result;
}

__attribute__((visibility("default"))) void* mmap(void* addr, size_t length, int prot, int flags,
                                                  int fd, off_t offset) {
    if (fd >= 0) {
        if (auto mapped =
                xbpf::abi::mmap_object(kernel_mmap, addr, length, prot, flags, fd, offset)) {
            return *mapped;
        }
    }
    return kernel_mmap(addr, length, prot, flags, fd, offset);
}

__attribute__((visibility("default"))) void* mmap64(void* addr, size_t length, int prot, int flags,
                                                    int fd, off_t offset) {
    return mmap(addr, length, prot, flags, fd, offset);
}

__attribute__((visibility("default"))) int statfs(const char* path, struct statfs* buf) {
    if (auto handled = xbpf::abi::statfs_bpffs(path, buf)) return *handled;
    static auto real = next<int (*)(const char*, struct statfs*)>("statfs");
    return real(path, buf);
}

__attribute__((visibility("default"))) int statfs64(const char* path, struct statfs64* buf) {
    // On 64-bit Linux the two structs are the same.
    static_assert(sizeof(struct statfs64) == sizeof(struct statfs));
    return statfs(path, reinterpret_cast<struct statfs*>(buf));
}

__attribute__((visibility("default"))) int mount(const char* source, const char* target,
                                                 const char* fstype, unsigned long flags,
                                                 const void* data) {
    if (xbpf::abi::is_bpffs_mount_target(target, fstype)) return 0;
    static auto real =
        next<int (*)(const char*, const char*, const char*, unsigned long, const void*)>("mount");
    return real(source, target, fstype, flags, data);
}

__attribute__((visibility("default"))) int epoll_ctl(int epfd, int op, int fd,
                                                     struct epoll_event* event) {
    static auto real = next<int (*)(int, int, int, struct epoll_event*)>("epoll_ctl");
    if (auto handled = xbpf::abi::epoll_ctl_object(real, epfd, op, fd, event)) return *handled;
    return real(epfd, op, fd, event);
}

__attribute__((visibility("default"))) ssize_t readlink(const char* path, char* buf, size_t size) {
    if (ssize_t n = object_link(path, buf, size); n != -2) return n;
    static auto real = next<ssize_t (*)(const char*, char*, size_t)>("readlink");
    return real(path, buf, size);
}

__attribute__((visibility("default"))) ssize_t readlinkat(int dirfd, const char* path, char* buf,
                                                          size_t size) {
    if (ssize_t n = object_link(path, buf, size); n != -2) return n;
    static auto real = next<ssize_t (*)(int, const char*, char*, size_t)>("readlinkat");
    return real(dirfd, path, buf, size);
}
}
