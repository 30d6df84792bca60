// Helpers for the bpf() ABI tests: attrs, calls that return the errno, small programs.
#pragma once

#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "xbpf/bpf_abi.hpp"
#include "xbpf/insn.hpp"

namespace xbpf::abi_test {

// bpf(cmd, attr): the result, or -errno.
inline long sys(int cmd, union bpf_attr& attr, unsigned size = sizeof(union bpf_attr)) {
    errno = 0;
    const long r = bpf_syscall(cmd, &attr, size);
    return r < 0 ? -errno : r;
}

inline union bpf_attr zeroed() {
    union bpf_attr a;
    std::memset(&a, 0, sizeof a);
    return a;
}

inline long create_map(uint32_t type, uint32_t key, uint32_t value, uint32_t entries,
                       uint32_t flags = 0, const char* name = "") {
    auto a = zeroed();
    a.map_type = type;
    a.key_size = key;
    a.value_size = value;
    a.max_entries = entries;
    a.map_flags = flags;
    std::strncpy(a.map_name, name, sizeof a.map_name - 1);
    return sys(BPF_MAP_CREATE, a);
}

inline long update(int fd, const void* key, const void* value, uint64_t flags = BPF_ANY) {
    auto a = zeroed();
    a.map_fd = static_cast<uint32_t>(fd);
    a.key = reinterpret_cast<uintptr_t>(key);
    a.value = reinterpret_cast<uintptr_t>(value);
    a.flags = flags;
    return sys(BPF_MAP_UPDATE_ELEM, a);
}

inline long lookup(int fd, const void* key, void* value) {
    auto a = zeroed();
    a.map_fd = static_cast<uint32_t>(fd);
    a.key = reinterpret_cast<uintptr_t>(key);
    a.value = reinterpret_cast<uintptr_t>(value);
    return sys(BPF_MAP_LOOKUP_ELEM, a);
}

struct Loaded {
    long fd;
    std::string log;
};

inline Loaded load(uint32_t type, const std::vector<Insn>& insns, uint32_t log_level = 1,
                   uint32_t log_size = 65536, const char* name = "test_prog") {
    std::string log(log_size, '\0');
    auto a = zeroed();
    a.prog_type = type;
    a.insns = reinterpret_cast<uintptr_t>(insns.data());
    a.insn_cnt = static_cast<uint32_t>(insns.size());
    a.license = reinterpret_cast<uintptr_t>("GPL");
    a.log_level = log_level;
    if (log_level != 0) {
        a.log_buf = reinterpret_cast<uintptr_t>(log.data());
        a.log_size = log_size;
    }
    std::strncpy(a.prog_name, name, sizeof a.prog_name - 1);
    const long fd = sys(BPF_PROG_LOAD, a);
    log.resize(std::strlen(log.c_str()));
    return {fd, log};
}

// return `value` (an XDP program).
inline std::vector<Insn> returns(int32_t value) {
    return {make::mov64_imm(0, value), make::exit()};
}

// Looks up key 0 of map `map_fd` and returns *value + 1 (0 when absent), after adding 1 to it.
inline std::vector<Insn> bump_key_zero(int map_fd) {
    std::vector<Insn> p;
    p.push_back(make::store_imm(op::W, 10, -4, 0));  // key = 0
    make::lddw(p, 1, static_cast<uint32_t>(map_fd), op::kImmMapByFd);
    p.push_back(make::mov64_reg(2, 10));
    p.push_back(make::alu64_imm(op::ADD, 2, -4));
    p.push_back(make::call_helper(1));  // bpf_map_lookup_elem
    p.push_back(make::mov64_imm(1, 0));
    p.push_back(make::jmp_imm(op::JEQ, 0, 0, 3));
    p.push_back(make::load(op::DW, 1, 0, 0));
    p.push_back(make::alu64_imm(op::ADD, 1, 1));
    p.push_back(make::store_reg(op::DW, 0, 0, 1));
    p.push_back(make::mov64_reg(0, 1));
    p.push_back(make::exit());
    return p;
}

struct Fd {
    int fd = -1;
    explicit Fd(long f) : fd(static_cast<int>(f)) {}
    ~Fd() {
        if (fd >= 0) close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    operator int() const { return fd; }
};

}  // namespace xbpf::abi_test
