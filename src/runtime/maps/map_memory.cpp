// The default map memory provider: private anonymous mappings, and memfd-backed double mappings
// for rings (the data pages are mapped twice, back to back, as Linux maps a ring buffer).
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "runtime/maps/hashing.hpp"
#include "xbpf/map_storage.hpp"

namespace xbpf {

size_t map_page_size() {
    static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return page;
}

MapMemory::MapMemory(std::byte* base, size_t size, size_t mapped_size, int fd)
    : base_(base), size_(size), mapped_size_(mapped_size), fd_(fd) {}

MapMemory::~MapMemory() {
    if (base_ != nullptr) munmap(base_, mapped_size_);
    if (fd_ >= 0) close(fd_);
}

namespace {

constexpr size_t kHugePageSize = 2u << 20;
constexpr int kMadvisePopulateWrite = 23;  // MADV_POPULATE_WRITE (Linux 5.14)

size_t round_up_pages(size_t n) {
    const size_t page = map_page_size();
    return (n + page - 1) / page * page;
}

class PrivateMapMemory final : public MapMemoryProvider {
  public:
    Result<std::unique_ptr<MapMemory>> allocate(size_t size, bool populate) override {
        size_t mapped = round_up_pages(size == 0 ? 1 : size);
        // Address space now, memory on first touch (lazily used pools stay small).
        void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            return Error(
                fmt::format("cannot map {} bytes for a map: {}", mapped, std::strerror(errno)));
        }
        // Large maps are looked up at random: huge pages spare most TLB misses. Advise before
        // the pages are populated so they are huge from the start.
        if (mapped >= kHugePageSize) madvise(p, mapped, MADV_HUGEPAGE);
        if (populate && madvise(p, mapped, kMadvisePopulateWrite) != 0) {
            // Kernels before 5.14: touch every page instead.
            for (size_t off = 0; off < mapped; off += map_page_size()) {
                static_cast<volatile char*>(p)[off] = 0;
            }
        }
        return std::make_unique<MapMemory>(static_cast<std::byte*>(p), mapped, mapped, -1);
    }

    Result<std::unique_ptr<MapMemory>> allocate_double_mapped(size_t head_size,
                                                              size_t data_size) override {
        const size_t page = map_page_size();
        if (head_size % page != 0 || data_size % page != 0 || data_size == 0) {
            return Error("double-mapped regions need page-multiple sizes");
        }
        int fd = memfd_create("xbpf-ring", MFD_CLOEXEC);
        if (fd < 0) return Error(fmt::format("memfd_create: {}", std::strerror(errno)));
        const size_t file_size = head_size + data_size;
        const size_t mapped = file_size + data_size;
        auto fail = [&](const char* what, void* reservation) -> Error {
            Error e(fmt::format("{}: {}", what, std::strerror(errno)));
            if (reservation != nullptr) munmap(reservation, mapped);
            close(fd);
            return e;
        };
        if (ftruncate(fd, static_cast<off_t>(file_size)) != 0) return fail("ftruncate", nullptr);
        // Reserve the whole range first so both views land back to back.
        void* base = mmap(nullptr, mapped, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) return fail("mmap", nullptr);
        auto* b = static_cast<std::byte*>(base);
        if (mmap(b, file_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
            MAP_FAILED) {
            return fail("mmap", base);
        }
        if (mmap(b + file_size, data_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
                 static_cast<off_t>(head_size)) == MAP_FAILED) {
            return fail("mmap", base);
        }
        return std::make_unique<MapMemory>(b, file_size, mapped, fd);
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
