// Map regions in files mapped MAP_SHARED (shared_memory.hpp).
#include "runtime/maps/shared_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "runtime/maps/map_memory.hpp"

namespace xbpf::maps {
namespace {

Error system_error(std::string_view what) {
    return Error(fmt::format("{}: {}", what, std::strerror(errno)));
}

// The header page of a map file whose region is `region_size` bytes.
Result<MapFileHeader*> map_header(int fd, size_t region_size) {
    void* p = mmap(nullptr, map_page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   static_cast<off_t>(region_size));
    if (p == MAP_FAILED) return system_error("cannot map the map file's header");
    return static_cast<MapFileHeader*>(p);
}

// Maps the region of `fd` (double-mapped when data_size is not 0) and its header page. On
// failure `error` is the errno.
Result<std::unique_ptr<MapMemory>> map_region(int fd, size_t region_size, size_t head_size,
                                              size_t data_size, bool populate, int& error) {
    auto header = map_header(fd, region_size);
    if (!header.ok()) {
        error = errno;
        return std::move(header).error();
    }
    std::byte* base = nullptr;
    size_t mapped = region_size;
    if (data_size != 0) {
        auto views = map_double_view(fd, head_size, data_size);
        if (!views.ok()) {
            error = ENOMEM;
            munmap(*header, map_page_size());
            return std::move(views).error();
        }
        base = *views;
        mapped += data_size;
    } else {
        void* p = mmap(nullptr, region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            error = errno;
            Error e = system_error(fmt::format("cannot map a {}-byte map region", region_size));
            munmap(*header, map_page_size());
            return e;
        }
        base = static_cast<std::byte*>(p);
        prepare_region(p, region_size, populate);
    }
    return std::unique_ptr<MapMemory>(
        std::make_unique<SharedMapMemory>(base, region_size, mapped, fd, *header));
}

}  // namespace

SharedMapMemory::SharedMapMemory(std::byte* base, size_t size, size_t mapped_size, int fd,
                                 MapFileHeader* header)
    : MapMemory(base, size, mapped_size, fd), header_(header) {}

SharedMapMemory::~SharedMapMemory() {
    munmap(header_, map_page_size());
}

// --- new files ----------------------------------------------------------------------------------

Result<int> SharedMapFiles::create_file(size_t region_size, bool reserve) {
    int fd = open(directory_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, mode_);
    if (fd < 0) {
        const int error = failure_ = errno;
        std::string why = std::strerror(error);
        if (error == EISDIR || error == EOPNOTSUPP) {
            why = "the file system does not support unnamed files (O_TMPFILE)";
        }
        return Error(fmt::format("cannot create a map file in {}: {}", directory_.string(), why));
    }
    const size_t file_size = region_size + map_page_size();
    if (ftruncate(fd, static_cast<off_t>(file_size)) != 0) {
        failure_ = errno;
        Error e = system_error(fmt::format("cannot size a map file in {}", directory_.string()));
        close(fd);
        return e;
    }
    // Allocated now, a full file system is an error here rather than a SIGBUS in a program.
    if (reserve && fallocate(fd, 0, 0, static_cast<off_t>(file_size)) != 0 && errno != EOPNOTSUPP) {
        failure_ = errno;
        Error e = system_error(
            fmt::format("cannot reserve {} bytes for a map in {}", file_size, directory_.string()));
        close(fd);
        return e;
    }
    return fd;
}

Result<std::unique_ptr<MapMemory>> SharedMapFiles::allocate(size_t size, bool populate) {
    const size_t region = round_up_pages(size == 0 ? 1 : size);
    auto fd = create_file(region, populate || reserve_all_);
    if (!fd.ok()) return std::move(fd).error();
    auto memory = map_region(*fd, region, 0, 0, populate, failure_);
    if (!memory.ok()) close(*fd);
    return memory;
}

Result<std::unique_ptr<MapMemory>> SharedMapFiles::allocate_double_mapped(size_t head_size,
                                                                          size_t data_size) {
    const size_t page = map_page_size();
    if (head_size % page != 0 || data_size % page != 0 || data_size == 0) {
        failure_ = EINVAL;
        return Error("double-mapped regions need page-multiple sizes");
    }
    // Rings are preallocated, as in Linux.
    auto fd = create_file(head_size + data_size, true);
    if (!fd.ok()) return std::move(fd).error();
    auto memory = map_region(*fd, head_size + data_size, head_size, data_size, false, failure_);
    if (!memory.ok()) close(*fd);
    return memory;
}

// --- existing files -----------------------------------------------------------------------------

MapFileRegion::~MapFileRegion() {
    if (fd_ >= 0) close(fd_);
}

Result<std::unique_ptr<MapMemory>> MapFileRegion::hand_out(size_t wanted, size_t head_size,
                                                           size_t data_size) {
    if (fd_ < 0) return Error("the map file's region was handed out already");
    if (wanted != region_size_) {
        return Error(fmt::format(
            "the map file holds a {}-byte region but a map of its spec takes {} bytes here "
            "(written by another build of xbpf?)",
            region_size_, wanted));
    }
    // Attached regions are not populated: lazily used pools stay lazy.
    auto memory = map_region(fd_, region_size_, head_size, data_size, false, failure_);
    if (memory.ok()) fd_ = -1;  // now owned by the region
    return memory;
}

Result<std::unique_ptr<MapMemory>> MapFileRegion::allocate(size_t size, bool) {
    return hand_out(round_up_pages(size == 0 ? 1 : size), 0, 0);
}

Result<std::unique_ptr<MapMemory>> MapFileRegion::allocate_double_mapped(size_t head_size,
                                                                         size_t data_size) {
    return hand_out(head_size + data_size, head_size, data_size);
}

}  // namespace xbpf::maps
