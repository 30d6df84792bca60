// The engines a test can run a program in, for tests written once and instantiated per engine
// (TEST_P over all_engines()): the fast and the checked interpreter, the JIT, and the JIT with
// constant blinding. Engines agree bit for bit, so one expected result serves them all.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "xbpf/engine.hpp"
#include "xbpf/runtime.hpp"

namespace xbpf::test {

enum class Engine { InterpreterFast, InterpreterChecked, Jit, JitBlinded };

// Every engine, the JIT ones included where the host has no JIT (their tests skip there).
std::vector<Engine> all_engines();
std::string engine_name(Engine engine);
EngineKind engine_kind(Engine engine);
bool is_checked(Engine engine);

// Prepares `program` for `engine`; `options.checked` and `options.blind_constants` are set from
// the engine.
Result<std::unique_ptr<Executable>> prepare(Engine engine, std::span<const Insn> program,
                                            const HelperTable& helpers,
                                            PrepareOptions options = {});

// What a run gave: r0, or the fault that stopped it.
struct Outcome {
    uint64_t r0 = 0;
    std::optional<Fault> fault;
};

// Assembles `assembly`, prepares it for `engine` and runs it once with r1.. = args; checked runs
// may access `regions` and the memory helpers grant. Assembly and preparation errors fail the
// current test.
Outcome run_assembly(Engine engine, std::string_view assembly, std::span<const uint64_t> args = {},
                     const HelperTable& helpers = {}, std::span<const MemoryRegion> regions = {},
                     PrepareOptions options = {});

// Load options that select `engine` (the runtime has no blinding: JitBlinded loads as Jit).
LoadOptions load_options(Engine engine);

// Base of engine-parameterized fixtures: skips the JIT engines on hosts without a JIT.
class EngineTest : public ::testing::TestWithParam<Engine> {
  protected:
    void SetUp() override;
    Engine engine() const { return GetParam(); }
};

// For INSTANTIATE_TEST_SUITE_P: names instances after their engine.
struct EngineNames {
    std::string operator()(const ::testing::TestParamInfo<Engine>& info) const {
        return engine_name(info.param);
    }
};

#define XBPF_INSTANTIATE_FOR_ENGINES(fixture)                                                    \
    INSTANTIATE_TEST_SUITE_P(Engines, fixture, ::testing::ValuesIn(::xbpf::test::all_engines()), \
                             ::xbpf::test::EngineNames())

}  // namespace xbpf::test
