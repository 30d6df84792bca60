// Map regions in files (map_file.hpp) mapped MAP_SHARED: the storage of shared maps
// (map_shared.hpp). Two providers: one creates each region in a new unnamed file, the other
// maps the region of an existing map file again.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>

#include "runtime/maps/map_file.hpp"
#include "xbpf/map_storage.hpp"

namespace xbpf::maps {

// A region at offset 0 of a map file, with the file's header page mapped beside it.
class SharedMapMemory final : public MapMemory {
  public:
    SharedMapMemory(std::byte* base, size_t size, size_t mapped_size, int fd,
                    MapFileHeader* header);
    ~SharedMapMemory() override;

    MapFileHeader& header() const { return *header_; }
    std::atomic<uint32_t>& frozen_word() const {
        return *reinterpret_cast<std::atomic<uint32_t>*>(&header_->frozen);
    }

  private:
    MapFileHeader* header_;
};

// Creates every region in a new unnamed file (O_TMPFILE) in `directory`, which a pin later names
// with a hard link. Regions the family wants committed (and every region with `reserve_all`)
// get their file space allocated now, so a full file system fails the creation rather than
// faulting (SIGBUS) on first touch.
class SharedMapFiles final : public MapMemoryProvider {
  public:
    SharedMapFiles(std::filesystem::path directory, mode_t mode, bool reserve_all)
        : directory_(std::move(directory)), mode_(mode), reserve_all_(reserve_all) {}

    Result<std::unique_ptr<MapMemory>> allocate(size_t size, bool populate) override;
    Result<std::unique_ptr<MapMemory>> allocate_double_mapped(size_t head_size,
                                                              size_t data_size) override;

    // The errno of the last failure (ENOSPC, ENOENT, ...); 0 if none.
    int failure() const { return failure_; }

  private:
    Result<int> create_file(size_t region_size, bool reserve);

    std::filesystem::path directory_;
    mode_t mode_;
    bool reserve_all_;
    int failure_ = 0;
};

// Hands out the region of an existing map file, once: the family asks for the size its layout
// needs, which must be the file's region size.
class MapFileRegion final : public MapMemoryProvider {
  public:
    // Takes ownership of `fd`.
    MapFileRegion(int fd, size_t region_size) : fd_(fd), region_size_(region_size) {}
    ~MapFileRegion() override;

    Result<std::unique_ptr<MapMemory>> allocate(size_t size, bool populate) override;
    Result<std::unique_ptr<MapMemory>> allocate_double_mapped(size_t head_size,
                                                              size_t data_size) override;

    // The errno of a failed mapping (EACCES for a file open read-only...); 0 if none.
    int failure() const { return failure_; }

  private:
    Result<std::unique_ptr<MapMemory>> hand_out(size_t wanted, size_t head_size, size_t data_size);

    int fd_;
    size_t region_size_;
    int failure_ = 0;
};

}  // namespace xbpf::maps
