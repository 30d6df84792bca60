// Differential fuzzing of the JIT: the input's bytes drive the random program generator of the
// differential tests (tests/unit/jit/program_generator.hpp), so every input is a valid program;
// the checked interpreter and the JIT (with constant blinding for odd-sized inputs) must leave
// the same r0 and the same memory. A disagreement prints the program and traps.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "../tests/unit/jit/differential_harness.hpp"
#include "../tests/unit/jit/program_generator.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace xbpf;
    using namespace xbpf::test;
    if (!jit_available()) return 0;
    static const HelperTable helpers = differential_helpers();
    Choices choices(data, size);
    GeneratorOptions options;
    options.body_budget = 60;
    const GeneratedProgram g = ProgramGenerator(choices, options).generate();

    PrepareOptions checked;
    checked.checked = true;
    auto interp = prepare_interpreter(g.program, helpers, checked);
    PrepareOptions jit_options;
    jit_options.blind_constants = size % 2 == 1;
    auto jit = prepare_jit(g.program, helpers, jit_options);
    if (!interp || !jit) {
        std::fprintf(stderr, "a generated program was refused: %s\n",
                     (!interp ? interp.error() : jit.error()).to_string().c_str());
        __builtin_trap();
    }
    const EngineRun expected = run_generated(**interp, g.memory);
    const EngineRun actual = run_generated(**jit, g.memory);
    if (const std::string problem = compare_runs(expected, actual); !problem.empty()) {
        DisasmOptions disasm;
        disasm.indices = true;
        std::fprintf(stderr, "interpreter and JIT disagree: %s\n%s", problem.c_str(),
                     disassemble(g.program, disasm).c_str());
        __builtin_trap();
    }
    return 0;
}
