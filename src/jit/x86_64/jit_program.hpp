// The JIT's prepared program (internal; the public entry is prepare_jit()).
#pragma once

#include <memory>
#include <vector>

#include "jit/x86_64/copy_loops.hpp"
#include "jit/x86_64/executable_memory.hpp"
#include "jit/x86_64/frame_layout.hpp"
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
    // Whether `address` is a function address of this program (a landing slot).
    bool is_function(uint64_t address) const {
        return address >= landing_table_ && address - landing_table_ < landing_table_size_ &&
               (address - landing_table_) % kLandingSlotBytes == 0;
    }
    // Runs the code `block->target` names through the entry trampoline.
    uint64_t enter(const std::array<uint64_t, 5>& r, RunBlock* block) const {
        return entry_(r[0], r[1], r[2], r[3], r[4], block);
    }
    // The generated code (for tests and disassembly).
    const uint8_t* code() const { return memory_.data(); }
    size_t code_size() const { return code_size_; }

  private:
    using Entry = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunBlock*);

    JitProgram() = default;

    std::vector<Insn> program_;
    GeneratedData data_;
    ExecutableMemory memory_;
    size_t code_size_ = 0;
    Entry entry_ = nullptr;
    uint64_t main_entry_ = 0;
    uint64_t tail_entry_ = 0;
    uint64_t landing_table_ = 0;
    uint64_t landing_table_size_ = 0;
};

}  // namespace xbpf::jit
