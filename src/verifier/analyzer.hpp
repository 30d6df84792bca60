// The verifier's engine: explores every path of the program from its entry with an abstract
// state, instruction by instruction, forking at branches whose outcome the state does not decide,
// and prunes a path when an explored state at the same instruction covers it (docs/verifier.md).
// Rule checks throw Rejection; verify() turns the first one into the report.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "verifier/program_info.hpp"
#include "verifier/state.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf::verifier {

// A violated rule: where, what in one sentence, and which registers matter for the explanation.
struct Rejection {
    uint32_t pc = 0;
    std::string reason;
    std::vector<int> regs;  // registers whose state the message shows
    // Filled in as the rejection leaves the path it happened on.
    std::string state_text;
    std::string path_text;
    bool described = false;
};

[[noreturn]] void reject(uint32_t pc, std::string reason, std::vector<int> regs = {});

// One step of a path's branch history (an arena of these forms a tree shared by paths).
struct BranchStep {
    uint32_t pc = 0;
    bool taken = false;
    uint32_t parent = 0;  // index in the arena; 0 is the root
};

// One executed instruction, as precision backtracking needs it: where, in which frame, and for
// a load or store through a stack pointer, which frame's stack and which slot.
struct TrailStep {
    static constexpr uint8_t kNoSlot = 0xff;        // not a stack access
    static constexpr uint8_t kSeveralSlots = 0xfe;  // more than one slot, or a variable offset
    uint32_t pc = 0;
    uint8_t frame = 0;
    uint8_t stack_frame = 0;
    uint8_t stack_slot = kNoSlot;
};

struct Path {
    VerifierState state;
    uint32_t pc = 0;
    uint32_t checkpoint = kNoCheckpoint;  // latest stored state this path descends from
    uint32_t history = 0;                 // BranchStep index
    // Work since the path's latest stored state: a new state is stored only when enough was
    // done since (as Linux does), which keeps memory proportional to the work.
    uint32_t insns_since_store = 0;
    uint32_t jumps_since_store = 0;
    // Changes each time the path passes a loop head: states stored with the same epoch were
    // reached within one iteration of the innermost loop the path is in.
    uint32_t loop_epoch = 0;
    // The instructions executed since `checkpoint`, for precision backtracking.
    std::vector<TrailStep> trail;
    static constexpr uint32_t kNoCheckpoint = ~uint32_t{0};
};

struct StoredState {
    std::unique_ptr<VerifierState> state;  // null once evicted
    uint32_t pc = 0;
    uint32_t parent = Path::kNoCheckpoint;
    uint32_t loop_epoch = 0;  // the storing path's Path::loop_epoch
    uint32_t branches = 0;    // paths still being explored below this state; 0: complete
    // Arrivals it pruned and arrivals it did not: a complete state that keeps missing is dropped.
    uint32_t hits = 0;
    uint32_t misses = 0;
    // The instructions from `parent`'s state to this one (kept when the state is evicted).
    std::vector<TrailStep> trail;
    // Numbers found to matter in the exploration below this state (precision.cpp).
    Precision precise;
};

// A global function's parameter as its BTF prototype describes it.
struct GlobalParam {
    enum class Kind : uint8_t { Scalar, Context, Mem };
    Kind kind = Kind::Scalar;
    uint32_t size = 0;  // Mem: the pointee's size
};

class Analyzer {
  public:
    explicit Analyzer(const VerifierInput& input);
    VerifierReport run();

  private:
    friend class HelperCallChecker;

    // Exploration (explore.cpp).
    void explore_from(Path initial);
    void run_path(Path& path);
    bool visit_prune_point(Path& path);
    void fork(const Path& from, uint32_t target, VerifierState state, bool taken);
    void finish_path(const Path& path);
    void clean_dead_registers(VerifierState& state, uint32_t pc) const;
    std::vector<LiveMask> live_masks(const VerifierState& state, uint32_t pc) const;

    // One instruction; returns the next pc, or nullopt when the path ended (transfer.cpp).
    std::optional<uint32_t> step(Path& path);
    void check_alu(Path& path, const Insn& insn);
    void check_pointer_alu(Path& path, const Insn& insn, RegState& dst, const RegState& src,
                           bool dst_is_ptr);
    std::optional<uint32_t> check_jump(Path& path, const Insn& insn);
    std::optional<uint32_t> check_exit(Path& path);
    void check_lddw(Path& path, const Insn& lo, const Insn& hi);

    // Memory (memory.cpp).
    void check_load(Path& path, const Insn& insn);
    void check_store(Path& path, const Insn& insn);
    void check_atomic(Path& path, const Insn& insn);
    void check_legacy_packet_load(Path& path, const Insn& insn);
    // Checks that [reg + off, +size) may be accessed; returns the value read (for loads).
    RegState access_memory(Path& path, int regno, int32_t off, int size, bool write,
                           const RegState* stored, bool sign_extend);
    RegState access_stack(Path& path, const RegState& ptr, int regno, int32_t off, int size,
                          bool write, const RegState* stored);
    RegState access_context(Path& path, const RegState& ptr, int regno, int32_t off, int size,
                            bool write, const RegState* stored);
    // Helper memory arguments: [reg, reg + size) readable (and initialised) or writable.
    void check_mem_region(Path& path, int regno, uint64_t size, bool write, bool init_required,
                          const char* what);
    void check_region_bounds(uint32_t pc, int regno, const RegState& ptr, int32_t off, int size,
                             int64_t limit, const char* region);

    // Calls (calls.cpp).
    std::optional<uint32_t> check_call(Path& path, const Insn& insn);
    std::optional<uint32_t> check_helper_call(Path& path, const Insn& insn);
    uint32_t enter_function(Path& path, uint32_t target);
    void push_callback_frame(VerifierState& state, uint32_t callsite, uint32_t function,
                             const std::vector<RegState>& args, int32_t helper);
    void verify_global_function(uint32_t function);
    void check_global_call(Path& path, uint32_t function);
    const std::vector<GlobalParam>& global_parameters(uint32_t function, uint32_t pc);

    // Precision (precision.cpp): numbers whose exact value a rule relied on are marked in the
    // stored states the path descends from, following the data flow back along the trail.
    void require_precise(Path& path, Precision needs);
    void require_precise_reg(Path& path, int regno);
    void require_precise_slot(Path& path, uint8_t frame, int32_t fp_off);
    // Turns `needs` on the state after `trail` into needs on the state before it.
    void backtrack(const std::vector<TrailStep>& trail, uint32_t next_pc, uint8_t next_frame,
                   Precision& needs) const;

    // State utilities.
    uint32_t new_id() { return ++next_id_; }
    void mark_ptr_or_null(VerifierState& state, uint32_t id, bool is_null);
    void invalidate_packet_pointers(VerifierState& state, uint32_t call_pc);
    void propagate_scalar_bounds(VerifierState& state, const RegState& reg);
    // A branch bounded a number that measures data_end - a packet position: that position's
    // bytes up to the bound are inside the packet.
    void apply_packet_length(Path& path, VerifierState& state, int regno);
    const RegState& read_reg(Path& path, int regno);
    std::string describe_origin(const RegState& reg) const;
    std::string source_at(uint32_t pc) const;
    std::string insn_text(uint32_t pc) const;
    std::string describe_state(const VerifierState& state, const std::vector<int>& regs) const;
    std::string describe_path(uint32_t history) const;
    void log_state(const Path& path);
    // Records, once per instruction, something only a privileged load may do (leaking a
    // pointer, reading stack never written): accepted, but worth saying.
    void note_privileged(uint32_t pc, const std::string& what);

    const VerifierInput& input_;
    std::span<const Insn> prog_;
    const ProgramType& type_;
    ProgramInfo info_;
    bool privileged_;
    bool sleepable_;  // the program may call helpers that sleep

    std::vector<Path> worklist_;
    std::vector<StoredState> stored_;
    std::vector<std::vector<uint32_t>> states_at_;
    std::vector<uint16_t> joins_at_;
    std::vector<BranchStep> history_;
    std::vector<bool> visited_;
    std::vector<bool> noted_privileged_;  // per instruction: a privilege note was recorded
    // Per instruction: how it touched memory (0 none yet, 1 context, 2 other), and the context
    // access it made, so that one instruction does the same kind of access on every path.
    std::vector<uint8_t> access_kind_;
    std::vector<ContextAccess> ctx_access_;
    std::vector<uint32_t> stack_depth_;           // per function: deepest byte touched
    std::vector<std::vector<uint32_t>> callees_;  // per function: functions it calls
    std::vector<int8_t> global_verified_;         // per function: 0 not yet, 1 ok
    std::vector<std::optional<std::vector<GlobalParam>>> global_params_;  // per function
    uint32_t next_id_ = 0;
    uint32_t loop_epochs_ = 0;  // the last Path::loop_epoch handed out
    size_t stored_bytes_ = 0;
    uint64_t visited_insns_ = 0;
    uint64_t budget_;
    const Path* current_ = nullptr;  // for messages
    bool in_step_ = false;           // an instruction is being executed (its step is in the trail)
    VerifierReport report_;
};

}  // namespace xbpf::verifier
