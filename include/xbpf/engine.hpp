// Execution engines: what a prepared program needs to run (helpers, memory regions, the host's
// per-run state) and the interface every engine (interpreter, JIT) implements.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "xbpf/error.hpp"
#include "xbpf/insn.hpp"

namespace xbpf {

struct RunContext;
class Executable;

enum class EngineKind { Interpreter, Jit };

// A helper function. Arguments are r1..r5; the result goes to r0. The RunContext is the
// current run's, so a helper can reach the host's state, request a tail call or, in checked
// runs, declare memory it hands to the program. Engines resolve helpers when a program is
// prepared, so a run never meets an unknown id.
using HelperFn = uint64_t (*)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                              RunContext& ctx);

// Helpers by id. Ids follow Linux's numbering (BPF_FUNC_*); an embedder may add its own.
class HelperTable {
  public:
    void set(int32_t id, HelperFn fn);
    HelperFn get(int32_t id) const {
        return id >= 0 && static_cast<size_t>(id) < fns_.size() ? fns_[static_cast<size_t>(id)]
                                                                : nullptr;
    }
    size_t size() const { return fns_.size(); }

  private:
    std::vector<HelperFn> fns_;
};

// Memory a checked run may touch. Stack frames are registered by the engine itself.
struct MemoryRegion {
    uintptr_t begin = 0;
    size_t size = 0;
    bool writable = false;
    // "context", "packet", "map value"...: for fault messages. Not owned: it must outlive the
    // run (string literals, or names of objects the program holds, such as its maps).
    std::string_view name;

    bool contains(uintptr_t addr, size_t len) const {
        return addr >= begin && len <= size && addr - begin <= size - len;
    }
};

// Why a run stopped abnormally: the instruction and what happened there.
struct Fault {
    size_t pc = 0;  // slot index in the program that faulted
    std::string message;
};

// How a helper calls a function of the running program (bpf_loop's and bpf_for_each_map_elem's
// callbacks). The engine running the program provides one for the length of each run; helpers
// reach it through RunContext::call_function.
class FunctionCaller {
  public:
    // Runs the function `function` (the value an lddw of the function, BPF_PSEUDO_FUNC, produced
    // in this run) of the program that called the current helper, with r1..r5 = args, in a new
    // frame of its own (512 bytes of stack) below the caller's, counted towards the limit of
    // kMaxCallDepth frames. Returns its r0. On a fault (not a function of that program, too
    // deep, a fault inside the callback) ctx.fault is set and 0 returned.
    virtual uint64_t call_function(RunContext& ctx, uint64_t function,
                                   const std::array<uint64_t, 5>& args) = 0;

  protected:
    ~FunctionCaller() = default;
};

// Per-run state shared by the engine and the helpers. One per thread of execution; cheap to
// create. Fields the host does not use stay at their defaults.
struct RunContext {
    // The host's own state for this run (hook data, the program type's run state).
    void* host = nullptr;
    // The engine running the program (set by Executable::run), so that a tail call continues
    // in the same engine.
    EngineKind engine = EngineKind::Interpreter;

    // Legacy packet loads (LD_ABS / LD_IND) read from here; a read outside ends the program
    // with r0 = 0 as Linux does.
    const uint8_t* legacy_packet = nullptr;
    size_t legacy_packet_len = 0;

    // A tail call requested by a helper: the engine continues in this program when the
    // helper returns. Linux allows 33 tail calls per run.
    const Executable* tail_call = nullptr;
    int tail_calls_done = 0;
    static constexpr int kMaxTailCalls = 33;

    // Checked runs only (null otherwise): memory helpers hand to the program (map values,
    // ring-buffer records) is added here so accesses to it are allowed.
    std::vector<MemoryRegion>* dynamic_regions = nullptr;

    // Set when the run stopped abnormally; the returned r0 is then meaningless.
    std::optional<Fault> fault;

    // The engine's entry for callbacks (set by Executable::run for the length of the run).
    FunctionCaller* function_caller = nullptr;

    // Calls a function of the running program from a helper (see FunctionCaller). The value
    // is engine-specific: each engine maps its own function addresses back to the function.
    // After a fault (ctx.fault set) the helper should return at once; the run then ends.
    uint64_t call_function(uint64_t function, uint64_t r1 = 0, uint64_t r2 = 0, uint64_t r3 = 0,
                           uint64_t r4 = 0, uint64_t r5 = 0) {
        if (fault) return 0;  // the run is over
        if (function_caller == nullptr) {
            fault = Fault{0, "a helper called back into a program, but no program is running"};
            return 0;
        }
        return function_caller->call_function(*this, function, {r1, r2, r3, r4, r5});
    }

    // Called by helpers that return memory to the program.
    void allow_region(const void* p, size_t size, bool writable, const char* name) {
        if (dynamic_regions != nullptr && p != nullptr) {
            dynamic_regions->push_back(
                MemoryRegion{reinterpret_cast<uintptr_t>(p), size, writable, name});
        }
    }
};

// Resolves the 64-bit value of an lddw with a pseudo source (map by fd/idx, map value, BTF
// variable). Code addresses (kImmCodeAddr) are resolved by the engine itself.
using LddwResolver = std::function<Result<uint64_t>(const Insn& lo, const Insn& hi)>;

struct PrepareOptions {
    // Check every memory access against the registered regions and count instructions.
    bool checked = false;
    // Checked mode: instructions a run may execute before it is stopped (0: no limit).
    uint64_t instruction_budget = 10'000'000;
    LddwResolver resolve_lddw;
    // JIT only: constant blinding for untrusted programs. Every constant the program supplies
    // (ALU and jump immediates, stored immediates, lddw values) is emitted xor-ed with a random
    // key and decoded at run time, so a program cannot place chosen bytes in executable memory.
    // Results are unchanged; the code is slightly larger and slower.
    bool blind_constants = false;
    // JIT only: the most machine code one program may take. A program whose code would be
    // larger is refused with an error naming both sizes. The default admits the largest program
    // the verifier accepts (1,000,000 instructions) at typical code density; hosts that run
    // untrusted code can lower it, as Linux's bpf_jit_limit caps JIT memory.
    size_t max_jit_code_bytes = size_t{64} << 20;
};

// Per-run options for checked mode.
struct RunOptions {
    // Regions the program may access besides its stack (context, packet, ...).
    std::span<const MemoryRegion> regions;
};

// A program prepared for one engine. Thread-safe: many threads may run it at once, each with
// its own RunContext.
class Executable {
  public:
    virtual ~Executable() = default;
    virtual EngineKind engine() const = 0;
    // Prepared for checked runs (the checked interpreter): hosts give such runs a
    // RunContext::dynamic_regions list; other runs need none.
    virtual bool checked() const { return false; }
    // Runs the program with r1..r5 as given and returns r0. On a fault (checked mode, call
    // depth, bad callx, too many tail calls) ctx.fault is set.
    virtual uint64_t run(RunContext& ctx, std::span<const uint64_t> args,
                         const RunOptions& options = {}) const = 0;
    // The program it runs (validated instructions).
    virtual std::span<const Insn> instructions() const = 0;
};

// Prepares a program for the interpreter. The program is validated structurally first; the
// helpers it calls by id must exist in `helpers` (checked here, so runs never meet an unknown
// id).
Result<std::unique_ptr<Executable>> prepare_interpreter(std::span<const Insn> program,
                                                        const HelperTable& helpers,
                                                        const PrepareOptions& options = {});

// Prepares a program for the x86-64 JIT: native code with the interpreter's semantics bit for
// bit. Fails on hosts the JIT does not support and for checked mode (the checked interpreter is
// the oracle). Same helper and lddw rules as prepare_interpreter().
Result<std::unique_ptr<Executable>> prepare_jit(std::span<const Insn> program,
                                                const HelperTable& helpers,
                                                const PrepareOptions& options = {});

// Whether prepare_jit() can work on this host.
bool jit_available();

}  // namespace xbpf
