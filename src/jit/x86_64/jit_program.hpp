// The JIT's prepared program (internal; the public entry is prepare_jit()).
#pragma once

#include <memory>
#include <vector>

#include "jit/x86_64/copy_loops.hpp"
#include "jit/x86_64/executable_memory.hpp"
#include "xbpf/engine.hpp"

namespace xbpf::jit {

// Data the generated code points to.
struct GeneratedData {
    std::vector<std::unique_ptr<CopyLoop>> copy_loops;
};

class JitProgram final : public Executable {
  public:
    static Result<std::unique_ptr<JitProgram>> prepare(std::span<const Insn> program,
                                                       const HelperTable& helpers,
                                                       const PrepareOptions& options);

    EngineKind engine() const override { return EngineKind::Jit; }
    uint64_t run(RunContext& ctx, std::span<const uint64_t> args,
                 const RunOptions& options) const override;
    std::span<const Insn> instructions() const override { return program_; }

    // Where a tail call into this program continues (inside the caller's frame).
    uint64_t tail_entry() const { return tail_entry_; }
    // The generated code (for tests and disassembly).
    const uint8_t* code() const { return memory_.data(); }
    size_t code_size() const { return code_size_; }

  private:
    using Entry = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext*);

    JitProgram() = default;

    std::vector<Insn> program_;
    std::vector<HelperFn> helpers_;
    GeneratedData data_;
    ExecutableMemory memory_;
    size_t code_size_ = 0;
    Entry entry_ = nullptr;
    uint64_t tail_entry_ = 0;
};

}  // namespace xbpf::jit
