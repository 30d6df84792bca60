#include "abi/map_files.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace xbpf::abi {

int identity_file(const char* name) {
    const int fd = memfd_create(name, MFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

Result<std::unique_ptr<MapMemory>> MemfdMapMemory::allocate(size_t size, bool populate) {
    const size_t page = map_page_size();
    const size_t mapped = (std::max<size_t>(size, 1) + page - 1) / page * page;
    const int fd = memfd_create("xbpf-map", MFD_CLOEXEC);
    if (fd < 0) return Error(fmt::format("memfd_create: {}", std::strerror(errno)));
    if (ftruncate(fd, static_cast<off_t>(mapped)) != 0) {
        Error e(
            fmt::format("cannot size a map's file to {} bytes: {}", mapped, std::strerror(errno)));
        close(fd);
        return e;
    }
    void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                   MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
    if (p == MAP_FAILED) {
        Error e(fmt::format("cannot map {} bytes for a map: {}", mapped, std::strerror(errno)));
        close(fd);
        return e;
    }
    if (first_fd_ < 0) {
        first_fd_ = fd;
        first_base_ = static_cast<std::byte*>(p);
    }
    return std::make_unique<MapMemory>(static_cast<std::byte*>(p), mapped, mapped, fd);
}

Result<std::unique_ptr<MapMemory>> MemfdMapMemory::allocate_double_mapped(size_t head_size,
                                                                          size_t data_size) {
    // The default provider's double mapping already lives in a memfd.
    auto region = private_map_memory()->allocate_double_mapped(head_size, data_size);
    if (region && first_fd_ < 0) {
        first_fd_ = (*region)->fd();
        first_base_ = (*region)->data();
    }
    return region;
}

}  // namespace xbpf::abi
