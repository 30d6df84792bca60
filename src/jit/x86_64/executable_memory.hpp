// Memory for generated code, kept W^X: read-write while it is filled, then read+execute before
// any of it runs; never writable and executable at once. On destruction its pages go back to
// the pool (code_pages.hpp), made read-write: never executable again until refilled.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xbpf/error.hpp"

namespace xbpf::jit {

class ExecutableMemory {
  public:
    ExecutableMemory() = default;
    ExecutableMemory(const ExecutableMemory&) = delete;
    ExecutableMemory& operator=(const ExecutableMemory&) = delete;
    ExecutableMemory(ExecutableMemory&& other) noexcept { swap(other); }
    ExecutableMemory& operator=(ExecutableMemory&& other) noexcept {
        swap(other);
        return *this;
    }
    ~ExecutableMemory();

    // `size` bytes (rounded up to a slot of pages, see code_pages.hpp), readable and writable.
    static Result<ExecutableMemory> allocate(size_t size);
    // Makes the memory read+execute (and no longer writable).
    Status seal();

    uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    bool sealed() const { return sealed_; }

  private:
    void swap(ExecutableMemory& other) noexcept;

    uint8_t* data_ = nullptr;
    size_t size_ = 0;
    bool sealed_ = false;
};

}  // namespace xbpf::jit
