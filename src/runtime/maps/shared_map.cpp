// create_shared_map, pin_map, open_pinned_map (xbpf/map_shared.hpp): maps built over regions in
// map files (shared_memory.hpp), named by hard links, attached to again from their header.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "runtime/maps/map_factories.hpp"
#include "runtime/maps/shared_memory.hpp"
#include "xbpf/linux_names.hpp"
#include "xbpf/map_shared.hpp"

namespace xbpf {
namespace {

const maps::SharedMapMemory* shared_memory_of(const Map& map) {
    return dynamic_cast<const maps::SharedMapMemory*>(map.storage());
}

// Records the errno for the caller and returns the error.
Error fail(int* error_number, int error, Error e) {
    if (error_number != nullptr) *error_number = error;
    return e;
}

std::string map_label(const MapSpec& spec) {
    return spec.name.empty() ? std::string("map") : "map " + spec.name;
}

}  // namespace

bool shareable_map_type(MapType type) {
    return maps::region_only_type(type);
}

Result<std::shared_ptr<Map>> create_shared_map(const MapSpec& spec, const SharedMapOptions& options,
                                               int* error_number) {
    if (error_number != nullptr) *error_number = 0;
    if (!shareable_map_type(spec.type)) {
        return fail(error_number, EINVAL,
                    Error(fmt::format("{} maps hold objects of this process and cannot be shared",
                                      map_type_name(spec.type)))
                        .in(map_label(spec)));
    }
    if (auto problem = check_map_spec(spec)) {
        return fail(error_number, problem->error, Error(problem->message).in(map_label(spec)));
    }
    auto files = std::make_shared<maps::SharedMapFiles>(
        options.directory.empty() ? "/dev/shm" : options.directory,
        static_cast<mode_t>(options.mode), options.reserve_all);
    // Shared maps count toward the map memory limit like private ones.
    const auto memory = maps::limited_map_memory(files);
    const uint32_t cpus = nr_cpus();
    auto map = maps::build_region_map(spec, {*memory, cpus, false});
    if (!map.ok()) {
        // Without a file-system errno, the family (or the map memory limit) refused the size:
        // ENOMEM, as Linux says.
        return fail(error_number, files->failure() != 0 ? files->failure() : ENOMEM,
                    std::move(map).error().in(map_label(spec)));
    }
    const maps::SharedMapMemory* region = shared_memory_of(**map);
    maps::write_map_file_header(region->header(), spec, cpus, region->size());
    (*map)->keep_frozen_state_in(region->frozen_word());
    return map;
}

bool is_shared_map(const Map& map) {
    const maps::SharedMapMemory* memory = shared_memory_of(map);
    return memory != nullptr && maps::map_file_header_valid(memory->header());
}

Status pin_map(const Map& map, const std::filesystem::path& path, int* error_number) {
    if (error_number != nullptr) *error_number = 0;
    const std::string where = "pin " + path.string();
    if (!is_shared_map(map)) {
        return fail(error_number, EINVAL,
                    Error(fmt::format("{} is not in shared memory (create it with "
                                      "create_shared_map to pin it)",
                                      map_label(map.spec())))
                        .in(where));
    }
    // A file made with O_TMPFILE (and not O_EXCL) may be linked through /proc/self/fd without
    // privileges; AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH.
    const int fd = map.storage()->fd();
    const std::string self = fmt::format("/proc/self/fd/{}", fd);
    if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0) return {};
    const int error = errno;
    std::string why = std::strerror(error);
    if (error == EEXIST) {
        why = "the path exists";
    } else if (error == EXDEV) {
        why =
            "the map's file is on another file system (create the map with "
            "SharedMapOptions::directory on the pin path's file system)";
    } else if (error == ENOENT) {
        struct stat st {};
        const std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
        if (stat(dir.c_str(), &st) != 0) {
            why = fmt::format("directory {} does not exist", dir.string());
        } else if (fstat(fd, &st) == 0 && st.st_nlink == 0 && access(self.c_str(), F_OK) == 0) {
            why = "the map's file had names and lost them all; it cannot be named again";
        } else if (access("/proc/self/fd", F_OK) != 0) {
            why = "pinning needs /proc mounted";
        }
    }
    return fail(error_number, error, Error(why).in(where));
}

Result<std::shared_ptr<Map>> open_shared_map(int fd, int* error_number) {
    if (error_number != nullptr) *error_number = 0;
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        const int error = errno;
        return fail(error_number, error, Error(fmt::format("fstat: {}", std::strerror(error))));
    }
    if (!S_ISREG(st.st_mode)) return fail(error_number, EINVAL, Error("not a map file"));
    const auto file_size = static_cast<uint64_t>(st.st_size);
    const size_t page = map_page_size();
    if (file_size < 2 * page || file_size % page != 0) {
        return fail(error_number, EINVAL,
                    Error(fmt::format("map file is {} bytes, not a whole number of pages with a "
                                      "header page (truncated, or not a map file)",
                                      file_size)));
    }
    maps::MapFileHeader header{};
    const auto got = pread(fd, &header, sizeof header, static_cast<off_t>(file_size - page));
    if (got != static_cast<ssize_t>(sizeof header)) {
        return fail(error_number, got < 0 ? errno : EINVAL,
                    Error("cannot read the map file's header"));
    }
    auto info = maps::read_map_file_header(header, file_size);
    if (!info.ok()) return fail(error_number, EINVAL, std::move(info).error());
    const MapSpec& spec = info->spec;
    const bool percpu = spec.type == MapType::PercpuArray || spec.type == MapType::PercpuHash ||
                        spec.type == MapType::LruPercpuHash;
    if (percpu && info->nr_cpus != nr_cpus()) {
        return fail(error_number, EINVAL,
                    Error(fmt::format("per-CPU map laid out for {} CPU slots; this process has {} "
                                      "(set_nr_cpus({}) before creating any map)",
                                      info->nr_cpus, nr_cpus(), info->nr_cpus))
                        .in(map_label(spec)));
    }
    const int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
        const int error = errno;
        return fail(error_number, error, Error(fmt::format("dup: {}", std::strerror(error))));
    }
    maps::MapFileRegion region(own, info->region_size);
    auto map = maps::build_region_map(spec, {region, info->nr_cpus, true});
    if (!map.ok()) {
        return fail(error_number, region.failure() != 0 ? region.failure() : EINVAL,
                    std::move(map).error().in(map_label(spec)));
    }
    (*map)->keep_frozen_state_in(shared_memory_of(**map)->frozen_word());
    return map;
}

Result<std::shared_ptr<Map>> open_pinned_map(const std::filesystem::path& path, int* error_number) {
    const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        const int error = errno;
        return fail(error_number, error, Error(std::strerror(error)).in(path.string()));
    }
    auto map = open_shared_map(fd, error_number);
    close(fd);
    if (!map.ok()) return std::move(map).error().in(path.string());
    return map;
}

}  // namespace xbpf
