// Map memory accounting. A region is charged by MapMemory itself, so regions from any provider
// count; the limit is checked before a provider maps anything, by reserving the requested bytes
// first: two maps created at once can never both pass a limit only one of them fits under.
#include "runtime/maps/memory_limit.hpp"

#include <atomic>
#include <optional>

#include <fmt/format.h>

#include "runtime/maps/map_memory.hpp"

namespace xbpf {
namespace {

std::atomic<size_t> g_limit{0};
std::atomic<size_t> g_in_use{0};

// Holds `bytes` of the limit while a provider maps a region; released once the region (which
// charges itself) exists or the mapping failed.
class Reservation {
  public:
    explicit Reservation(size_t bytes)
        : bytes_(bytes), total_(g_in_use.fetch_add(bytes, std::memory_order_relaxed) + bytes) {}
    ~Reservation() { maps::uncharge_map_memory(bytes_); }
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;

    // Why the reservation takes the total past the limit, if it does.
    std::optional<Error> over_limit() const {
        const size_t limit = g_limit.load(std::memory_order_relaxed);
        if (limit == 0 || total_ <= limit) return std::nullopt;
        return Error(fmt::format(
            "the map needs {} bytes of map memory but {} of the {}-byte limit are in use "
            "(set_map_memory_limit; Linux fails BPF_MAP_CREATE with EPERM past its memlock limit)",
            bytes_, total_ - bytes_, limit));
    }

  private:
    size_t bytes_;
    size_t total_;
};

class LimitedMapMemory final : public MapMemoryProvider {
  public:
    explicit LimitedMapMemory(std::shared_ptr<MapMemoryProvider> inner)
        : inner_(std::move(inner)) {}

    Result<std::unique_ptr<MapMemory>> allocate(size_t size, bool populate) override {
        const Reservation held(maps::round_up_pages(size == 0 ? 1 : size));
        if (auto e = held.over_limit()) return std::move(*e);
        return inner_->allocate(size, populate);
    }

    Result<std::unique_ptr<MapMemory>> allocate_double_mapped(size_t head_size,
                                                              size_t data_size) override {
        const Reservation held(head_size + data_size);
        if (auto e = held.over_limit()) return std::move(*e);
        return inner_->allocate_double_mapped(head_size, data_size);
    }

  private:
    std::shared_ptr<MapMemoryProvider> inner_;
};

}  // namespace

size_t map_memory_limit() {
    return g_limit.load(std::memory_order_relaxed);
}
void set_map_memory_limit(size_t bytes) {
    g_limit.store(bytes, std::memory_order_relaxed);
}
size_t map_memory_in_use() {
    return g_in_use.load(std::memory_order_relaxed);
}

namespace maps {

void charge_map_memory(size_t bytes) noexcept {
    g_in_use.fetch_add(bytes, std::memory_order_relaxed);
}

void uncharge_map_memory(size_t bytes) noexcept {
    g_in_use.fetch_sub(bytes, std::memory_order_relaxed);
}

std::shared_ptr<MapMemoryProvider> limited_map_memory(std::shared_ptr<MapMemoryProvider> provider) {
    return std::make_shared<LimitedMapMemory>(std::move(provider));
}

}  // namespace maps
}  // namespace xbpf
