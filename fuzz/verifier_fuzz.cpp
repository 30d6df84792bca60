// libFuzzer target: random bytecode verified as a random program type must never crash or hang
// the verifier. The first byte picks the type, the second the privilege; the rest is the
// program (whole 8-byte instructions). Two maps are offered so lddw map references resolve.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "xbpf/helpers.hpp"
#include "xbpf/program_type.hpp"
#include "xbpf/verifier.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace xbpf;
    if (size < 2 + sizeof(Insn)) return 0;
    static const auto types = ProgramTypeRegistry::global().all();
    if (types.empty()) return 0;
    static const std::vector<MapSpec> maps = [] {
        MapSpec array;
        array.name = "array";
        array.type = MapType::Array;
        array.key_size = 4;
        array.value_size = 16;
        array.max_entries = 4;
        MapSpec ring;
        ring.name = "ring";
        ring.type = MapType::Ringbuf;
        ring.max_entries = 4096;
        return std::vector<MapSpec>{array, ring};
    }();
    const auto& type = types[data[0] % types.size()];
    std::vector<Insn> program((size - 2) / sizeof(Insn));
    std::memcpy(program.data(), data + 2, program.size() * sizeof(Insn));
    VerifierInput input;
    input.program = program;
    input.type = type.get();
    input.maps = maps;
    input.helpers = &HelperCatalog::linux_helpers();
    input.options.privileged = (data[1] & 1) != 0;
    input.options.max_visited_instructions = 200'000;
    (void)verify(input);
    return 0;
}
