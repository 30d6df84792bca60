// The interpreter's prepared program (internal; the public entry is prepare_interpreter()).
#pragma once

#include <cstring>
#include <memory>
#include <vector>

#include "xbpf/engine.hpp"

namespace xbpf::vm {

struct Machine;

// One pre-decoded instruction slot. `handler` is the address of the code for the slot's exact
// operation. The second slot of an lddw holds the resolved 64-bit value in place of a handler.
struct Slot {
    const void* handler = nullptr;
    int32_t imm = 0;
    uint8_t dst = 0;
    uint8_t src = 0;
    int16_t off = 0;

    uint64_t value() const {
        uint64_t v;
        std::memcpy(&v, &handler, sizeof v);
        return v;
    }
    void set_value(uint64_t v) { std::memcpy(&handler, &v, sizeof v); }
};
static_assert(sizeof(Slot) == 16 && sizeof(void*) == 8, "the interpreter assumes 64-bit pointers");

class Program final : public Executable {
  public:
    static Result<std::unique_ptr<Program>> prepare(std::span<const Insn> program,
                                                    const HelperTable& helpers,
                                                    const PrepareOptions& options);

    EngineKind engine() const override { return EngineKind::Interpreter; }
    bool checked() const override { return checked_; }
    uint64_t run(RunContext& ctx, std::span<const uint64_t> args,
                 const RunOptions& options) const override;
    std::span<const Insn> instructions() const override { return program_; }

    // A helper's callback (RunContext::call_function), in the run `m` of this program.
    uint64_t call_back(Machine& m, RunContext& ctx, uint64_t function,
                       const std::array<uint64_t, 5>& args) const;

  private:
    Program() = default;

    // Runs from `ip` on the state `m` until the frame it starts in exits.
    template <bool kChecked>
    uint64_t execute(Machine& m, RunContext& ctx, const Slot* ip) const;
    // The function whose first slot is at `address` (what lddw of a function gives), or null.
    const Slot* function_at(uint64_t address) const;
    static bool access_ok(uintptr_t addr, size_t size, bool write, const uint8_t* stack, int depth,
                          const RunOptions& options, const RunContext& ctx);
    // The dispatch labels of execute<checked>, obtained by a special call of it.
    static const void* const* labels(bool checked);

    std::vector<Insn> program_;
    std::vector<Slot> slots_;
    std::vector<bool> function_start_;  // callx may only enter a program at these slots
    std::vector<HelperFn> helpers_;
    bool checked_ = false;
    bool calls_back_ = false;  // it takes function addresses: helpers may call back into it
    uint64_t budget_ = 0;
};

}  // namespace xbpf::vm
