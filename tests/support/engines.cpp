#include "support/engines.hpp"

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
