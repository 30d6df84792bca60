// Pages for JIT code, taken back for reuse, so that preparing a program costs one mprotect
// rather than an mmap, page faults on fresh pages and an mprotect (each microseconds), and freeing
// one costs an mprotect, not an munmap. Pages are read-write while free or being filled and
// read+execute once sealed: never both.
//
// Each program's code has a mapping of its own (a slot) between two inaccessible guard pages,
// so that the kernel never merges it with a neighbour: sealing and giving back then change one
// whole mapping in place. Slots carved out of one large mapping made every seal split that
// mapping and every give-back merge it again, which cost half as much again as the mprotect
// itself (measured on the machines we target: 2.4 to 3.1 µs instead of 1.7 µs per seal).
// Slots come in powers of two of pages and are kept for reuse up to kRetainedPages in all.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "xbpf/error.hpp"

namespace xbpf::jit {

class CodePages {
  public:
    static CodePages& instance();

    // The pages a slot for `pages` pages of code has: a power of two up to kLargestClass pages,
    // exactly `pages` beyond (such slots are unmapped when given back).
    static size_t slot_pages(size_t pages);
    // A slot of slot_pages(pages) read-write pages.
    Result<uint8_t*> take(size_t pages);
    // Makes a slot from take() read+execute (`pages` is its slot_pages()).
    Status seal(uint8_t* p, size_t pages);
    // Returns a slot (made read-write, so never executable again until sealed anew).
    void give_back(uint8_t* p, size_t pages);

    static size_t page_size();

  private:
    static constexpr size_t kLargestClass = 64;     // pages (256 KiB with 4 KiB pages)
    static constexpr size_t kRetainedPages = 1024;  // free slots kept, in pages of code
    static constexpr size_t kClasses = 7;           // 1, 2, 4, ..., 64 pages

    static size_t class_of(size_t slot_pages);
    Result<uint8_t*> map_slot(size_t pages);
    static void unmap_slot(uint8_t* p, size_t pages);

    std::mutex mutex_;
    std::array<std::vector<uint8_t*>, kClasses> free_;  // read-write slots by class
    size_t retained_pages_ = 0;
};

}  // namespace xbpf::jit
