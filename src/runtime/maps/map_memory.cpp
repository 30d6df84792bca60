// The default map memory provider: private anonymous mappings, and memfd-backed double mappings
// for rings (the data pages are mapped twice, back to back, as Linux maps a ring buffer).
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "runtime/maps/hashing.hpp"
#include "runtime/maps/map_memory.hpp"
#include "runtime/maps/memory_limit.hpp"
#include "xbpf/map_storage.hpp"

namespace xbpf {

size_t map_page_size() {
    static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return page;
}

MapMemory::MapMemory(std::byte* base, size_t size, size_t mapped_size, int fd)
    : base_(base), size_(size), mapped_size_(mapped_size), fd_(fd) {
    maps::charge_map_memory(size_);
}

MapMemory::~MapMemory() {
    maps::uncharge_map_memory(size_);
    if (base_ != nullptr) munmap(base_, mapped_size_);
    if (fd_ >= 0) close(fd_);
}

namespace maps {

constexpr size_t kHugePageSize = 2u << 20;
constexpr int kMadvisePopulateWrite = 23;  // MADV_POPULATE_WRITE (Linux 5.14)

size_t round_up_pages(size_t n) {
    const size_t page = map_page_size();
    return (n + page - 1) / page * page;
}

void prepare_region(void* p, size_t size, bool populate) {
    // Large maps are looked up at random: huge pages spare most TLB misses.
    if (size >= kHugePageSize) madvise(p, size, MADV_HUGEPAGE);
    if (populate && madvise(p, size, kMadvisePopulateWrite) != 0) {
        // Kernels before 5.14: touch every page instead.
        for (size_t off = 0; off < size; off += map_page_size()) {
            static_cast<volatile char*>(p)[off] = 0;
        }
    }
}

Result<std::byte*> map_double_view(int fd, size_t head_size, size_t data_size) {
    const size_t page = map_page_size();
    if (head_size % page != 0 || data_size % page != 0 || data_size == 0) {
        return Error("double-mapped regions need page-multiple sizes");
    }
    const size_t file_part = head_size + data_size;
    const size_t mapped = file_part + data_size;
    // Reserve the whole range first so both views land back to back.
    void* base = mmap(nullptr, mapped, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return Error(fmt::format("mmap: {}", std::strerror(errno)));
    auto* b = static_cast<std::byte*>(base);
    if (mmap(b, file_part, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
        mmap(b + file_part, data_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
             static_cast<off_t>(head_size)) == MAP_FAILED) {
        Error e(fmt::format("mmap: {}", std::strerror(errno)));
        munmap(base, mapped);
        return e;
    }
    return b;
}

}  // namespace maps

namespace {

class PrivateMapMemory final : public MapMemoryProvider {
  public:
    Result<std::unique_ptr<MapMemory>> allocate(size_t size, bool populate) override {
        size_t mapped = maps::round_up_pages(size == 0 ? 1 : size);
        // Address space now, memory on first touch (lazily used pools stay small).
        void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            return Error(
                fmt::format("cannot map {} bytes for a map: {}", mapped, std::strerror(errno)));
        }
        maps::prepare_region(p, mapped, populate);
        return std::make_unique<MapMemory>(static_cast<std::byte*>(p), mapped, mapped, -1);
    }

    Result<std::unique_ptr<MapMemory>> allocate_double_mapped(size_t head_size,
                                                              size_t data_size) override {
        int fd = memfd_create("xbpf-ring", MFD_CLOEXEC);
        if (fd < 0) return Error(fmt::format("memfd_create: {}", std::strerror(errno)));
        const size_t file_size = head_size + data_size;
        if (ftruncate(fd, static_cast<off_t>(file_size)) != 0) {
            Error e(fmt::format("ftruncate: {}", std::strerror(errno)));
            close(fd);
            return e;
        }
        auto base = maps::map_double_view(fd, head_size, data_size);
        if (!base.ok()) {
            close(fd);
            return std::move(base).error();
        }
        return std::make_unique<MapMemory>(*base, file_size, file_size + data_size, fd);
    }
};

}  // namespace

std::shared_ptr<MapMemoryProvider> private_map_memory() {
    static const std::shared_ptr<MapMemoryProvider> provider = std::make_shared<PrivateMapMemory>();
    return provider;
}

namespace maps {

uint64_t new_hash_seed(bool zero_seed) {
    if (zero_seed) return 0;
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng();
}

}  // namespace maps
}  // namespace xbpf
