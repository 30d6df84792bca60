// Pieces of region mapping shared by the private provider (map_memory.cpp) and the shared-memory
// one (shared_memory.cpp).
#pragma once

#include <cstddef>

#include "xbpf/error.hpp"

namespace xbpf::maps {

size_t round_up_pages(size_t n);

// Advice for a newly mapped region of `size` bytes at `p`: huge pages for large ones (before the
// pages exist, so they are huge from the start), and, with `populate`, every page committed now.
void prepare_region(void* p, size_t size, bool populate);

// Maps [0, head_size + data_size) of the file `fd` and the data part [head_size, head_size +
// data_size) a second time right after it (both sizes page multiples), MAP_SHARED: the base of
// head_size + 2 * data_size mapped bytes.
Result<std::byte*> map_double_view(int fd, size_t head_size, size_t data_size);

}  // namespace xbpf::maps
