// Fuzzes the assembler on arbitrary text; whatever assembles must survive a disassemble ->
// assemble round trip unchanged when it is a valid program.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "xbpf/isa.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto program = xbpf::assemble(text);
    if (!program || !xbpf::validate_program(*program)) return 0;
    xbpf::DisasmOptions options;
    options.syntax = xbpf::Syntax::Conformance;
    auto again = xbpf::assemble(xbpf::disassemble(*program, options));
    if (!again || *again != *program) std::abort();  // the round trip must be exact
    return 0;
}
