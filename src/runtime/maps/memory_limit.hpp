// The map memory limit (set_map_memory_limit): the process-wide count of bytes held by live map
// regions, and the provider wrapper that refuses regions past the limit.
#pragma once

#include <cstddef>
#include <memory>

#include "xbpf/map_storage.hpp"

namespace xbpf::maps {

// Called by MapMemory when a region comes to life and when it is released.
void charge_map_memory(size_t bytes) noexcept;
void uncharge_map_memory(size_t bytes) noexcept;

// `provider`, refusing any region that would take map_memory_in_use() past map_memory_limit().
std::shared_ptr<MapMemoryProvider> limited_map_memory(std::shared_ptr<MapMemoryProvider> provider);

}  // namespace xbpf::maps
