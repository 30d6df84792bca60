// bpf(2) BPF_PROG_LOAD (XDP) and BPF_PROG_TEST_RUN, called directly (no libbpf needed).
#include "kernel_engine.hpp"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xbpf::test {
namespace {

long bpf(int cmd, union bpf_attr* attr) {
    return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int load_xdp(std::span<const Insn> program, std::string* log) {
    static char log_buf[1 << 16];
    log_buf[0] = 0;
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_XDP;
    attr.insn_cnt = static_cast<uint32_t>(program.size());
    attr.insns = reinterpret_cast<uintptr_t>(program.data());
    attr.license = reinterpret_cast<uintptr_t>("GPL");
    attr.log_level = log != nullptr ? 1 : 0;
    attr.log_size = log != nullptr ? sizeof log_buf : 0;
    attr.log_buf = log != nullptr ? reinterpret_cast<uintptr_t>(log_buf) : 0;
    const long fd = bpf(BPF_PROG_LOAD, &attr);
    if (fd < 0 && log != nullptr) {
        // The interesting part of a verifier log is its end.
        std::string text = log_buf;
        if (text.size() > 600) text = text.substr(text.size() - 600);
        *log = std::string(std::strerror(errno)) + ": " + text;
    }
    return static_cast<int>(fd);
}

}  // namespace

bool KernelEngine::available(std::string* why) {
    static const Insn trivial[] = {make::mov64_imm(0, XDP_PASS), make::exit()};
    std::string log;
    const int fd = load_xdp(trivial, &log);
    if (fd < 0) {
        *why = "cannot load an XDP program with bpf(2) (" + log +
               "); the kernel engine needs root or CAP_BPF";
        return false;
    }
    close(fd);
    return true;
}

KernelEngine::Run KernelEngine::run(std::span<const Insn> program,
                                    const std::vector<uint8_t>& memory) {
    Run r;
    // Load quietly first; ask for the verifier's log only when it refuses.
    int fd = load_xdp(program, nullptr);
    if (fd < 0) {
        load_xdp(program, &r.log);
        return r;
    }
    r.loaded = true;
    r.memory.assign(memory.size(), 0);
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.test.prog_fd = static_cast<uint32_t>(fd);
    attr.test.data_in = reinterpret_cast<uintptr_t>(memory.data());
    attr.test.data_size_in = static_cast<uint32_t>(memory.size());
    attr.test.data_out = reinterpret_cast<uintptr_t>(r.memory.data());
    attr.test.data_size_out = static_cast<uint32_t>(r.memory.size());
    attr.test.repeat = 1;
    if (bpf(BPF_PROG_TEST_RUN, &attr) != 0) {
        r.loaded = false;
        r.log = std::string("BPF_PROG_TEST_RUN: ") + std::strerror(errno);
    } else {
        r.retval = attr.test.retval;
        r.memory.resize(attr.test.data_size_out);
    }
    close(fd);
    return r;
}

}  // namespace xbpf::test
