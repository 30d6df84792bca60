// mmap / mprotect / munmap for generated code (see executable_memory.hpp).
#include "jit/x86_64/executable_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace xbpf::jit {

ExecutableMemory::~ExecutableMemory() {
    if (data_ != nullptr) munmap(data_, size_);
}

void ExecutableMemory::swap(ExecutableMemory& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(sealed_, other.sealed_);
}

Result<ExecutableMemory> ExecutableMemory::allocate(size_t size) {
    const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t rounded = (size + page - 1) / page * page;
    void* p = mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return Error(
            fmt::format("cannot map {} bytes for JIT code: {}", rounded, std::strerror(errno)));
    ExecutableMemory m;
    m.data_ = static_cast<uint8_t*>(p);
    m.size_ = rounded;
    return m;
}

Status ExecutableMemory::seal() {
    if (mprotect(data_, size_, PROT_READ | PROT_EXEC) != 0)
        return Error(fmt::format("cannot make JIT code executable: {}", std::strerror(errno)));
    sealed_ = true;
    return {};
}

}  // namespace xbpf::jit
