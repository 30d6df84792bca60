// prepare_jit(): validation, helper and lddw resolution (the interpreter's rules and messages),
// code generation, then the code copied into W^X memory.
#include "jit/x86_64/jit_program.hpp"

#include <random>

#include <fmt/format.h>

#include "jit/x86_64/code_generator.hpp"
#include "jit/x86_64/program_facts.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::jit {
namespace {

bool cpu_has_bmi2() {
#if defined(__x86_64__)
    return __builtin_cpu_supports("bmi2");
#else
    return false;
#endif
}

}  // namespace

Result<std::unique_ptr<JitProgram>> JitProgram::prepare(std::span<const Insn> program,
                                                        const HelperTable& helpers,
                                                        const PrepareOptions& options) {
    if (options.checked) {
        return Error(
            "checked mode runs only in the interpreter (the oracle); the JIT has no checked mode");
    }
    if (!jit_available())
        return Error("the x86-64 JIT is not available on this host; use the interpreter");
    if (auto s = validate_program(program); !s) return std::move(s).error();

    auto p = std::unique_ptr<JitProgram>(new JitProgram());
    p->program_.assign(program.begin(), program.end());

    // Helpers and lddw values are resolved now, with the interpreter's errors.
    std::vector<uint64_t> lddw_values(program.size(), 0);
    for (size_t pc = 0; pc < program.size(); ++pc) {
        const Insn& insn = program[pc];
        auto error_here = [pc](std::string message) {
            return std::move(Error(std::move(message)).in(fmt::format("instruction {}", pc)));
        };
        if (insn.opcode == op::CALL_IMM && insn.src == op::kCallHelperBtf)
            return error_here("calls to kernel functions (kfuncs) are not supported");
        if (insn.opcode == op::CALL_IMM && insn.src == op::kCallHelper &&
            (insn.imm < 0 || helpers.get(insn.imm) == nullptr)) {
            std::string_view name = linux_helper_name(insn.imm);
            return error_here(fmt::format("call to unknown helper {}{}{}", insn.imm,
                                          name.empty() ? "" : " ", name));
        }
        if (!is_lddw(insn)) continue;
        const Insn& hi = program[pc + 1];
        uint64_t value = lddw_imm(insn, hi);
        if (insn.src != op::kImm64 && insn.src != op::kImmCodeAddr) {
            if (!options.resolve_lddw) {
                return error_here(fmt::format(
                    "lddw with pseudo source {} needs a loader to resolve it", insn.src));
            }
            auto resolved = options.resolve_lddw(insn, hi);
            if (!resolved) return std::move(resolved).error().in(fmt::format("instruction {}", pc));
            value = *resolved;
        }
        lddw_values[pc] = value;
        ++pc;
    }

    const ProgramFacts facts = analyze_program(program);
    CodegenInput input;
    input.program = program;
    input.facts = &facts;
    input.helpers = &helpers;
    input.lddw_values = lddw_values;
    input.bmi2 = cpu_has_bmi2();
    input.blind_constants = options.blind_constants;
    input.program_identity = p.get();
    if (options.blind_constants) input.blinding_seed = std::random_device{}();
    GeneratedCode generated = CodeGenerator(input).generate();

    const uint32_t size = generated.code.finish();
    if (size > options.max_jit_code_bytes) {
        return Error(
            fmt::format("the program's x86-64 code takes {} bytes, more than the JIT code "
                        "size limit of {} bytes (PrepareOptions::max_jit_code_bytes)",
                        size, options.max_jit_code_bytes));
    }
    auto memory = ExecutableMemory::allocate(size);
    if (!memory) return std::move(memory).error();
    generated.code.copy_to(memory->data());
    if (auto s = memory->seal(); !s) return std::move(s).error();
    p->memory_ = std::move(*memory);
    p->data_.copy_loops = std::move(generated.copy_loops);
    p->code_size_ = size;
    const auto base = reinterpret_cast<uintptr_t>(p->memory_.data());
    p->entry_ = reinterpret_cast<Entry>(base + generated.code.offset(generated.entry));
    p->main_entry_ = base + generated.code.offset(generated.main_entry);
    p->tail_entry_ = base + generated.code.offset(generated.tail_entry);
    p->landing_table_ = base + generated.code.offset(generated.landing_table);
    p->landing_table_size_ = facts.functions.size() * kLandingSlotBytes;
    return p;
}

namespace {

// A run's entry for callbacks: enters the calling program's function through the trampoline
// with a run block of its own, whose frames continue the run's depth count.
class JitCallbacks final : public FunctionCaller {
  public:
    explicit JitCallbacks(RunBlock* block) : block_(block) {}

    uint64_t call_function(RunContext& ctx, uint64_t function,
                           const std::array<uint64_t, 5>& args) override {
        RunBlock& outer = *block_;
        const auto* program = static_cast<const JitProgram*>(outer.helper_program);
        if (program == nullptr || !program->is_function(function)) {
            outer.callback_faulted = 1;
            ctx.fault =
                Fault{outer.helper_pc,
                      fmt::format("the callback {:#x} is not a function of the program", function)};
            return 0;
        }
        // The helper's caller is frame (frame_base - helper_rsp) / stride - 1 of the block; the
        // callback's frame comes right after it, as the interpreter counts.
        const auto caller_frames =
            static_cast<int64_t>((outer.frame_base - outer.helper_rsp) / kFrameStride);
        const int64_t depth = outer.base_depth + caller_frames;
        if (depth >= kMaxCallDepth) {
            outer.callback_faulted = 1;
            ctx.fault = Fault{outer.helper_pc, fmt::format("bpf-to-bpf calls nest deeper than {} "
                                                           "frames",
                                                           kMaxCallDepth)};
            return 0;
        }
        RunBlock inner;
        inner.ctx = &ctx;
        inner.target = function;
        inner.limit_distance = limit_distance(depth);
        inner.base_depth = depth;
        block_ = &inner;
        const uint64_t r0 = program->enter(args, &inner);
        block_ = &outer;
        if (ctx.fault) outer.callback_faulted = 1;
        return r0;
    }

  private:
    RunBlock* block_;
};

}  // namespace

uint64_t JitProgram::run(RunContext& ctx, std::span<const uint64_t> args, const RunOptions&) const {
    ctx.engine = EngineKind::Jit;
    std::array<uint64_t, 5> r{};
    const size_t n = args.size() < 5 ? args.size() : 5;
    for (size_t i = 0; i < n; ++i)
        r[i] = args[i];
    RunBlock block;
    block.ctx = &ctx;
    block.target = main_entry_;
    block.limit_distance = limit_distance(0);
    JitCallbacks callbacks(&block);
    FunctionCaller* const outer = ctx.function_caller;
    ctx.function_caller = &callbacks;
    const uint64_t r0 = enter(r, &block);
    ctx.function_caller = outer;
    return r0;
}

}  // namespace xbpf::jit

namespace xbpf {

Result<std::unique_ptr<Executable>> prepare_jit(std::span<const Insn> program,
                                                const HelperTable& helpers,
                                                const PrepareOptions& options) {
    auto p = jit::JitProgram::prepare(program, helpers, options);
    if (!p) return std::move(p).error();
    return std::unique_ptr<Executable>(std::move(*p));
}

bool jit_available() {
#if defined(__x86_64__)
    // Some hosts forbid executable mappings (SELinux execmem, PaX): try once.
    static const bool available = [] {
        auto memory = jit::ExecutableMemory::allocate(1);
        if (!memory) return false;
        memory->data()[0] = 0xc3;  // ret
        return memory->seal().ok();
    }();
    return available;
#else
    return false;
#endif
}

}  // namespace xbpf
