// Executable memory on top of the page pool (see executable_memory.hpp, code_pages.hpp).
#include "jit/x86_64/executable_memory.hpp"

#include <utility>

#include "jit/x86_64/code_pages.hpp"

namespace xbpf::jit {

ExecutableMemory::~ExecutableMemory() {
    if (data_ != nullptr) CodePages::instance().give_back(data_, size_ / CodePages::page_size());
}

void ExecutableMemory::swap(ExecutableMemory& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(sealed_, other.sealed_);
}

Result<ExecutableMemory> ExecutableMemory::allocate(size_t size) {
    const size_t page = CodePages::page_size();
    const size_t pages = CodePages::slot_pages((size + page - 1) / page);
    auto p = CodePages::instance().take(pages);
    if (!p) return std::move(p).error();
    ExecutableMemory m;
    m.data_ = *p;
    m.size_ = pages * page;
    return m;
}

Status ExecutableMemory::seal() {
    if (auto s = CodePages::instance().seal(data_, size_ / CodePages::page_size()); !s) return s;
    sealed_ = true;
    return {};
}

}  // namespace xbpf::jit
