// The file behind a map's descriptor. mmap-able maps (BPF_F_MMAPABLE arrays, ring buffers) keep
// their memory in a memfd mapped shared, so that mmap of the descriptor maps the map's own
// memory; other maps get an empty memfd that only identifies them.
#pragma once

#include <cstddef>
#include <memory>

#include "xbpf/map_storage.hpp"

namespace xbpf::abi {

// A provider that puts regions in memfds mapped MAP_SHARED and remembers the first region it
// handed out (the one holding an array's values or a ring), for one map's creation.
class MemfdMapMemory final : public MapMemoryProvider {
  public:
    Result<std::unique_ptr<MapMemory>> allocate(size_t size, bool populate) override;
    Result<std::unique_ptr<MapMemory>> allocate_double_mapped(size_t head_size,
                                                              size_t data_size) override;
    // The first region: its file and where it is mapped (-1 / nullptr if none was made).
    int first_fd() const { return first_fd_; }
    const std::byte* first_base() const { return first_base_; }

  private:
    int first_fd_ = -1;
    const std::byte* first_base_ = nullptr;
};

// A memfd named `name` that identifies an object; -errno on failure.
int identity_file(const char* name);

}  // namespace xbpf::abi
