// The slots behind ExecutableMemory (see code_pages.hpp).
#include "jit/x86_64/code_pages.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace xbpf::jit {

CodePages& CodePages::instance() {
    static CodePages pages;  // lives for the process: code may run until exit
    return pages;
}

size_t CodePages::page_size() {
    static const auto size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

size_t CodePages::slot_pages(size_t pages) {
    if (pages == 0) pages = 1;
    return pages <= kLargestClass ? std::bit_ceil(pages) : pages;
}

size_t CodePages::class_of(size_t slot_pages) {
    return static_cast<size_t>(std::countr_zero(slot_pages));
}

Result<uint8_t*> CodePages::map_slot(size_t pages) {
    // The guard pages on both sides stay inaccessible: a mapping of different protection on
    // each side keeps the kernel from merging the slot with anything.
    const size_t page = page_size();
    void* base = mmap(nullptr, (pages + 2) * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        return Error(fmt::format("cannot map {} bytes for JIT code: {}", pages * page,
                                 std::strerror(errno)));
    }
    auto* slot = static_cast<uint8_t*>(base) + page;
    if (mprotect(slot, pages * page, PROT_READ | PROT_WRITE) != 0) {
        const int error = errno;
        munmap(base, (pages + 2) * page);
        return Error(fmt::format("cannot map {} bytes for JIT code: {}", pages * page,
                                 std::strerror(error)));
    }
    return slot;
}

void CodePages::unmap_slot(uint8_t* p, size_t pages) {
    const size_t page = page_size();
    munmap(p - page, (pages + 2) * page);
}

Result<uint8_t*> CodePages::take(size_t pages) {
    const size_t slot = slot_pages(pages);
    if (slot <= kLargestClass) {
        std::lock_guard lock(mutex_);
        auto& free = free_[class_of(slot)];
        if (!free.empty()) {
            uint8_t* p = free.back();
            free.pop_back();
            retained_pages_ -= slot;
            return p;
        }
    }
    return map_slot(slot);
}

Status CodePages::seal(uint8_t* p, size_t pages) {
    if (mprotect(p, pages * page_size(), PROT_READ | PROT_EXEC) != 0)
        return Error(fmt::format("cannot make JIT code executable: {}", std::strerror(errno)));
    return {};
}

void CodePages::give_back(uint8_t* p, size_t pages) {
    // Not executable from here on, whatever happens to the bookkeeping.
    if (pages > kLargestClass || mprotect(p, pages * page_size(), PROT_READ | PROT_WRITE) != 0) {
        unmap_slot(p, pages);
        return;
    }
    std::vector<std::pair<uint8_t*, size_t>> evicted;
    {
        std::lock_guard lock(mutex_);
        // Over the limit, the slot just given back stays and older ones of the largest sizes
        // go: what a process prepares now is the best guess of what it prepares next.
        for (size_t c = kClasses; c-- > 0 && retained_pages_ + pages > kRetainedPages;) {
            while (!free_[c].empty() && retained_pages_ + pages > kRetainedPages) {
                evicted.emplace_back(free_[c].back(), size_t{1} << c);
                free_[c].pop_back();
                retained_pages_ -= size_t{1} << c;
            }
        }
        free_[class_of(pages)].push_back(p);
        retained_pages_ += pages;
    }
    for (const auto& [slot, slot_pages] : evicted)
        unmap_slot(slot, slot_pages);
}

}  // namespace xbpf::jit
