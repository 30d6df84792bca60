// The Linux kernel as a third engine for differential testing: loads a program as XDP through
// bpf(2) and runs it once with BPF_PROG_TEST_RUN on a copy of the memory as the packet. Needs
// privileges (root or CAP_BPF + CAP_PERFMON); available() says why not otherwise.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "xbpf/insn.hpp"

namespace xbpf::test {

class KernelEngine {
  public:
    // Whether programs can be loaded and run here; `why` says why not.
    static bool available(std::string* why);

    struct Run {
        bool loaded = false;
        std::string log;  // the kernel verifier's complaint when not loaded
        uint32_t retval = 0;
        std::vector<uint8_t> memory;  // the packet after the run
    };
    static Run run(std::span<const Insn> program, const std::vector<uint8_t>& memory);
};

}  // namespace xbpf::test
