// Where maps keep their state: one contiguous, page-aligned region per map, addressed inside by
// offsets only (no raw pointers), with its locks as plain atomics in the region. That is what
// lets shared maps (map_shared.hpp) place a map in a file mapped by several processes without
// changing the map code: only the provider below changes.
#pragma once

#include <cstddef>
#include <memory>

#include "xbpf/error.hpp"

namespace xbpf {

// The page size regions are aligned to (and ring buffers are sized in).
size_t map_page_size();

// One mapped region. Owns the mapping (and the file descriptor backing it, if any) and releases
// both when destroyed.
class MapMemory {
  public:
    // `base` is mapped for `mapped_size` bytes; the map uses the first `size` of them (for a
    // double-mapped region, mapped_size also covers the second view). `fd` is the file backing
    // the mapping, or -1 for anonymous memory.
    MapMemory(std::byte* base, size_t size, size_t mapped_size, int fd);
    virtual ~MapMemory();
    MapMemory(const MapMemory&) = delete;
    MapMemory& operator=(const MapMemory&) = delete;

    std::byte* data() const { return base_; }
    size_t size() const { return size_; }
    // The file the region lives in (a memfd for private rings, the map file of a shared map,
    // where the region starts at offset 0), so it can be mapped again; -1 if anonymous.
    int fd() const { return fd_; }

  private:
    std::byte* base_;
    size_t size_;
    size_t mapped_size_;
    int fd_;
};

// Hands out map regions. The default provider (private_map_memory()) uses private anonymous
// memory, and a memfd for double-mapped regions; shared maps use files (map_shared.hpp).
class MapMemoryProvider {
  public:
    virtual ~MapMemoryProvider() = default;

    // A zero-filled region of at least `size` bytes. `populate`: commit every page now
    // (preallocated maps, as Linux charges them at creation); otherwise pages are committed on
    // first touch, which is how BPF_F_NO_PREALLOC maps reserve their pool lazily.
    virtual Result<std::unique_ptr<MapMemory>> allocate(size_t size, bool populate) = 0;

    // A zero-filled region of head_size + data_size bytes (both multiples of the page size) in
    // which the data part [head_size, head_size + data_size) is mapped a second time right after
    // itself, so records that wrap around the end of a ring are contiguous in memory. size() of
    // the result is head_size + data_size; the second view follows it.
    virtual Result<std::unique_ptr<MapMemory>> allocate_double_mapped(size_t head_size,
                                                                      size_t data_size) = 0;
};

// The process-wide default provider: private anonymous mappings.
std::shared_ptr<MapMemoryProvider> private_map_memory();

// Map memory accounting, as Linux charges maps to the creator's memlock limit (memory cgroup
// since 5.11): every live region counts its size() bytes, whichever provider made it. With a
// limit set, creating a map whose regions would take the total past it fails with an Error
// saying so (Linux's BPF_MAP_CREATE fails with EPERM then). 0 (the default): no limit.
size_t map_memory_limit();
void set_map_memory_limit(size_t bytes);
// Bytes held by live map regions in this process.
size_t map_memory_in_use();

}  // namespace xbpf
