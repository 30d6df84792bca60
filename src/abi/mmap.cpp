// mmap of map descriptors, and what /proc/self/fd would call an object's descriptor.
#include <sys/mman.h>

#include <cerrno>

#include "abi/object_table.hpp"
#include "xbpf/bpf_abi.hpp"

namespace xbpf::abi {
namespace {

void* failed(int err) {
    errno = err;
    return MAP_FAILED;
}

// Linux maps a ring buffer in two parts: the consumer page (read-write) at offset 0, and from
// one page on the producer page followed by the data area twice, read-only.
void* map_ring(MmapFn real, const MapObject& m, void* addr, size_t length, int prot, int flags,
               int fd, off_t offset) {
    const size_t page = map_page_size();
    const auto file_base = static_cast<off_t>(m.mmap_file_offset);
    if (offset == 0) {
        if (length > page) return failed(EPERM);
        return real(addr, length, prot, flags, fd, file_base);
    }
    if (static_cast<size_t>(offset) != page || (prot & PROT_WRITE) != 0) return failed(EPERM);
    const size_t data = m.map->max_entries();
    if (length > page + 2 * data) return failed(EINVAL);
    // The file holds the data once: reserve the range, then map the data's second view.
    auto* base = static_cast<std::byte*>(
        real(addr, length, PROT_NONE, (flags & MAP_FIXED) | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base == MAP_FAILED) return MAP_FAILED;
    const size_t first = std::min(length, page + data);
    if (real(base, first, prot, MAP_SHARED | MAP_FIXED, fd, file_base + off_t(page)) ==
        MAP_FAILED) {
        const int e = errno;
        munmap(base, length);
        return failed(e);
    }
    if (length > first && real(base + first, length - first, prot, MAP_SHARED | MAP_FIXED, fd,
                               file_base + off_t(2 * page)) == MAP_FAILED) {
        const int e = errno;
        munmap(base, length);
        return failed(e);
    }
    return base;
}

}  // namespace

std::optional<void*> mmap_object(MmapFn real, void* addr, size_t length, int prot, int flags,
                                 int fd, off_t offset) {
    auto [object, err] = ObjectTable::instance().get(fd);
    if (err != 0) return std::nullopt;
    if (object->kind != ObjectKind::Map) return failed(ENODEV);
    const auto& m = static_cast<const MapObject&>(*object);
    if (!m.mmapable) return failed(m.map->type() == MapType::Array ? EINVAL : kENOTSUPP);
    if ((flags & MAP_SHARED) == 0) return failed(EINVAL);
    if ((prot & PROT_WRITE) != 0 && m.map->frozen()) return failed(EPERM);
    if (m.ring) return map_ring(real, m, addr, length, prot, flags, fd, offset);
    return real(addr, length, prot, flags, fd, offset + static_cast<off_t>(m.mmap_file_offset));
}

std::optional<std::string> object_fd_name(int fd) {
    auto [object, err] = ObjectTable::instance().get(fd);
    if (err != 0) return std::nullopt;
    switch (object->kind) {
        case ObjectKind::Map: return "anon_inode:bpf-map";
        case ObjectKind::Program: return "anon_inode:bpf-prog";
        case ObjectKind::Link: return "anon_inode:bpf_link";
        case ObjectKind::Btf: return "anon_inode:btf";
    }
    return std::nullopt;
}

}  // namespace xbpf::abi
