// The few bpf(2) commands the kernel oracle needs, called directly: create maps, load BTF,
// fill and freeze global data, load a program and read the verifier's verdict. The facts are
// those of `man 2 bpf` and <linux/bpf.h>; nothing here is xbpf's own runtime.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "xbpf/insn.hpp"

namespace xbpf::oracle {

// A file descriptor closed when it goes away.
class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd();
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

  private:
    int fd_ = -1;
};

// Whether this process may load programs (root or CAP_BPF); `why` says why not.
bool kernel_bpf_available(std::string* why);

struct KernelMapRequest {
    std::string name;  // sanitised to what BPF_OBJ_NAME_LEN allows
    uint32_t type = 0;
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    uint32_t max_entries = 0;
    uint32_t flags = 0;
    uint64_t map_extra = 0;
    int inner_map_fd = -1;
    int btf_fd = -1;  // with the two type ids below, as libbpf passes BTF-defined maps
    uint32_t btf_key_type_id = 0;
    uint32_t btf_value_type_id = 0;
};

// On failure the fd is invalid and `error` holds errno.
UniqueFd kernel_map_create(const KernelMapRequest& request, int* error);
bool kernel_map_update(int map_fd, const void* key, const void* value, int* error);
bool kernel_map_freeze(int map_fd, int* error);
// Loads raw BTF; on failure `log` holds the kernel's explanation.
UniqueFd kernel_btf_load(std::span<const uint8_t> btf, std::string* log);

// One (insn_off, type_id) pair of BPF_PROG_LOAD's func_info, as struct bpf_func_info.
struct KernelFuncInfo {
    uint32_t insn_off = 0;
    uint32_t type_id = 0;
};

struct KernelProgramRequest {
    std::string name;
    uint32_t prog_type = 0;
    uint32_t expected_attach_type = 0;
    uint32_t attach_btf_id = 0;  // tracing and LSM programs: the vmlinux function
    std::span<const Insn> insns;
    std::string license;
    uint32_t kern_version = 0;
    bool sleepable = false;
    int btf_fd = -1;
    std::span<const KernelFuncInfo> func_info;  // only with btf_fd
};

struct KernelVerdict {
    bool accepted = false;
    int error = 0;             // errno on rejection
    std::string log;           // the verifier's log (errors and statistics, no trace)
    std::string first_line;    // the line that explains a rejection
    uint64_t processed = 0;    // "processed N insns", when the kernel said
    uint64_t kernel_usec = 0;  // "verification time N usec", when the kernel said
};

KernelVerdict kernel_prog_load(const KernelProgramRequest& request);

}  // namespace xbpf::oracle
