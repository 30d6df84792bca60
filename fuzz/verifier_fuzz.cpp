// libFuzzer target: random bytecode verified as a random program type must never crash or hang
// the verifier. The first byte picks the type, the second the privilege; the rest is the
// program (whole 8-byte instructions). Six maps (array, ring buffer, hash, prog array, array of
// maps, read-only data) are offered so lddw map references resolve (scripts/fuzz.sh seeds it
// with the corpus's programs).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "xbpf/helpers.hpp"
#include "xbpf/program_type.hpp"
#include "xbpf/verifier.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace xbpf;
    if (size < 2 + sizeof(Insn)) return 0;
    static const auto types = ProgramTypeRegistry::global().all();
    if (types.empty()) return 0;
    // Maps of the kinds programs use, so lddw map references and map helpers get far.
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
        MapSpec hash;
        hash.name = "hash";
        hash.type = MapType::Hash;
        hash.key_size = 8;
        hash.value_size = 32;
        hash.max_entries = 64;
        MapSpec progs;
        progs.name = "progs";
        progs.type = MapType::ProgArray;
        progs.key_size = 4;
        progs.value_size = 4;
        progs.max_entries = 8;
        MapSpec outer;
        outer.name = "outer";
        outer.type = MapType::ArrayOfMaps;
        outer.key_size = 4;
        outer.value_size = 4;
        outer.max_entries = 2;
        outer.inner = std::make_shared<MapSpec>(array);
        MapSpec rodata;
        rodata.name = ".rodata";
        rodata.type = MapType::Array;
        rodata.key_size = 4;
        rodata.value_size = 16;
        rodata.max_entries = 1;
        rodata.origin = MapOrigin::Rodata;
        rodata.flags = map_flags::kRdonlyProg;
        rodata.initial_value = {'%', 'd', '\n', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        return std::vector<MapSpec>{array, ring, hash, progs, outer, rodata};
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
