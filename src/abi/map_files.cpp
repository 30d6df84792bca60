#include "abi/map_files.hpp"

#include <sys/mman.h>

#include <cerrno>

namespace xbpf::abi {

int identity_file(const char* name) {
    const int fd = memfd_create(name, MFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

}  // namespace xbpf::abi
