// Calls: bpf-to-bpf calls (a new frame, verified in the caller's context), global functions
// (verified once from their BTF argument types), and helper calls checked against their
// prototypes, with the helpers whose meaning goes beyond a prototype handled by id.
#include <linux/bpf.h>

#include <fmt/format.h>
#include <algorithm>

#include "verifier/analyzer.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::verifier {

namespace {

namespace helper_id {
constexpr int32_t kMapLookup = 1;
constexpr int32_t kMapUpdate = 2;
constexpr int32_t kMapDelete = 3;
constexpr int32_t kTailCall = 12;
constexpr int32_t kForEachMapElem = 164;
constexpr int32_t kLoop = 181;
constexpr int32_t kRingbufReserve = 131;
}  // namespace helper_id

// Maps whose values programs reach through lookup/update/delete.
bool holds_plain_values(MapType t) {
    switch (t) {
        case MapType::ProgArray:
        case MapType::PerfEventArray:
        case MapType::Ringbuf:
        case MapType::UserRingbuf:
        case MapType::StackTrace:
        case MapType::Queue:
        case MapType::Stack:
        case MapType::BloomFilter: return false;
        default: return true;
    }
}

// Helpers that may sleep (Linux's might_sleep protos): callable only from sleepable programs.
bool helper_may_sleep(int32_t id) {
    switch (id) {
        case BPF_FUNC_copy_from_user:
        case BPF_FUNC_copy_from_user_task:
        case BPF_FUNC_ima_inode_hash:
        case BPF_FUNC_ima_file_hash: return true;
        default: return false;
    }
}

// Helpers Linux offers only in some kernel configurations: a program using them is accepted
// with a note saying what its kernel needs.
const char* config_dependent_note(int32_t id) {
    switch (id) {
        case BPF_FUNC_probe_write_user:
            return "Linux offers it only when the kernel is not locked down (lockdown "
                   "integrity mode removes it), so some kernels refuse this program";
        case BPF_FUNC_override_return:
            return "Linux offers it only in kernels built with CONFIG_BPF_KPROBE_OVERRIDE, and "
                   "only on functions open to error injection, so some kernels refuse this "
                   "program";
        default: return nullptr;
    }
}

bool is_map_of_maps(MapType t) {
    return t == MapType::ArrayOfMaps || t == MapType::HashOfMaps;
}

std::string helper_label(const HelperDefinition& h) {
    return fmt::format("{}#{}", h.prototype.name, h.id);
}

// The value of `size` bytes a pointer to the stack points at, when they hold a known constant.
std::optional<uint64_t> constant_stack_value(const VerifierState& st, const RegState& ptr,
                                             uint32_t size) {
    if (ptr.type != RegType::Stack || !ptr.value.is_const() || size == 0 || size > 8)
        return std::nullopt;
    const int64_t at =
        static_cast<int64_t>(ptr.off) + static_cast<int64_t>(ptr.value.const_value());
    if (at >= 0 || at < -kStackSize) return std::nullopt;
    const FrameState& frame = st.frames[ptr.frame];
    const StackSlot* slot = stack_slot(frame, static_cast<int32_t>(at));
    if (slot == nullptr) return std::nullopt;
    const int32_t start = -8 * ((-static_cast<int32_t>(at) - 1) / 8 + 1);
    const auto k = static_cast<size_t>(at - start);
    if (slot->spill_size == size && slot->spill_start == k && slot->spilled.is_scalar() &&
        slot->spilled.value.is_const()) {
        for (size_t b = k; b < k + size; ++b) {
            if (slot->bytes[b] != StackByte::Spill) return std::nullopt;
        }
        uint64_t v = slot->spilled.value.const_value();
        if (size < 8) v &= (uint64_t{1} << (size * 8)) - 1;
        return v;
    }
    bool zero = k + size <= 8;
    for (size_t b = k; zero && b < k + size; ++b)
        zero = slot->bytes[b] == StackByte::Zero;
    if (zero) return 0;
    return std::nullopt;
}

}  // namespace

std::optional<uint32_t> Analyzer::check_call(Path& path, const Insn& insn) {
    const uint32_t pc = path.pc;
    if ((insn.opcode & op::kSourceMask) == op::X) {
        reject(pc, "indirect calls (callx) are not supported: call functions directly");
    }
    if (insn.src == op::kCallHelperBtf) {
        reject(pc, fmt::format("calls a kernel function (kfunc, BTF id {}): user space has no "
                               "kernel functions",
                               insn.imm));
    }
    if (insn.src == op::kCallLocal) {
        const auto target = static_cast<uint32_t>(branch_target(prog_, pc));
        const int f = info_.function_starting_at(target);
        if (f < 0) reject(pc, "calls an instruction that does not start a function");
        callees_[info_.function_of(pc)].push_back(static_cast<uint32_t>(f));
        if (info_.functions()[static_cast<size_t>(f)].global) {
            check_global_call(path, static_cast<uint32_t>(f));
            return pc + 1;
        }
        return enter_function(path, target);
    }
    return check_helper_call(path, insn);
}

uint32_t Analyzer::enter_function(Path& path, uint32_t target) {
    const uint32_t pc = path.pc;
    VerifierState& st = path.state;
    if (st.frames.size() >= static_cast<size_t>(kMaxCallDepth)) {
        reject(pc, fmt::format("calls nest more than {} deep (functions calling functions); "
                               "Linux allows at most {} frames",
                               kMaxCallDepth - 1, kMaxCallDepth));
    }
    for (const auto& frame : st.frames) {
        if (info_.functions()[frame.function].start == target) {
            reject(pc, "recursive call: a function calls itself, directly or through others");
        }
    }
    FrameState callee;
    callee.callsite = pc;
    callee.function = info_.function_of(target);
    for (int r = 1; r <= 5; ++r)
        callee.regs[static_cast<size_t>(r)] = st.reg(r);
    RegState fp = RegState::pointer(RegType::Stack);
    fp.frame = static_cast<uint8_t>(st.frames.size());
    callee.regs[kFramePointer] = fp;
    st.frames.push_back(std::move(callee));
    return target;
}

void Analyzer::push_callback_frame(VerifierState& state, uint32_t callsite, uint32_t function,
                                   const std::vector<RegState>& args, int32_t helper) {
    if (state.frames.size() >= static_cast<size_t>(kMaxCallDepth)) {
        reject(callsite, "a callback would nest more than 8 frames deep");
    }
    FrameState frame;
    frame.callsite = callsite;
    frame.function = function;
    frame.callback = true;
    frame.callback_helper = helper;
    frame.callback_args = args;
    for (size_t r = 0; r < args.size() && r < 5; ++r)
        frame.regs[r + 1] = args[r];
    RegState fp = RegState::pointer(RegType::Stack);
    fp.frame = static_cast<uint8_t>(state.frames.size());
    frame.regs[kFramePointer] = fp;
    state.frames.push_back(std::move(frame));
}

void Analyzer::check_mem_region(Path& path, int regno, uint64_t size, bool write,
                                bool init_required, const char* what) {
    const uint32_t pc = path.pc;
    const RegState& ptr = read_reg(path, regno);
    if (size == 0) return;
    if (size > (uint64_t{1} << 29)) {
        reject(pc, fmt::format("{} (r{}) is given a size that is not bounded", what, regno),
               {regno});
    }
    const int sz = static_cast<int>(size);
    switch (ptr.type) {
        case RegType::Stack: {
            FrameState& frame = path.state.frames[ptr.frame];
            const int64_t lo = static_cast<int64_t>(ptr.off) + ptr.value.smin;
            const int64_t hi = static_cast<int64_t>(ptr.off) +
                               (ptr.value.smax > (1 << 20) ? (1 << 20) : ptr.value.smax) + sz;
            if (lo < -kStackSize || hi > 0) {
                const std::string where =
                    hi > 0 ? fmt::format(
                                 "they reach fp+{}, above the frame pointer where the "
                                 "stack ends",
                                 hi)
                           : fmt::format("they start at fp{}, below the 512-byte stack", lo);
                reject(pc,
                       fmt::format("{} (r{} = {}) needs {} bytes of stack there, but {}: pass "
                                   "a buffer at least as large as the size argument",
                                   what, regno, ptr.to_string(), size, where),
                       {regno});
            }
            uint32_t& depth = stack_depth_[frame.function];
            depth = std::max<uint32_t>(depth, static_cast<uint32_t>(-lo));
            for (int64_t b = lo; b < hi; ++b) {
                const auto at = static_cast<int32_t>(b);
                StackSlot* slot = stack_slot(frame, at, true);
                const int32_t s_start = -8 * ((-at - 1) / 8 + 1);
                StackByte& byte = slot->bytes[static_cast<size_t>(at - s_start)];
                if (!write && init_required && byte == StackByte::Invalid) {
                    const std::string text = fmt::format(
                        "{} (r{} = {}) must be {} initialised bytes, but fp{} was never written "
                        "on this path",
                        what, regno, ptr.to_string(), size, at);
                    if (!privileged_) reject(pc, text, {regno});
                    note_privileged(pc, text);
                }
                if (!write && byte == StackByte::Spill && is_pointer(slot->spilled.type)) {
                    const std::string text =
                        fmt::format("{} (r{}) includes a pointer stored on the stack ({})", what,
                                    regno, slot->spilled.to_string());
                    if (!privileged_) reject(pc, text + ": that would leak an address", {regno});
                    note_privileged(pc, text);
                }
                if (write) {
                    if (slot->spill_size != 0) {
                        for (auto& x : slot->bytes) {
                            if (x == StackByte::Spill) x = StackByte::Misc;
                        }
                        slot->spill_size = 0;
                        slot->spilled = RegState{};
                    }
                    byte = StackByte::Misc;
                }
            }
            return;
        }
        case RegType::Packet:
        case RegType::PacketMeta: {
            if (write && !type_.packet_writable) {
                reject(pc,
                       fmt::format("{} (r{}) would be written into the packet, which {} programs "
                                   "may only read",
                                   what, regno, type_.name),
                       {regno});
            }
            const int64_t start = ptr.off;
            if (ptr.value.smin < 0 || start < 0 || start + sz > ptr.range) {
                reject(pc,
                       fmt::format("{} (r{} = {}) needs {} bytes of packet, but the checks against "
                                   "data_end so far cover {} bytes",
                                   what, regno, ptr.to_string(), size, ptr.range),
                       {regno});
            }
            return;
        }
        case RegType::MapValue:
            check_region_bounds(pc, regno, ptr, 0, sz, ptr.map->value_size,
                                fmt::format("a value of map '{}'", ptr.map->name).c_str());
            if (write && ptr.read_only) {
                reject(
                    pc,
                    fmt::format("{} would be written into read-only map '{}'", what, ptr.map->name),
                    {regno});
            }
            return;
        case RegType::Mem:
            check_region_bounds(pc, regno, ptr, 0, sz, ptr.mem_size, "helper memory");
            if (write && ptr.read_only)
                reject(pc, fmt::format("{} would be written into read-only memory", what), {regno});
            return;
        default: break;
    }
    if (is_nullable(ptr.type)) {
        reject(pc,
               fmt::format("{} (r{}) may be NULL here: {} can return NULL and no check follows",
                           what, regno, describe_origin(ptr)),
               {regno});
    }
    if (ptr.is_scalar() && ptr.stale_packet) {
        reject(pc,
               fmt::format("{} (r{}) was a packet pointer, but {} may have moved or resized the "
                           "packet: load data and data_end again after the call and check the "
                           "bounds again",
                           what, regno, describe_origin(ptr)),
               {regno});
    }
    reject(pc,
           fmt::format("{} (r{}) must point to the stack, a map value, checked packet bytes or "
                       "helper memory; it holds {}",
                       what, regno, ptr.to_string()),
           {regno});
}

std::optional<uint32_t> Analyzer::check_helper_call(Path& path, const Insn& insn) {
    const uint32_t pc = path.pc;
    const int32_t id = insn.imm;
    const HelperDefinition* h = input_.helpers != nullptr ? input_.helpers->find(id) : nullptr;
    if (h == nullptr) {
        const auto name = linux_helper_name(id);
        reject(pc, name.empty()
                       ? fmt::format("calls helper #{}, which does not exist", id)
                       : fmt::format("calls {}#{}, which xbpf does not provide", name, id));
    }
    if (!type_.allows_helper(id)) {
        reject(pc, fmt::format("{} programs may not call {}", type_.name, helper_label(*h)));
    }
    if (helper_may_sleep(id) && !sleepable_) {
        reject(pc, fmt::format("{} may sleep, so only sleepable programs may call it (sections "
                               "ending in .s such as uprobe.s/ or lsm.s/, and syscall programs)",
                               helper_label(*h)));
    }
    if (const char* note = config_dependent_note(id); note != nullptr) {
        const std::string text = fmt::format("{}: {}", helper_label(*h), note);
        if (std::find(report_.warnings.begin(), report_.warnings.end(), text) ==
            report_.warnings.end()) {
            report_.warnings.push_back(text);
        }
    }
    const HelperPrototype& proto = h->prototype;
    VerifierState& st = path.state;
    const MapSpec* map = nullptr;
    uint64_t alloc_size = 0;
    uint32_t callback_target = 0;
    bool has_callback = false;
    std::optional<uint64_t> const_key;
    RegState callback_ctx = RegState::scalar(Scalar::constant(0));
    const std::string label = helper_label(*h);

    for (int i = 0; i < 5; ++i) {
        const HelperArg arg = proto.args[static_cast<size_t>(i)];
        if (arg == HelperArg::None) break;
        const int regno = i + 1;
        const std::string what = fmt::format("argument {} of {}", regno, label);
        const RegState& r = arg == HelperArg::Anything ? st.reg(regno) : read_reg(path, regno);
        // A number where the helper expects a size, a constant or NULL: its value matters.
        if (r.is_scalar() && arg != HelperArg::Scalar && arg != HelperArg::Anything) {
            require_precise_reg(path, regno);
        }
        auto need_map = [&]() -> const MapSpec& {
            if (map == nullptr) reject(pc, fmt::format("{}: no map argument precedes it", what));
            return *map;
        };
        auto next_size = [&](bool& allow_zero) -> uint64_t {
            const HelperArg next =
                i + 1 < 5 ? proto.args[static_cast<size_t>(i + 1)] : HelperArg::None;
            allow_zero = next == HelperArg::SizeOrZero;
            if (next != HelperArg::Size && next != HelperArg::SizeOrZero) return 0;
            const RegState& s = read_reg(path, regno + 1);
            if (!s.is_scalar()) {
                reject(pc,
                       fmt::format("argument {} of {} is a size and must be a number; it holds {}",
                                   regno + 1, label, s.to_string()),
                       {regno + 1});
            }
            if (s.value.smin < 0 || s.value.umax > (uint64_t{1} << 29)) {
                reject(
                    pc,
                    fmt::format("argument {} of {} is a size, but its value ({}) is not bounded: "
                                "compare it against the buffer size first",
                                regno + 1, label, s.value.to_string()),
                    {regno + 1});
            }
            if (!allow_zero && s.value.umin == 0) {
                reject(pc,
                       fmt::format("argument {} of {} is a size that may be 0 ({}); it must be at "
                                   "least 1",
                                   regno + 1, label, s.value.to_string()),
                       {regno + 1});
            }
            return s.value.umax;
        };
        switch (arg) {
            case HelperArg::None:
            case HelperArg::Size:
            case HelperArg::SizeOrZero:
                if (!r.is_scalar()) reject(pc, fmt::format("{} must be a number", what), {regno});
                break;
            case HelperArg::Anything:
                // Linux passes these through unchecked (trace_printk's unused arguments).
                break;
            case HelperArg::KernelObject:
                if (is_nullable(r.type) && arg == HelperArg::KernelObject) {
                    reject(pc, fmt::format("{} may be NULL: check it first", what), {regno});
                }
                break;
            case HelperArg::Scalar:
                if (!r.is_scalar()) {
                    reject(pc,
                           fmt::format("{} must be a number; r{} holds {}", what, regno,
                                       r.to_string()),
                           {regno});
                }
                break;
            case HelperArg::Map:
                if (r.type != RegType::MapPtr) {
                    reject(
                        pc,
                        fmt::format("{} must be a map (an inner map must be checked against NULL "
                                    "first); r{} holds {}",
                                    what, regno, r.to_string()),
                        {regno});
                }
                map = r.map;
                break;
            case HelperArg::MapKey:
                check_mem_region(path, regno, need_map().key_size, false, true, what.c_str());
                const_key = constant_stack_value(st, r, map->key_size);
                if (const_key) {
                    // The key's value decides whether the lookup can fail.
                    require_precise_slot(
                        path, r.frame,
                        static_cast<int32_t>(static_cast<int64_t>(r.off) +
                                             static_cast<int64_t>(r.value.const_value())));
                }
                break;
            case HelperArg::MapValue:
                check_mem_region(path, regno, need_map().value_size, false, true, what.c_str());
                break;
            case HelperArg::MapValueOrNull:
                if (r.is_const(0)) break;
                check_mem_region(path, regno, need_map().value_size, false, true, what.c_str());
                break;
            case HelperArg::SpinLock:
                if (r.type != RegType::MapValue) {
                    reject(pc, fmt::format("{} must point to a bpf_spin_lock in a map value", what),
                           {regno});
                }
                check_mem_region(path, regno, 4, true, false, what.c_str());
                break;
            case HelperArg::MapValueUninit:
                check_mem_region(path, regno, need_map().value_size, true, false, what.c_str());
                break;
            case HelperArg::Mem:
            case HelperArg::MemOrNull:
            case HelperArg::MemUninit: {
                bool allow_zero = false;
                const uint64_t size = next_size(allow_zero);
                if (arg == HelperArg::MemOrNull && r.is_const(0)) break;
                if (r.is_scalar() && allow_zero && size == 0) break;
                check_mem_region(path, regno, size, arg == HelperArg::MemUninit, true,
                                 what.c_str());
                break;
            }
            case HelperArg::Context:
            case HelperArg::ContextOrNull:
                if (arg == HelperArg::ContextOrNull && r.is_const(0)) break;
                if (r.type != RegType::Context || r.off != 0) {
                    reject(pc,
                           fmt::format("{} must be the context pointer as the program received it; "
                                       "r{} holds {}",
                                       what, regno, r.to_string()),
                           {regno});
                }
                break;
            case HelperArg::Func:
                if (r.type != RegType::Func) {
                    reject(pc, fmt::format("{} must be a function of the program", what), {regno});
                }
                callback_target = r.mem_size;
                has_callback = true;
                break;
            case HelperArg::StackOrNull:
                if (!r.is_const(0) && r.type != RegType::Stack) {
                    reject(pc,
                           fmt::format("{} must point to the stack or be NULL; r{} holds {}", what,
                                       regno, r.to_string()),
                           {regno});
                }
                callback_ctx = r;
                break;
            case HelperArg::LongOut:
                check_mem_region(path, regno, 8, true, false, what.c_str());
                break;
            case HelperArg::IntOut:
                check_mem_region(path, regno, 4, true, false, what.c_str());
                break;
            case HelperArg::ConstString: {
                if (r.type != RegType::MapValue || !r.read_only || !r.value.is_const()) {
                    reject(pc,
                           fmt::format("{} must be a constant string in read-only data (a string "
                                       "literal); r{} holds {}",
                                       what, regno, r.to_string()),
                           {regno});
                }
                const auto at = static_cast<size_t>(static_cast<int64_t>(r.off) +
                                                    static_cast<int64_t>(r.value.const_value()));
                const auto& bytes = r.map->initial_value;
                bool terminated = false;
                for (size_t k = at; k < bytes.size(); ++k) {
                    if (bytes[k] == 0) {
                        terminated = true;
                        break;
                    }
                }
                if (!terminated)
                    reject(pc, fmt::format("{} is not a NUL-terminated string", what), {regno});
                break;
            }
            case HelperArg::AllocMem:
                if (r.type != RegType::Mem || r.ref_id == 0 || r.off != 0 || !r.value.is_const()) {
                    reject(pc,
                           fmt::format("{} must be a ring buffer record from bpf_ringbuf_reserve, "
                                       "unmodified and checked against NULL; r{} holds {}",
                                       what, regno, r.to_string()),
                           {regno});
                }
                break;
            case HelperArg::AllocSizeOrZero:
                if (!r.is_scalar() || !r.value.is_const()) {
                    reject(pc, fmt::format("{} must be a constant size", what), {regno});
                }
                alloc_size = r.value.const_value();
                break;
        }
    }

    // Helpers whose meaning goes beyond their prototype.
    if ((id == helper_id::kMapLookup || id == helper_id::kMapUpdate ||
         id == helper_id::kMapDelete) &&
        map != nullptr && !holds_plain_values(map->type)) {
        reject(pc, fmt::format("{} cannot be used with map '{}' of this type", label, map->name));
    }
    if (id == helper_id::kTailCall && (map == nullptr || map->type != MapType::ProgArray)) {
        reject(pc,
               fmt::format("bpf_tail_call needs a prog_array map{}",
                           map != nullptr ? fmt::format("; map '{}' is not one", map->name) : ""));
    }
    if (id == helper_id::kRingbufReserve && (map == nullptr || map->type != MapType::Ringbuf)) {
        reject(pc, "bpf_ringbuf_reserve needs a ring buffer map");
    }
    // Releasing a reference: every copy of the record becomes unusable.
    for (int i = 0; i < 5; ++i) {
        const bool releases = proto.args[static_cast<size_t>(i)] == HelperArg::AllocMem ||
                              (i == 0 && proto.releases_first_argument);
        if (!releases) continue;
        const uint32_t ref = st.reg(i + 1).ref_id;
        if (ref == 0) {
            reject(pc,
                   fmt::format("argument {} of {} must be a reference the program acquired (and "
                               "checked against NULL); r{} holds {}",
                               i + 1, label, i + 1, st.reg(i + 1).to_string()),
                   {i + 1});
        }
        std::erase_if(st.refs, [ref](const Reference& x) { return x.id == ref; });
        for_each_reg(
            st, [ref](const RegState& r) { return r.ref_id == ref; },
            [](RegState& r) { r = RegState{}; });
    }
    if (proto.changes_packet_data) invalidate_packet_pointers(st, pc);

    std::vector<RegState> cb_args;
    if (has_callback) {
        const int f = info_.function_starting_at(callback_target);
        if (f < 0) reject(pc, "the callback is not a function");
        if (id == helper_id::kLoop) {
            cb_args = {RegState::scalar(Scalar::unsigned_range(0, (1u << 23) - 1)), callback_ctx};
        } else if (id == helper_id::kForEachMapElem && map != nullptr) {
            // Linux walks only arrays and hash maps (their map_for_each_callback).
            static constexpr MapType kWalkable[] = {MapType::Array,   MapType::PercpuArray,
                                                    MapType::Hash,    MapType::PercpuHash,
                                                    MapType::LruHash, MapType::LruPercpuHash};
            if (std::find(std::begin(kWalkable), std::end(kWalkable), map->type) ==
                std::end(kWalkable)) {
                reject(pc, fmt::format("{} cannot walk map '{}': callback functions are allowed "
                                       "only for array and hash maps",
                                       label, map->name));
            }
            RegState m = RegState::pointer(RegType::MapPtr);
            m.map = map;
            RegState key = RegState::pointer(RegType::Mem);
            key.mem_size = map->key_size;
            key.read_only = true;
            RegState value = RegState::pointer(RegType::MapValue);
            value.map = map;
            value.read_only =
                map->origin == MapOrigin::Rodata || (map->flags & map_flags::kRdonlyProg);
            cb_args = {m, key, value, callback_ctx};
        } else {
            reject(pc,
                   fmt::format("{} takes a callback, which the verifier does not support for this "
                               "helper",
                               label));
        }
        callees_[info_.function_of(pc)].push_back(static_cast<uint32_t>(f));
    }

    for (int r = 1; r <= 5; ++r)
        st.reg(r) = RegState{};
    RegState& r0 = st.reg(0);
    r0 = RegState{};
    switch (proto.ret) {
        case HelperRet::Integer: r0 = RegState::unknown_scalar(); break;
        case HelperRet::Void: break;
        case HelperRet::MapValueOrNull:
        case HelperRet::MapValue: {
            if (map == nullptr)
                reject(pc, fmt::format("{} returns a map value but has no map argument", label));
            const bool nullable = proto.ret == HelperRet::MapValueOrNull;
            if (is_map_of_maps(map->type)) {
                if (!map->inner)
                    reject(pc,
                           fmt::format("map-of-maps '{}' has no inner map definition", map->name));
                r0 = RegState::pointer(nullable ? RegType::MapPtrOrNull : RegType::MapPtr);
                r0.map = map->inner.get();
            } else {
                r0 = RegState::pointer(nullable ? RegType::MapValueOrNull : RegType::MapValue);
                r0.map = map;
                r0.read_only =
                    map->origin == MapOrigin::Rodata || (map->flags & map_flags::kRdonlyProg);
            }
            // An array lookup with a constant key inside the array cannot fail (Linux 6.14+).
            const bool array = map->type == MapType::Array || map->type == MapType::PercpuArray;
            if (nullable && array && const_key && *const_key < map->max_entries) {
                r0.type = RegType::MapValue;
            } else if (nullable) {
                r0.id = new_id();
            }
            break;
        }
        case HelperRet::AllocMemOrNull: {
            if (alloc_size == 0 || alloc_size > (uint64_t{1} << 29)) {
                reject(pc, fmt::format("{} needs a constant size above 0", label));
            }
            r0 = RegState::pointer(RegType::MemOrNull);
            r0.mem_size = static_cast<uint32_t>(alloc_size);
            r0.id = new_id();
            r0.ref_id = r0.id;
            st.refs.push_back(Reference{r0.ref_id, pc});
            break;
        }
        case HelperRet::KernelObjectOrNull:
            r0 = RegState::pointer(RegType::KernelObjectOrNull);
            r0.id = new_id();
            break;
        case HelperRet::KernelObject: r0 = RegState::pointer(RegType::KernelObject); break;
    }
    if (proto.acquires_reference && proto.ret != HelperRet::AllocMemOrNull && is_pointer(r0.type)) {
        if (r0.id == 0) r0.id = new_id();
        r0.ref_id = r0.id;
        st.refs.push_back(Reference{r0.ref_id, pc});
    }
    r0.origin_pc = pc;

    if (has_callback) {
        const auto f = static_cast<uint32_t>(info_.function_starting_at(callback_target));
        // The helper may call the callback no time at all (this path) or once and more (forked).
        VerifierState entered = st;
        push_callback_frame(entered, pc, f, cb_args, id);
        fork(path, callback_target, std::move(entered), true);
    }
    if (id == helper_id::kTailCall) {
        // A successful tail call does not return; a failed one continues here.
    }
    return pc + 1;
}

void Analyzer::invalidate_packet_pointers(VerifierState& state, uint32_t call_pc) {
    for_each_reg(
        state,
        [](const RegState& r) {
            return r.type == RegType::Packet || r.type == RegType::PacketEnd ||
                   r.type == RegType::PacketMeta;
        },
        [call_pc](RegState& r) {
            r = RegState::unknown_scalar();
            r.stale_packet = true;
            r.origin_pc = call_pc;
        });
}

}  // namespace xbpf::verifier
