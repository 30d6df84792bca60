// The Linux bpf(2) system call in user space: the command set of `union bpf_attr` (the uapi
// header <linux/bpf.h> is the specification) over xbpf's runtime, so that programs written for
// the kernel's interface — upstream libbpf, bpftool — run on xbpf unmodified. Nothing here
// reaches the kernel's bpf().
//
// Every object (map, program, link, BTF) is reached through a real file descriptor: a memfd,
// for mmap-able maps the file that holds the map's memory. Objects are identified by the file
// (device and inode), not by the descriptor's number, so close, dup, dup2, fork and SCM_RIGHTS
// behave as with kernel objects. An object no descriptor, pin, link or program refers to any
// more is released lazily, the next time objects are created or listed. docs/bpf-abi.md has
// the design and the list of commands.
//
// Two ways in (docs/bpf-abi.md): link mode (the CMake target xbpf_libbpf: Debian's static
// libbpf with its syscall() routed here) and preload mode (libxbpf-preload.so, `xbpf exec`).
#pragma once

#include <sys/epoll.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace xbpf {

// bpf(cmd, attr, size), as the system call: the result (0, a descriptor, ...) or -1 with errno
// set to what Linux sets for the same call.
long bpf_syscall(int cmd, void* attr, unsigned int size);

namespace abi {

// mmap of an xbpf descriptor, as Linux maps a map (BPF_F_MMAPABLE arrays: the values; ring
// buffers: the consumer page at offset 0, the producer page and the data mapped twice at one
// page). nullopt: `fd` is not an xbpf object (call the real mmap). Otherwise the address or
// MAP_FAILED with errno set as Linux sets it.
// `real_mmap` is the C library's mmap (the entry shims wrap mmap itself).
using MmapFn = void* (*)(void*, size_t, int, int, int, off_t);
std::optional<void*> mmap_object(MmapFn real_mmap, void* addr, size_t length, int prot, int flags,
                                 int fd, off_t offset);

// epoll_ctl of an xbpf descriptor: ring buffers are watched through an eventfd their producers'
// wakeups signal (edge-triggered); other bpf objects cannot be watched (EPERM, as epoll says of
// files it cannot poll). nullopt: `fd` is not an xbpf object (call the real epoll_ctl).
using EpollCtlFn = int (*)(int, int, int, struct epoll_event*);
std::optional<int> epoll_ctl_object(EpollCtlFn real_epoll_ctl, int epfd, int op, int fd,
                                    struct epoll_event* event);

// Whether `fd` refers to an xbpf object; what it is, as /proc/self/fd names a kernel object
// ("anon_inode:bpf-map", "anon_inode:bpf-prog", "anon_inode:bpf-link", "anon_inode:btf").
std::optional<std::string> object_fd_name(int fd);

// The pin namespace: $XBPF_PIN_ROOT, else /run/xbpf for root and $XDG_RUNTIME_DIR/xbpf (or
// /tmp/xbpf-<uid>) otherwise.
std::filesystem::path pin_root();

// Where a bpffs path lives in the pin namespace: /sys/fs/bpf/a/b -> <pin root>/a/b; paths
// already inside the pin root stay; anything else: nullopt (not a bpffs path).
std::optional<std::filesystem::path> pin_path(const std::filesystem::path& path);

// statfs of a bpffs path (see pin_path): the pin namespace's directory (created if missing)
// reported as bpffs (BPF_FS_MAGIC), so tools that check for bpffs go on. nullopt: not a bpffs
// path (call the real statfs); otherwise 0 or -1 with errno.
std::optional<int> statfs_bpffs(const char* path, struct statfs* buf);

// Whether `path` is a bpffs mount point tools try to mount (/sys/fs/bpf or below): mounting
// one is then a no-op that succeeds.
bool is_bpffs_mount_target(const char* target, const char* fstype);

// The file a bpffs path stands for in the pin namespace, for the shims' open/stat/unlink:
// nullopt when the path is not a bpffs path.
std::optional<std::string> redirect_path(const char* path);

}  // namespace abi
}  // namespace xbpf
