// Pages for JIT code, handed out from larger mappings and taken back for reuse, so that
// preparing a program costs one mprotect rather than an mmap, page faults on fresh pages and an
// mprotect (each several microseconds here), and freeing one costs an mprotect, not an munmap.
// Pages are read-write while free or being filled and read+execute once sealed: never both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "xbpf/error.hpp"

namespace xbpf::jit {

class CodePages {
  public:
    static CodePages& instance();

    // `pages` consecutive read-write pages.
    Result<uint8_t*> take(size_t pages);
    // Makes pages from take() read+execute.
    Status seal(uint8_t* p, size_t pages);
    // Returns pages (made read-write, so never executable again until sealed anew).
    void give_back(uint8_t* p, size_t pages);

    static size_t page_size();

  private:
    struct Chunk {
        uint8_t* base;
        std::vector<bool> used;  // per page
    };
    static constexpr size_t kChunkPages = 256;

    std::mutex mutex_;
    std::vector<Chunk> chunks_;
};

}  // namespace xbpf::jit
