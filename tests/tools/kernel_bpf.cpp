#include "kernel_bpf.hpp"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace xbpf::oracle {

namespace {

// BPF_LOG_STATS (man 2 bpf: log_level 4): the verifier reports errors and its statistics but
// not the instruction trace, so the log stays short and its first lines say why.
constexpr uint32_t kLogStats = 4;
constexpr size_t kLogSize = 1 << 20;

long sys_bpf(int cmd, union bpf_attr* attr) {
    return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

void copy_name(char (&out)[BPF_OBJ_NAME_LEN], const std::string& name) {
    // The kernel takes letters, digits, '_' and '.', at most BPF_OBJ_NAME_LEN - 1 of them.
    size_t n = 0;
    for (char c : name) {
        if (n + 1 >= BPF_OBJ_NAME_LEN) break;
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.';
        out[n++] = ok ? c : '_';
    }
    out[n] = 0;
}

bool starts_with(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

uint64_t number_after(const std::string& line, const char* word) {
    const auto at = line.find(word);
    if (at == std::string::npos) return 0;
    return std::strtoull(line.c_str() + at + std::strlen(word), nullptr, 10);
}

// Splits the log into the explanation (the last line before the statistics: earlier lines may
// be notes such as "arg#0 reference type ... cannot be determined") and the statistics.
void read_log(KernelVerdict& v) {
    std::istringstream in(v.log);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        if (starts_with(line, "processed ")) {
            v.processed = number_after(line, "processed ");
        } else if (starts_with(line, "verification time ")) {
            v.kernel_usec = number_after(line, "verification time ");
        } else if (starts_with(line, "stack depth ")) {
            // a statistic
        } else {
            v.first_line = line;
        }
    }
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) close(fd_);
        fd_ = o.release();
    }
    return *this;
}

UniqueFd::~UniqueFd() {
    if (fd_ >= 0) close(fd_);
}

bool kernel_bpf_available(std::string* why) {
    static const Insn trivial[] = {make::mov64_imm(0, 0), make::exit()};
    KernelProgramRequest r;
    r.name = "probe";
    r.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    r.insns = trivial;
    r.license = "GPL";
    const KernelVerdict v = kernel_prog_load(r);
    if (!v.accepted && why != nullptr) {
        *why = std::string("bpf(BPF_PROG_LOAD) of a two-instruction socket filter failed: ") +
               std::strerror(v.error) + " (the kernel oracle needs root or CAP_BPF)";
    }
    return v.accepted;
}

UniqueFd kernel_map_create(const KernelMapRequest& request, int* error) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.map_type = request.type;
    attr.key_size = request.key_size;
    attr.value_size = request.value_size;
    attr.max_entries = request.max_entries;
    attr.map_flags = request.flags;
    attr.map_extra = request.map_extra;
    attr.inner_map_fd = request.inner_map_fd >= 0 ? static_cast<uint32_t>(request.inner_map_fd) : 0;
    copy_name(attr.map_name, request.name);
    if (request.btf_fd >= 0) {
        attr.btf_fd = static_cast<uint32_t>(request.btf_fd);
        attr.btf_key_type_id = request.btf_key_type_id;
        attr.btf_value_type_id = request.btf_value_type_id;
    }
    const long fd = sys_bpf(BPF_MAP_CREATE, &attr);
    if (fd < 0 && error != nullptr) *error = errno;
    return UniqueFd(static_cast<int>(fd));
}

bool kernel_map_update(int map_fd, const void* key, const void* value, int* error) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.map_fd = static_cast<uint32_t>(map_fd);
    attr.key = reinterpret_cast<uintptr_t>(key);
    attr.value = reinterpret_cast<uintptr_t>(value);
    attr.flags = BPF_ANY;
    if (sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) == 0) return true;
    if (error != nullptr) *error = errno;
    return false;
}

bool kernel_map_freeze(int map_fd, int* error) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.map_fd = static_cast<uint32_t>(map_fd);
    if (sys_bpf(BPF_MAP_FREEZE, &attr) == 0) return true;
    if (error != nullptr) *error = errno;
    return false;
}

UniqueFd kernel_btf_load(std::span<const uint8_t> btf, std::string* log) {
    std::vector<char> buf(1 << 16, 0);
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.btf = reinterpret_cast<uintptr_t>(btf.data());
    attr.btf_size = static_cast<uint32_t>(btf.size());
    attr.btf_log_buf = reinterpret_cast<uintptr_t>(buf.data());
    attr.btf_log_size = static_cast<uint32_t>(buf.size());
    attr.btf_log_level = 1;
    const long fd = sys_bpf(BPF_BTF_LOAD, &attr);
    if (fd < 0 && log != nullptr) *log = std::string(std::strerror(errno)) + ": " + buf.data();
    return UniqueFd(static_cast<int>(fd));
}

KernelVerdict kernel_prog_load(const KernelProgramRequest& request) {
    std::vector<char> log(kLogSize, 0);
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_type = request.prog_type;
    attr.expected_attach_type = request.expected_attach_type;
    attr.attach_btf_id = request.attach_btf_id;
    attr.insn_cnt = static_cast<uint32_t>(request.insns.size());
    attr.insns = reinterpret_cast<uintptr_t>(request.insns.data());
    attr.license = reinterpret_cast<uintptr_t>(request.license.c_str());
    attr.kern_version = request.kern_version;
    attr.prog_flags = request.sleepable ? BPF_F_SLEEPABLE : 0;
    attr.log_level = kLogStats;
    attr.log_size = static_cast<uint32_t>(log.size());
    attr.log_buf = reinterpret_cast<uintptr_t>(log.data());
    copy_name(attr.prog_name, request.name);
    if (request.btf_fd >= 0) {
        attr.prog_btf_fd = static_cast<uint32_t>(request.btf_fd);
        if (!request.func_info.empty()) {
            static_assert(sizeof(KernelFuncInfo) == sizeof(struct bpf_func_info));
            attr.func_info_rec_size = sizeof(struct bpf_func_info);
            attr.func_info = reinterpret_cast<uintptr_t>(request.func_info.data());
            attr.func_info_cnt = static_cast<uint32_t>(request.func_info.size());
        }
    }
    KernelVerdict v;
    const long fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0) {
        v.accepted = true;
        close(static_cast<int>(fd));
    } else {
        v.error = errno;
    }
    v.log = log.data();
    read_log(v);
    if (!v.accepted && v.first_line.empty()) v.first_line = std::strerror(v.error);
    if (v.accepted) v.first_line.clear();
    return v;
}

}  // namespace xbpf::oracle
