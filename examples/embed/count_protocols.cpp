// Embedding xbpf: load an object built by clang, run its XDP program on packets the host builds,
// and read the per-CPU map it fills. This is the whole API surface an application needs for
// that: load_file() (load + verify + JIT), test_run() (BPF_PROG_RUN semantics) and the map's
// host side (bpf(2) map commands).
//
//   build/examples/count_protocols build/examples/packet_counter.o
#include <xbpf/map.hpp>
#include <xbpf/runtime.hpp>
#include <xbpf/test_run.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

// An Ethernet + IPv4 frame of `size` bytes carrying IP protocol `protocol`.
std::vector<uint8_t> frame(uint8_t protocol, size_t size) {
    std::vector<uint8_t> f(size, 0);
    f[12] = 0x08;  // EtherType IPv4, big-endian
    f[13] = 0x00;
    f[14] = 0x45;  // version 4, header length 5 words
    f[14 + 9] = protocol;
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s packet_counter.o\n", argv[0]);
        return 2;
    }
    auto object = xbpf::load_file(argv[1]);
    if (!object.ok()) {
        std::fprintf(stderr, "%s\n", object.error().to_string().c_str());
        return 1;
    }
    auto program = (*object)->find_program("count_packets");
    auto counters = (*object)->find_map("by_protocol");
    if (!program || !counters) {
        std::fprintf(stderr, "%s: no count_packets program or by_protocol map\n", argv[1]);
        return 2;
    }

    const std::vector<std::vector<uint8_t>> packets = {frame(6, 60), frame(6, 1500), frame(17, 128),
                                                       frame(1, 98)};
    for (const auto& packet : packets) {
        xbpf::TestRunOptions options;
        options.data_in = packet;
        auto result = xbpf::test_run(program->executable(), program->type(), options);
        if (!result.ok()) {
            std::fprintf(stderr, "%s\n", result.error().to_string().c_str());
            return 1;
        }
    }

    // A per-CPU value reads as one 16-byte {packets, bytes} slot per CPU; the host sums them.
    std::vector<uint8_t> value(counters->host_value_size());
    for (uint32_t protocol : {1u, 6u, 17u}) {
        if (counters->lookup_elem(&protocol, value.data()) != 0) return 1;
        uint64_t total_packets = 0, total_bytes = 0;
        for (size_t at = 0; at + 16 <= value.size(); at += 16) {
            uint64_t slot[2];
            std::memcpy(slot, value.data() + at, sizeof slot);
            total_packets += slot[0];
            total_bytes += slot[1];
        }
        std::printf("protocol %u: %llu packets, %llu bytes\n", protocol,
                    static_cast<unsigned long long>(total_packets),
                    static_cast<unsigned long long>(total_bytes));
    }
    return 0;
}
