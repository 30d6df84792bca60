// The page pool behind ExecutableMemory (see code_pages.hpp).
#include "jit/x86_64/code_pages.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

Result<uint8_t*> CodePages::take(size_t pages) {
    const size_t page = page_size();
    if (pages > kChunkPages) {
        // Large programs get a mapping of their own (given back with munmap).
        void* p =
            mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return Error(fmt::format("cannot map {} bytes for JIT code: {}", pages * page,
                                     std::strerror(errno)));
        return static_cast<uint8_t*>(p);
    }
    std::lock_guard lock(mutex_);
    for (Chunk& chunk : chunks_) {
        // First fit: the first run of `pages` free pages.
        size_t run = 0;
        for (size_t i = 0; i < kChunkPages; ++i) {
            run = chunk.used[i] ? 0 : run + 1;
            if (run == pages) {
                const size_t first = i + 1 - pages;
                for (size_t j = first; j <= i; ++j)
                    chunk.used[j] = true;
                return chunk.base + first * page;
            }
        }
    }
    void* p = mmap(nullptr, kChunkPages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return Error(fmt::format("cannot map {} bytes for JIT code: {}", kChunkPages * page,
                                 std::strerror(errno)));
    Chunk chunk{static_cast<uint8_t*>(p), std::vector<bool>(kChunkPages, false)};
    for (size_t j = 0; j < pages; ++j)
        chunk.used[j] = true;
    chunks_.push_back(std::move(chunk));
    return static_cast<uint8_t*>(p);
}

Status CodePages::seal(uint8_t* p, size_t pages) {
    if (mprotect(p, pages * page_size(), PROT_READ | PROT_EXEC) != 0)
        return Error(fmt::format("cannot make JIT code executable: {}", std::strerror(errno)));
    return {};
}

void CodePages::give_back(uint8_t* p, size_t pages) {
    const size_t page = page_size();
    if (pages > kChunkPages) {
        munmap(p, pages * page);
        return;
    }
    // Not executable from here on, whatever happens to the bookkeeping.
    mprotect(p, pages * page, PROT_READ | PROT_WRITE);
    std::lock_guard lock(mutex_);
    for (Chunk& chunk : chunks_) {
        if (p >= chunk.base && p < chunk.base + kChunkPages * page) {
            const auto first = static_cast<size_t>(p - chunk.base) / page;
            for (size_t j = first; j < first + pages; ++j)
                chunk.used[j] = false;
            return;
        }
    }
}

}  // namespace xbpf::jit
