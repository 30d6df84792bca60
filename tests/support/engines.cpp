#include "support/engines.hpp"

#include "xbpf/isa.hpp"

namespace xbpf::test {

std::vector<Engine> all_engines() {
    return {Engine::InterpreterFast, Engine::InterpreterChecked, Engine::Jit, Engine::JitBlinded};
}

std::string engine_name(Engine engine) {
    switch (engine) {
        case Engine::InterpreterFast: return "InterpreterFast";
        case Engine::InterpreterChecked: return "InterpreterChecked";
        case Engine::Jit: return "Jit";
        case Engine::JitBlinded: return "JitBlinded";
    }
    return "unknown";
}

EngineKind engine_kind(Engine engine) {
    return engine == Engine::Jit || engine == Engine::JitBlinded ? EngineKind::Jit
                                                                 : EngineKind::Interpreter;
}

bool is_checked(Engine engine) {
    return engine == Engine::InterpreterChecked;
}

Result<std::unique_ptr<Executable>> prepare(Engine engine, std::span<const Insn> program,
                                            const HelperTable& helpers, PrepareOptions options) {
    options.checked = is_checked(engine);
    options.blind_constants = engine == Engine::JitBlinded;
    if (engine_kind(engine) == EngineKind::Jit) return prepare_jit(program, helpers, options);
    return prepare_interpreter(program, helpers, options);
}

Outcome run_assembly(Engine engine, std::string_view assembly, std::span<const uint64_t> args,
                     const HelperTable& helpers, std::span<const MemoryRegion> regions,
                     PrepareOptions options) {
    auto program = assemble(assembly);
    EXPECT_TRUE(program.ok()) << (program ? "" : program.error().to_string()) << "\n" << assembly;
    if (!program) return {};
    auto exe = prepare(engine, *program, helpers, std::move(options));
    EXPECT_TRUE(exe.ok()) << (exe ? "" : exe.error().to_string());
    if (!exe) return {};
    EXPECT_EQ((*exe)->engine(), engine_kind(engine));
    RunContext ctx;
    std::vector<MemoryRegion> granted;
    if ((*exe)->checked()) ctx.dynamic_regions = &granted;
    RunOptions run_options;
    run_options.regions = regions;
    Outcome outcome;
    outcome.r0 = (*exe)->run(ctx, args, run_options);
    outcome.fault = ctx.fault;
    return outcome;
}

LoadOptions load_options(Engine engine) {
    LoadOptions options;
    options.engine = engine_kind(engine);
    options.checked = is_checked(engine);
    return options;
}

void EngineTest::SetUp() {
    if (engine_kind(engine()) == EngineKind::Jit && !jit_available())
        GTEST_SKIP() << "no JIT on this host";
}

}  // namespace xbpf::test
