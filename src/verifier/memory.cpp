// Loads, stores and atomic operations: every access must fall inside a region the program may
// touch (its stack, the context's fields, checked packet bytes, a map value, helper memory),
// with an allowed size, and may only write where writing is allowed.
#include <fmt/format.h>

#include "verifier/analyzer.hpp"

namespace xbpf::verifier {

namespace {

// Size of struct bpf_sock as the uapi defines it; sockets are read-only.
constexpr int64_t kBpfSockSize = 80;
// Size of struct bpf_flow_keys, which a flow dissector's context points to.
constexpr uint32_t kFlowKeysSize = 56;

std::string fp_offset(int64_t off) {
    return off < 0 ? fmt::format("fp-{}", -off) : fmt::format("fp+{}", off);
}

}  // namespace

void Analyzer::check_region_bounds(uint32_t pc, int regno, const RegState& ptr, int32_t off,
                                   int size, int64_t limit, const char* region) {
    const int64_t lo = static_cast<int64_t>(ptr.off) + off + ptr.value.smin;
    const int64_t hi_var = ptr.value.umax > (uint64_t{1} << 40)
                               ? (int64_t{1} << 40)
                               : static_cast<int64_t>(ptr.value.umax);
    const int64_t hi = static_cast<int64_t>(ptr.off) + off + hi_var + size;
    if (ptr.value.smin < -(int64_t{1} << 40) || lo < 0 || hi > limit) {
        std::string where = ptr.value.is_const() ? fmt::format("offset {}", lo)
                                                 : fmt::format("offsets {}..{}", lo, hi - size);
        reject(pc,
               fmt::format(
                   "r{} points to {}: an access of {} bytes at {} goes outside its {} bytes "
                   "(r{} = {}){}",
                   regno, region, size, where, limit, regno, ptr.to_string(),
                   ptr.value.is_const() ? "" : "; bound the offset with a comparison before use"),
               {regno});
    }
}

RegState Analyzer::access_memory(Path& path, int regno, int32_t off, int size, bool write,
                                 const RegState* stored, bool sign_extend) {
    const uint32_t pc = path.pc;
    const RegState ptr = read_reg(path, regno);
    const bool is_ctx = ptr.type == RegType::Context;
    uint8_t& kind = access_kind_[pc];
    const uint8_t want = is_ctx ? 1 : 2;
    if (kind != 0 && kind != want) {
        reject(pc,
               "this instruction accesses the context on one path and other memory on another; "
               "context accesses are rewritten per instruction, so each must always access the "
               "same kind of memory (copy the code for each case)",
               {regno});
    }
    kind = want;
    if (stored != nullptr && is_pointer(stored->type) && ptr.type != RegType::Stack) {
        const std::string what = fmt::format("stores a pointer ({}) into {}", stored->to_string(),
                                             reg_type_name(ptr.type));
        if (!privileged_) {
            reject(pc, what + ": that would leak a kernel address", {regno});
        }
        note_privileged(pc, what);
    }
    auto scalar_result = [&](Scalar v) {
        if (sign_extend) v = v.sign_extended(static_cast<unsigned>(size * 8));
        return RegState::scalar(v);
    };
    const Scalar any = Scalar::unknown().truncated(static_cast<unsigned>(size));
    switch (ptr.type) {
        case RegType::Stack: {
            RegState r = access_stack(path, ptr, regno, off, size, write, stored);
            if (sign_extend && r.is_scalar())
                r.value = r.value.sign_extended(static_cast<unsigned>(size * 8));
            return r;
        }
        case RegType::Context: return access_context(path, ptr, regno, off, size, write, stored);
        case RegType::Packet:
        case RegType::PacketMeta: {
            if (write && !type_.packet_writable) {
                reject(pc, fmt::format("{} programs may not write into the packet", type_.name),
                       {regno});
            }
            const int64_t start = static_cast<int64_t>(ptr.off) + off;
            if (ptr.value.smin < 0 || start < 0 || start + size > ptr.range) {
                const char* end_name = ptr.type == RegType::Packet ? "data_end" : "data";
                std::string have =
                    ptr.range > 0
                        ? fmt::format("the checks so far cover {} bytes from there", ptr.range)
                        : std::string("no check against ") + end_name + " covers it yet";
                reject(
                    pc,
                    fmt::format("r{} = {}: {} {} bytes at offset {} needs a check that the pointer "
                                "+ {} <= {} first; {}",
                                regno, ptr.to_string(), write ? "writing" : "reading", size, start,
                                start + size, end_name, have),
                    {regno});
            }
            return scalar_result(any);
        }
        case RegType::MapValue: {
            const MapSpec& map = *ptr.map;
            check_region_bounds(pc, regno, ptr, off, size, map.value_size,
                                fmt::format("a value of map '{}'", map.name).c_str());
            if (write && ptr.read_only) {
                reject(
                    pc,
                    fmt::format("writes into map '{}', which is read-only for programs", map.name),
                    {regno});
            }
            if (!write && ptr.value.is_const() && map.origin == MapOrigin::Rodata) {
                const int64_t at = static_cast<int64_t>(ptr.off) + off +
                                   static_cast<int64_t>(ptr.value.const_value());
                if (at >= 0 && static_cast<size_t>(at) + static_cast<size_t>(size) <=
                                   map.initial_value.size()) {
                    uint64_t v = 0;
                    for (int i = size - 1; i >= 0; --i) {
                        v = (v << 8) | map.initial_value[static_cast<size_t>(at + i)];
                    }
                    return scalar_result(Scalar::constant(v));
                }
            }
            return scalar_result(any);
        }
        case RegType::Mem:
            check_region_bounds(pc, regno, ptr, off, size, ptr.mem_size, "helper memory");
            if (write && ptr.read_only) reject(pc, "writes into read-only memory", {regno});
            return scalar_result(any);
        case RegType::Socket:
            if (write) reject(pc, "struct bpf_sock is read-only", {regno});
            check_region_bounds(pc, regno, ptr, off, size, kBpfSockSize, "a struct bpf_sock");
            return scalar_result(any);
        default: break;
    }
    if (is_nullable(ptr.type)) {
        reject(pc,
               fmt::format("r{} may be NULL here: {} can return NULL and no check follows; compare "
                           "r{} with 0 and use it only where it is not 0",
                           regno, describe_origin(ptr), regno),
               {regno});
    }
    // Kernel objects helpers return (a task, a socket cast) read like kernel pointers too, in
    // the types that may read kernel memory.
    const bool kernel_object = ptr.type == RegType::KernelObject && type_.context_kernel_pointers;
    if ((ptr.type == RegType::Scalar && ptr.kernel_mem) || kernel_object) {
        if (write) {
            reject(pc,
                   fmt::format("writes through r{}, a kernel pointer: tracing programs may read "
                               "kernel memory but not write it",
                               regno),
                   {regno});
        }
        // Reads that cannot fault (a faulting read gives 0): what an 8-byte read finds may be
        // another pointer.
        RegState r = scalar_result(any);
        r.kernel_mem = size == 8;
        return r;
    }
    if (ptr.type == RegType::Scalar) {
        if (ptr.stale_packet) {
            reject(pc,
                   fmt::format("r{} was a packet pointer, but {} may have moved or resized the "
                               "packet, so it points nowhere now: load data and data_end from the "
                               "context again after the call and check the bounds again",
                               regno, describe_origin(ptr)),
                   {regno});
        }
        if (ptr.is_const(0)) {
            reject(pc,
                   fmt::format("r{} is NULL here ({}): it cannot be {}", regno,
                               describe_origin(ptr), write ? "written through" : "read through"),
                   {regno});
        }
        reject(
            pc,
            fmt::format("r{} holds a number ({}), not a pointer: memory can only be {} through a "
                        "pointer the verifier knows",
                        regno, ptr.value.to_string(), write ? "written" : "read"),
            {regno});
    }
    if (ptr.type == RegType::PacketEnd) {
        reject(pc,
               fmt::format("r{} is data_end, which points one past the packet: it marks the "
                           "limit and cannot be {}",
                           regno, write ? "written through" : "read"),
               {regno});
    }
    reject(pc,
           fmt::format("r{} holds {}, which cannot be {}", regno, ptr.to_string(),
                       write ? "written through" : "read through"),
           {regno});
}

RegState Analyzer::access_stack(Path& path, const RegState& ptr, int regno, int32_t off, int size,
                                bool write, const RegState* stored) {
    const uint32_t pc = path.pc;
    FrameState& frame = path.state.frames[ptr.frame];
    const int64_t base = static_cast<int64_t>(ptr.off) + off;
    const int64_t lo = base + ptr.value.smin;
    const int64_t hi =
        base + (ptr.value.smax > (int64_t{1} << 40) ? (int64_t{1} << 40) : ptr.value.smax) + size;
    if (lo < -kStackSize || hi > 0) {
        reject(
            pc,
            fmt::format("stack access out of bounds: {} bytes at {} (r{} = {}); the stack is the "
                        "{} bytes below the frame pointer",
                        size, fp_offset(lo), regno, ptr.to_string(), kStackSize),
            {regno});
    }
    uint32_t& depth = stack_depth_[frame.function];
    depth = std::max<uint32_t>(depth, static_cast<uint32_t>(-lo));
    // For precision backtracking: which slot this instruction touched.
    if (!path.trail.empty() && path.trail.back().pc == pc) {
        TrailStep& step = path.trail.back();
        step.stack_frame = ptr.frame;
        const bool one_slot = ptr.value.is_const() && (-lo - 1) / 8 == (-(hi - 1) - 1) / 8;
        step.stack_slot = one_slot ? static_cast<uint8_t>((-lo - 1) / 8) : TrailStep::kSeveralSlots;
    }

    if (!ptr.value.is_const()) {
        // Variable offset: any byte in [lo, hi) may be the one accessed.
        if (write) {
            for (int64_t b = lo; b < hi; ++b) {
                StackSlot* slot = stack_slot(frame, static_cast<int32_t>(b), true);
                const int32_t start = -8 * ((-static_cast<int32_t>(b) - 1) / 8 + 1);
                auto& byte = slot->bytes[static_cast<size_t>(b - start)];
                if (byte == StackByte::Spill) {
                    for (auto& x : slot->bytes) {
                        if (x == StackByte::Spill) x = StackByte::Misc;
                    }
                    slot->spill_size = 0;
                    slot->spilled = RegState{};
                }
                if (byte == StackByte::Zero) byte = StackByte::Misc;
            }
            return RegState{};
        }
        for (int64_t b = lo; b < hi; ++b) {
            const StackByte byte = stack_byte(frame, static_cast<int32_t>(b));
            if (byte == StackByte::Invalid) {
                const std::string what = fmt::format(
                    "reads the stack at a variable offset ({}..{}) that includes "
                    "{}, which was never written on this path",
                    fp_offset(lo), fp_offset(hi - size), fp_offset(b));
                if (!privileged_) reject(pc, what, {regno});
                note_privileged(pc, what);
            }
            if (byte == StackByte::Spill && !privileged_) {
                const StackSlot* slot = stack_slot(frame, static_cast<int32_t>(b));
                if (is_pointer(slot->spilled.type)) {
                    reject(pc, "reads part of a pointer stored on the stack", {regno});
                }
            }
        }
        return RegState::scalar(Scalar::unknown().truncated(static_cast<unsigned>(size)));
    }

    const auto at = static_cast<int32_t>(lo);
    const int32_t slot_start = -8 * ((-at - 1) / 8 + 1);
    const bool one_slot = at + size <= slot_start + 8;
    if (write) {
        RegState value = *stored;
        const bool whole_slot = size == 8 && at == slot_start;
        if (is_pointer(value.type) && !whole_slot) {
            if (!privileged_) {
                reject(pc,
                       fmt::format("stores part of a pointer ({}) on the stack", value.to_string()),
                       {regno});
            }
            value = RegState::unknown_scalar();
        }
        // Overwritten bytes lose whatever spilled register covered them.
        for (int64_t b = at; b < at + size; ++b) {
            StackSlot* slot = stack_slot(frame, static_cast<int32_t>(b), true);
            if (slot->spill_size == 0) continue;
            const int32_t s_start = -8 * ((-static_cast<int32_t>(b) - 1) / 8 + 1);
            const int32_t sp_lo = s_start + slot->spill_start;
            const int32_t sp_hi = sp_lo + slot->spill_size;
            if (at < sp_hi && at + size > sp_lo) {
                if (is_pointer(slot->spilled.type) && !privileged_ && !whole_slot) {
                    reject(pc, "overwrites part of a pointer stored on the stack", {regno});
                }
                const StackByte rest =
                    slot->spilled.is_const(0) ? StackByte::Zero : StackByte::Misc;
                for (auto& x : slot->bytes) {
                    if (x == StackByte::Spill) x = rest;
                }
                slot->spill_size = 0;
                slot->spilled = RegState{};
            }
        }
        if (one_slot) {
            StackSlot* slot = stack_slot(frame, at, true);
            const auto k0 = static_cast<size_t>(at - slot_start);
            const bool spill_ok =
                slot->spill_size == 0 &&
                (value.type != RegType::Scalar || !value.value.is_unknown() || size == 8 || true);
            if (spill_ok && value.type != RegType::NotInit) {
                slot->spill_start = static_cast<uint8_t>(k0);
                slot->spill_size = static_cast<uint8_t>(size);
                slot->spilled = value;
                for (size_t k = k0; k < k0 + static_cast<size_t>(size); ++k)
                    slot->bytes[k] = StackByte::Spill;
                return RegState{};
            }
        }
        const StackByte kind = value.is_const(0) ? StackByte::Zero : StackByte::Misc;
        for (int64_t b = at; b < at + size; ++b) {
            StackSlot* slot = stack_slot(frame, static_cast<int32_t>(b), true);
            const int32_t s_start = -8 * ((-static_cast<int32_t>(b) - 1) / 8 + 1);
            slot->bytes[static_cast<size_t>(b - s_start)] = kind;
        }
        return RegState{};
    }

    // Read at a fixed offset.
    bool all_zero = true;
    bool any_pointer_part = false;
    for (int64_t b = at; b < at + size; ++b) {
        const StackByte byte = stack_byte(frame, static_cast<int32_t>(b));
        if (byte == StackByte::Invalid) {
            note_privileged(pc, fmt::format("reads {} bytes of stack at {}, but {} was never "
                                            "written on this path",
                                            size, fp_offset(at), fp_offset(b)));
            if (!privileged_) {
                reject(
                    pc,
                    fmt::format("reads {} bytes of stack at {}, but {} was never written on this "
                                "path: initialise the variable (or the whole struct, padding "
                                "included) before reading it",
                                size, fp_offset(at), fp_offset(b)),
                    {regno});
            }
            all_zero = false;
        } else if (byte == StackByte::Spill) {
            const StackSlot* slot = stack_slot(frame, static_cast<int32_t>(b));
            if (!slot->spilled.is_const(0)) all_zero = false;
            if (is_pointer(slot->spilled.type)) any_pointer_part = true;
        } else if (byte != StackByte::Zero) {
            all_zero = false;
        }
    }
    if (one_slot) {
        const StackSlot* slot = stack_slot(frame, at);
        if (slot != nullptr && slot->spill_size == size &&
            slot->spill_start == static_cast<uint8_t>(at - slot_start)) {
            bool intact = true;
            for (size_t k = slot->spill_start; k < slot->spill_start + slot->spill_size; ++k) {
                if (slot->bytes[k] != StackByte::Spill) intact = false;
            }
            if (intact) {
                RegState r = slot->spilled;
                if (r.is_scalar() && size < 8) {
                    r.value = r.value.truncated(static_cast<unsigned>(size));
                    r.id = 0;
                    r.has_pkt_len = false;
                }
                return r;
            }
        }
    }
    if (any_pointer_part && !privileged_) {
        reject(pc, "reads part of a pointer stored on the stack: that would leak an address",
               {regno});
    }
    if (all_zero) return RegState::scalar(Scalar::constant(0));
    return RegState::scalar(Scalar::unknown().truncated(static_cast<unsigned>(size)));
}

RegState Analyzer::access_context(Path& path, const RegState& ptr, int regno, int32_t off, int size,
                                  bool write, const RegState* stored) {
    const uint32_t pc = path.pc;
    if (!ptr.value.is_const() || ptr.value.const_value() != 0) {
        reject(pc,
               "accesses the context at a variable offset: context fields must be accessed at "
               "fixed offsets",
               {regno});
    }
    if (ptr.off != 0) {
        // Context accesses are rewritten per instruction from the instruction's own offset, so
        // the base must be the context itself (Linux refuses a moved context pointer too).
        reject(pc,
               fmt::format("accesses the context through r{} = {}: context fields must be reached "
                           "from the unmodified context pointer with the field's offset in the "
                           "instruction (here {})",
                           regno, ptr.to_string(), static_cast<int64_t>(ptr.off) + off),
               {regno});
    }
    const int64_t offset = static_cast<int64_t>(ptr.off) + off;
    if (offset < 0 || offset + size > type_.context_size) {
        reject(pc,
               fmt::format("accesses bytes {}..{} of the context, which has {} bytes ({} programs)",
                           offset, offset + size - 1, type_.context_size, type_.name),
               {regno});
    }
    const ContextAccess access{pc, static_cast<uint32_t>(offset), static_cast<uint8_t>(size),
                               write};
    auto& recorded = ctx_access_[pc];
    if (recorded.size != 0 && (recorded.offset != access.offset || recorded.size != access.size ||
                               recorded.write != write)) {
        reject(
            pc,
            fmt::format("this instruction accesses context offset {} on one path and offset {} on "
                        "another; each context access must be at one fixed offset",
                        recorded.offset, access.offset),
            {regno});
    }
    recorded = access;
    const Scalar any = Scalar::unknown().truncated(static_cast<unsigned>(size));
    if (type_.context_is_plain_memory) {
        if (offset % size != 0) {
            reject(pc,
                   fmt::format("misaligned context access: {} bytes at offset {}", size, offset),
                   {regno});
        }
        if (write) {
            if (!type_.plain_memory_writable) {
                reject(pc, fmt::format("the context of {} programs is read-only", type_.name),
                       {regno});
            }
            if (stored != nullptr && is_pointer(stored->type)) {
                reject(pc, "stores a pointer into the context", {regno});
            }
            return RegState{};
        }
        RegState r = RegState::scalar(any);
        r.kernel_mem = type_.context_kernel_pointers && size == 8;
        return r;
    }
    if (std::string why =
            type_.check_access(static_cast<uint32_t>(offset), static_cast<uint32_t>(size), write);
        !why.empty()) {
        reject(pc,
               fmt::format("{}-byte context {} at offset {}: {}", size, write ? "write" : "read",
                           offset, why),
               {regno});
    }
    const ContextField* field =
        type_.field_at(static_cast<uint32_t>(offset), static_cast<uint32_t>(size));
    if (field == nullptr) {
        reject(
            pc,
            fmt::format("the context of {} programs has no field at offset {}", type_.name, offset),
            {regno});
    }
    if (write) {
        if (stored != nullptr && !stored->is_scalar()) {
            reject(pc, fmt::format("stores a pointer into the context field '{}'", field->name),
                   {regno});
        }
        return RegState{};
    }
    RegState r;
    switch (field->kind) {
        case ContextFieldKind::Scalar: r = RegState::scalar(any); break;
        case ContextFieldKind::PacketStart: r = RegState::pointer(RegType::Packet); break;
        case ContextFieldKind::PacketEnd: r = RegState::pointer(RegType::PacketEnd); break;
        case ContextFieldKind::PacketMeta: r = RegState::pointer(RegType::PacketMeta); break;
        case ContextFieldKind::SocketOrNull:
            r = RegState::pointer(RegType::SocketOrNull);
            r.id = new_id();
            break;
        case ContextFieldKind::Socket: r = RegState::pointer(RegType::Socket); break;
        case ContextFieldKind::FlowKeys:
            r = RegState::pointer(RegType::Mem);
            r.mem_size = kFlowKeysSize;
            break;
    }
    r.origin_pc = pc;
    return r;
}

void Analyzer::check_load(Path& path, const Insn& insn) {
    const bool sign_extend = (insn.opcode & op::kModeMask) == op::MEMSX;
    const int size = access_size(insn.opcode);
    RegState r = access_memory(path, insn.src, insn.off, size, false, nullptr, sign_extend);
    if (r.origin_pc == 0) r.origin_pc = path.pc;
    path.state.reg(insn.dst) = r;
}

void Analyzer::check_store(Path& path, const Insn& insn) {
    const int size = access_size(insn.opcode);
    RegState value;
    if (insn_class(insn.opcode) == op::ST) {
        uint64_t v = static_cast<uint64_t>(static_cast<int64_t>(insn.imm));
        if (size < 8) v &= (uint64_t{1} << (size * 8)) - 1;
        value = RegState::scalar(Scalar::constant(v));
    } else {
        value = read_reg(path, insn.src);
        if (value.is_scalar() && size < 8)
            value.value = value.value.truncated(static_cast<unsigned>(size));
        value.id = value.is_scalar() && size < 8 ? 0 : value.id;
    }
    access_memory(path, insn.dst, insn.off, size, true, &value, false);
}

void Analyzer::check_atomic(Path& path, const Insn& insn) {
    const uint32_t pc = path.pc;
    const int size = access_size(insn.opcode);
    if (size != 4 && size != 8) reject(pc, "atomic operations are 32 or 64 bits wide");
    const RegState& ptr = read_reg(path, insn.dst);
    if (ptr.type != RegType::Stack && ptr.type != RegType::MapValue && ptr.type != RegType::Mem) {
        reject(pc,
               fmt::format("atomic operation on r{} ({}): only the stack, map values and helper "
                           "memory allow atomics",
                           insn.dst, ptr.to_string()),
               {insn.dst});
    }
    RegState src = read_reg(path, insn.src);
    if (!src.is_scalar()) {
        reject(pc, fmt::format("atomic operation with r{}, which holds a pointer", insn.src),
               {insn.src});
    }
    if (insn.imm == op::CMPXCHG) {
        const RegState& r0 = read_reg(path, 0);
        if (!r0.is_scalar()) reject(pc, "compare-and-exchange with a pointer in r0", {0});
    }
    // Read the old value (the location must be readable and initialised), then write a number.
    RegState old = access_memory(path, insn.dst, insn.off, size, false, nullptr, false);
    RegState stored = RegState::scalar(Scalar::unknown().truncated(static_cast<unsigned>(size)));
    access_memory(path, insn.dst, insn.off, size, true, &stored, false);
    if (!old.is_scalar()) old = RegState::unknown_scalar();
    old.value = old.value.truncated(static_cast<unsigned>(size));
    old.id = 0;
    if (insn.imm == op::CMPXCHG) {
        path.state.reg(0) = old;
    } else if (insn.imm & op::FETCH) {
        path.state.reg(insn.src) = old;
    }
}

void Analyzer::check_legacy_packet_load(Path& path, const Insn& insn) {
    const uint32_t pc = path.pc;
    if (!type_.legacy_packet_loads) {
        reject(pc, fmt::format("legacy packet loads (LD_ABS/LD_IND) are not allowed in {} programs",
                               type_.name));
    }
    const RegState& ctx = read_reg(path, 6);
    if (ctx.type != RegType::Context || ctx.off != 0) {
        reject(pc, "legacy packet loads need the context in r6", {6});
    }
    if ((insn.opcode & op::kModeMask) == op::IND) {
        const RegState& idx = read_reg(path, insn.src);
        if (!idx.is_scalar())
            reject(pc, "legacy packet load with a pointer as the offset", {insn.src});
    }
    if (!path.state.refs.empty()) {
        reject(pc, "legacy packet loads may end the program, but a reference is held");
    }
    for (int r = 1; r <= 5; ++r)
        path.state.reg(r) = RegState{};
    path.state.reg(0) = RegState::scalar(
        Scalar::unknown().truncated(static_cast<unsigned>(access_size(insn.opcode))));
}

}  // namespace xbpf::verifier
