// Helper functions as the verifier and the engines see them: a prototype (what the arguments
// must be, what comes back) and, where xbpf implements the helper, the function itself.
//
// Ids, names and prototypes are Linux's (`enum bpf_func_id`, the argument and return types of
// each helper's `struct bpf_func_proto`), so a program is checked against the same contract
// here as in the kernel. An embedding application adds its own helpers (ids it chooses, best
// above 0x10000) with the same description.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "xbpf/engine.hpp"
#include "xbpf/map.hpp"

namespace xbpf {

// What an argument register must hold at the call (Linux's `enum bpf_arg_type`, simplified to
// what a user-space runtime can check).
enum class HelperArg : uint8_t {
    None,            // the helper takes no more arguments
    Anything,        // any initialised value (a scalar, or a pointer where leaks are allowed)
    Scalar,          // any initialised scalar (no pointer)
    Map,             // a map: the value of an lddw of a map (or an inner map from a map of maps)
    MapKey,          // pointer to key_size readable bytes of the preceding Map argument's map
    MapValue,        // pointer to value_size readable bytes of the preceding Map argument's map
    MapValueUninit,  // pointer to value_size writable bytes the helper fills (pop, peek)
    MapValueOrNull,  // as MapValue, or NULL (the initial value of sk/task/inode_storage_get)
    Mem,             // pointer to readable bytes; their count is the next argument (Size...)
    MemOrNull,       // as Mem, or NULL (then the size must be 0)
    MemUninit,       // pointer to writable bytes the helper fills; count is the next argument
    Size,            // a scalar bounded to [1, limit]: the size of the preceding Mem argument
    SizeOrZero,      // as Size, also 0
    Context,         // the program's context pointer, unmodified
    ContextOrNull,
    Func,             // a callback: the value of an lddw of a function of the program
    StackOrNull,      // pointer into the stack (a callback's context), or NULL
    LongOut,          // pointer to 8 writable bytes the helper fills
    IntOut,           // pointer to 4 writable bytes the helper fills
    ConstString,      // pointer to a NUL-terminated string in read-only map memory
    AllocMem,         // a pointer from ringbuf_reserve, unmodified: the call releases it
    AllocSizeOrZero,  // a constant size for ringbuf_reserve
    SpinLock,         // pointer to the struct bpf_spin_lock inside a map value
    KernelObject,     // a kernel object (socket, task, BTF id, timer, dynptr...): xbpf has none
};

// What a helper leaves in r0 (Linux's `enum bpf_return_type`, simplified likewise).
enum class HelperRet : uint8_t {
    Integer,             // a scalar
    Void,                // nothing: r0 may not be read afterwards
    MapValueOrNull,      // pointer to the value of the map in argument 1, or NULL
    MapValue,            // pointer to a value of the map in argument 1, never NULL
    AllocMemOrNull,      // pointer to `argument 2` bytes (ringbuf_reserve) or NULL: a reference
                         // that must be released (submit/discard) on every path
    KernelObjectOrNull,  // a kernel object pointer or NULL: xbpf treats it as opaque
    KernelObject,        // a kernel object pointer, never NULL (get_current_task_btf...)
};

struct HelperPrototype {
    std::string name;  // "bpf_map_lookup_elem"
    HelperRet ret = HelperRet::Integer;
    std::array<HelperArg, 5> args{};  // unused trailing arguments are None
    // The helper may move or resize packet data (xdp_adjust_head, skb_pull_data...): packet
    // pointers derived before the call are invalid after it.
    bool changes_packet_data = false;
    // Linux allows it only to GPL-compatible programs.
    bool gpl_only = false;
    // r0, when not NULL, is a reference the program must release on every path (the sockets of
    // sk_lookup_tcp/udp, the record of ringbuf_reserve).
    bool acquires_reference = false;
    // The call releases the reference held in argument 1 (sk_release, ringbuf_submit/discard).
    bool releases_first_argument = false;
};

// Callbacks (HelperArg::Func) receive, as Linux passes them:
//   bpf_loop:              r1 = index (u64), r2 = the callback context; returns 0 to continue,
//                          1 to stop
//   bpf_for_each_map_elem: r1 = map, r2 = key, r3 = value, r4 = the callback context; returns
//                          0 to continue, 1 to stop
//   bpf_timer_set_callback: r1 = map, r2 = key, r3 = value (verify only)
//   bpf_find_vma:          r1 = task, r2 = vma, r3 = the callback context (verify only)
//   bpf_user_ringbuf_drain: r1 = dynptr, r2 = the callback context (verify only)

// A helper: its prototype and, when xbpf can run it, its implementation (null: verify only).
struct HelperDefinition {
    int32_t id = 0;
    HelperPrototype prototype;
    HelperFn function = nullptr;
};

// A program as a prog_array holds it: what bpf_tail_call continues in. The runtime's programs
// implement it.
class TailCallTarget : public MapValueObject {
  public:
    // The program prepared for `engine`, or nullptr when it is not (then the tail call fails).
    virtual const Executable* executable(EngineKind engine) const = 0;
};

// Helpers by id: what the verifier checks calls against and what the engines call. Immutable
// once built; copy it to extend it.
class HelperCatalog {
  public:
    // Every Linux helper with its prototype; implementations for those that make sense in
    // user space (docs/helpers.md lists which and why not).
    static const HelperCatalog& linux_helpers();

    // Adds or replaces a helper.
    void add(HelperDefinition helper);
    // The helper with this id, or nullptr.
    const HelperDefinition* find(int32_t id) const;
    // The implementations, for prepare_interpreter() and the JIT.
    const HelperTable& table() const { return table_; }
    const std::vector<HelperDefinition>& all() const { return helpers_; }

  private:
    std::vector<HelperDefinition> helpers_;  // sorted by id
    HelperTable table_;
};

// Where bpf_trace_printk and bpf_trace_vprintk write, one message per call: xbpf's trace_pipe.
// The host reads it; many threads may write at once. Keeps the latest `capacity` messages.
class TraceLog {
  public:
    explicit TraceLog(size_t capacity = 4096) : capacity_(capacity) {}
    // The log runs use when their host names none.
    static TraceLog& global();

    void write(std::string_view message);
    // Removes and returns every message, oldest first.
    std::vector<std::string> take();

  private:
    std::mutex mutex_;
    std::deque<std::string> lines_;
    size_t capacity_;
};

// Seeds the calling thread's bpf_get_prandom_u32 generator. Each thread starts from the same
// fixed seed, so runs are reproducible; tests reseed to get a known sequence.
void seed_prandom(uint64_t seed);

}  // namespace xbpf
