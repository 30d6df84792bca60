// Transfer functions for arithmetic, jumps, exits and 64-bit immediate loads: what each
// instruction does to the abstract state, and the rules it must obey.
#include <fmt/format.h>

#include "verifier/analyzer.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::verifier {

namespace {

constexpr int32_t kMaxPointerOffset = 1 << 29;

const char* alu_name(uint8_t code) {
    switch (code) {
        case op::ADD: return "+=";
        case op::SUB: return "-=";
        case op::MUL: return "*=";
        case op::DIV: return "/=";
        case op::OR: return "|=";
        case op::AND: return "&=";
        case op::LSH: return "<<=";
        case op::RSH: return ">>=";
        case op::NEG: return "neg";
        case op::MOD: return "%=";
        case op::XOR: return "^=";
        case op::ARSH: return "s>>=";
        case op::END: return "byte swap";
        default: return "?";
    }
}

bool arithmetic_allowed(RegType type) {
    switch (type) {
        case RegType::Context:
        case RegType::Stack:
        case RegType::Packet:
        case RegType::PacketMeta:
        case RegType::MapValue:
        case RegType::Mem: return true;
        default: return false;
    }
}

}  // namespace

const RegState& Analyzer::read_reg(Path& path, int regno) {
    const RegState& r = path.state.reg(regno);
    if (r.type == RegType::NotInit) {
        if (regno == 0 && r.origin_pc < prog_.size() && prog_[r.origin_pc].opcode == op::CALL_IMM &&
            prog_[r.origin_pc].src == op::kCallHelper) {
            reject(path.pc,
                   fmt::format("r0 has no value here: {} returns nothing (it is void in Linux), so "
                               "r0 may not be read after it; set r0 before returning",
                               describe_origin(r)),
                   {});
        }
        if (regno == 0) {
            reject(path.pc,
                   "r0 has no value here: it was never written on this path, or the last call "
                   "returns nothing (void helpers such as bpf_tail_call leave r0 unset)",
                   {});
        }
        reject(path.pc,
               fmt::format("r{} has no value here: it was never written on this path, or a call "
                           "overwrote it (every call clobbers r1-r5)",
                           regno),
               {});
    }
    return r;
}

std::optional<uint32_t> Analyzer::step(Path& path) {
    const uint32_t pc = path.pc;
    const Insn& insn = prog_[pc];
    switch (insn_class(insn.opcode)) {
        case op::ALU:
        case op::ALU64: check_alu(path, insn); return pc + 1;
        case op::LDX: check_load(path, insn); return pc + 1;
        case op::ST:
        case op::STX:
            if ((insn.opcode & op::kModeMask) == op::ATOMIC) {
                check_atomic(path, insn);
            } else {
                check_store(path, insn);
            }
            return pc + 1;
        case op::LD:
            if (is_lddw(insn)) {
                check_lddw(path, insn, prog_[pc + 1]);
                return pc + 2;
            }
            check_legacy_packet_load(path, insn);
            return pc + 1;
        default: return check_jump(path, insn);
    }
}

void Analyzer::check_lddw(Path& path, const Insn& lo, const Insn& hi) {
    const uint32_t pc = path.pc;
    RegState r;
    switch (lo.src) {
        case op::kImm64: r = RegState::scalar(Scalar::constant(lddw_imm(lo, hi))); break;
        case op::kImmMapByIdx:
        case op::kImmMapValueByIdx: {
            if (lo.imm < 0 || static_cast<size_t>(lo.imm) >= input_.maps.size()) {
                reject(pc,
                       fmt::format("lddw refers to map #{}, but the object defines only {} maps",
                                   lo.imm, input_.maps.size()));
            }
            const MapSpec& map = input_.maps[static_cast<size_t>(lo.imm)];
            if (lo.src == op::kImmMapByIdx) {
                r = RegState::pointer(RegType::MapPtr);
                r.map = &map;
                break;
            }
            if (hi.imm < 0 || static_cast<uint32_t>(hi.imm) > map.value_size) {
                reject(pc, fmt::format("lddw takes the address of offset {} in map '{}', whose "
                                       "value has {} bytes",
                                       hi.imm, map.name, map.value_size));
            }
            if (map.type != MapType::Array || map.max_entries == 0) {
                reject(pc, fmt::format("lddw takes the address of a value of map '{}', which is "
                                       "not a non-empty array",
                                       map.name));
            }
            r = RegState::pointer(RegType::MapValue, hi.imm);
            r.map = &map;
            r.read_only = map.origin == MapOrigin::Rodata || (map.flags & map_flags::kRdonlyProg);
            break;
        }
        case op::kImmCodeAddr: {
            const int64_t target = branch_target(prog_, pc);
            if (info_.function_starting_at(static_cast<uint32_t>(target)) < 0) {
                reject(pc,
                       "lddw takes the address of an instruction that does not start a function");
            }
            r = RegState::pointer(RegType::Func);
            r.mem_size = static_cast<uint32_t>(target);
            break;
        }
        case op::kImmMapByFd:
        case op::kImmMapValueByFd:
            reject(pc,
                   "lddw refers to a map by file descriptor; objects must refer to maps by "
                   "index (the loader resolves them)");
        default:
            reject(pc, fmt::format("lddw with pseudo source {} (a kernel variable) cannot be "
                                   "resolved in user space",
                                   lo.src));
    }
    r.origin_pc = pc;
    path.state.reg(lo.dst) = r;
}

void Analyzer::check_alu(Path& path, const Insn& insn) {
    const uint32_t pc = path.pc;
    const bool is64 = insn_class(insn.opcode) == op::ALU64;
    const uint8_t code = insn.opcode & op::kCodeMask;
    const bool use_reg = (insn.opcode & op::kSourceMask) == op::X;
    RegState& dst = path.state.reg(insn.dst);

    if (code == op::MOV) {
        if (!use_reg) {
            const uint64_t v = is64 ? static_cast<uint64_t>(static_cast<int64_t>(insn.imm))
                                    : static_cast<uint32_t>(insn.imm);
            dst = RegState::scalar(Scalar::constant(v));
            dst.origin_pc = pc;
            return;
        }
        RegState& src = const_cast<RegState&>(read_reg(path, insn.src));
        if (insn.off != 0) {  // movsx
            if (!src.is_scalar()) {
                reject(pc,
                       fmt::format("sign-extending move of r{}, which holds a pointer", insn.src),
                       {insn.src});
            }
            Scalar v = src.value.sign_extended(static_cast<unsigned>(insn.off));
            if (!is64) v = v.truncated(4);
            dst = RegState::scalar(v);
            return;
        }
        if (is64) {
            if (src.is_scalar() && src.id == 0) src.id = new_id();
            dst = src;
            return;
        }
        if (!src.is_scalar()) {
            if (!privileged_) {
                reject(pc,
                       fmt::format("32-bit copy of r{}, which holds a pointer: it would leak "
                                   "part of an address",
                                   insn.src),
                       {insn.src});
            }
            dst = RegState::scalar(Scalar::unsigned_range(0, 0xffffffffu));
            return;
        }
        const bool fits = src.value.umax <= 0xffffffffu;
        if (fits && src.id == 0) src.id = new_id();
        const uint32_t id = fits ? src.id : 0;
        dst = RegState::scalar(src.value.truncated(4));
        dst.id = id;
        return;
    }

    const RegState& d = read_reg(path, insn.dst);
    if (code == op::NEG || code == op::END) {
        if (!d.is_scalar()) {
            reject(pc,
                   fmt::format("{} of r{}, which holds a pointer ({})", alu_name(code), insn.dst,
                               d.to_string()),
                   {insn.dst});
        }
        Scalar v = code == op::NEG ? scalar_neg(d.value, is64)
                                   : scalar_endian(d.value, static_cast<unsigned>(insn.imm),
                                                   is64 || (insn.opcode & op::TO_BE) != 0);
        dst = RegState::scalar(v);
        return;
    }

    RegState src;
    if (use_reg) {
        src = read_reg(path, insn.src);
    } else {
        src = RegState::scalar(
            Scalar::constant(is64 ? static_cast<uint64_t>(static_cast<int64_t>(insn.imm))
                                  : static_cast<uint32_t>(insn.imm)));
        if ((code == op::DIV || code == op::MOD) && insn.imm == 0) {
            reject(pc, "division by the constant zero");
        }
        if ((code == op::LSH || code == op::RSH || code == op::ARSH) &&
            (insn.imm < 0 || insn.imm >= (is64 ? 64 : 32))) {
            reject(pc, fmt::format("shift by {} bits, outside 0..{}", insn.imm, is64 ? 63 : 31));
        }
    }

    const bool dst_ptr = is_pointer(d.type);
    const bool src_ptr = is_pointer(src.type);
    if (!dst_ptr && !src_ptr) {
        const bool is_signed = insn.off == 1 && (code == op::DIV || code == op::MOD);
        // A kernel pointer moved by a number is still one (a field's address).
        const bool kernel_mem =
            d.kernel_mem && !src.kernel_mem && is64 && (code == op::ADD || code == op::SUB);
        dst = RegState::scalar(scalar_alu(code, d.value, src.value, is64, is_signed));
        dst.kernel_mem = kernel_mem;
        dst.origin_pc = pc;
        return;
    }
    if (!is64) {
        // A privileged load may subtract pointers in 32 bits (`w7 -= w6` for a packet length,
        // as clang emits it): the result is some number, as Linux makes it; nothing else.
        if (code == op::SUB && privileged_) {
            dst = RegState::scalar(Scalar::unsigned_range(0, 0xffffffffu));
            dst.origin_pc = pc;
            return;
        }
        reject(pc,
               fmt::format("32-bit arithmetic on a pointer (r{} {} r{}): pointers need 64-bit "
                           "arithmetic{}",
                           insn.dst, alu_name(code), use_reg ? insn.src : insn.dst,
                           code == op::SUB ? " (only privileged loads may subtract them in 32 "
                                             "bits, to get a number)"
                                           : ""),
               {insn.dst, insn.src});
    }
    check_pointer_alu(path, insn, dst, src, dst_ptr);
}

void Analyzer::check_pointer_alu(Path& path, const Insn& insn, RegState& dst, const RegState& src,
                                 bool dst_is_ptr) {
    const uint32_t pc = path.pc;
    const uint8_t code = insn.opcode & op::kCodeMask;
    const bool use_reg = (insn.opcode & op::kSourceMask) == op::X;
    const RegState ptr = dst_is_ptr ? dst : src;
    const RegState other = dst_is_ptr ? src : dst;
    const int ptr_reg = dst_is_ptr ? insn.dst : insn.src;
    // The number moves the pointer: its exact range matters from here on.
    if (use_reg && other.is_scalar()) require_precise_reg(path, dst_is_ptr ? insn.src : insn.dst);

    // pointer - pointer into the same region: a distance, a number.
    if (code == op::SUB && dst_is_ptr && is_pointer(src.type)) {
        const bool packet_pair = (dst.type == RegType::Packet || dst.type == RegType::PacketEnd ||
                                  dst.type == RegType::PacketMeta) &&
                                 (src.type == RegType::Packet || src.type == RegType::PacketEnd ||
                                  src.type == RegType::PacketMeta);
        const bool same_region =
            dst.type == src.type && dst.map == src.map && dst.frame == src.frame;
        if (!packet_pair && !same_region) {
            reject(pc,
                   fmt::format("subtracts pointers into different regions ({} - {})",
                               dst.to_string(), src.to_string()),
                   {insn.dst, insn.src});
        }
        const std::string subtracts =
            fmt::format("subtracts two pointers ({} - {})", dst.to_string(), src.to_string());
        if (!privileged_) {
            reject(pc, subtracts + ": the distance between two addresses is for privileged loads",
                   {insn.dst, insn.src});
        }
        note_privileged(pc, subtracts);
        // data_end - packet position: remember what the number measures.
        if (dst.type == RegType::PacketEnd && src.type == RegType::Packet) {
            // Positions of one group share their variable part (it is in the group's origin),
            // so the fixed offset says where the position is.
            const int64_t off = src.off;
            RegState len = RegState::unknown_scalar();
            if (off >= 0 && off < (1 << 16)) {
                len.has_pkt_len = true;
                len.pkt_len_id = src.id;
                len.pkt_len_off = static_cast<int32_t>(off);
            }
            len.origin_pc = pc;
            dst = len;
            return;
        }
        if (same_region && dst.value.is_const() && src.value.is_const() && dst.id == src.id) {
            const auto d =
                static_cast<int64_t>(dst.off) + static_cast<int64_t>(dst.value.const_value()) -
                static_cast<int64_t>(src.off) - static_cast<int64_t>(src.value.const_value());
            dst = RegState::scalar(Scalar::constant(static_cast<uint64_t>(d)));
        } else {
            dst = RegState::unknown_scalar();
        }
        return;
    }
    if (is_pointer(other.type)) {
        reject(pc,
               fmt::format("arithmetic between two pointers (r{} {} r{}): only subtraction of "
                           "pointers into the same region is allowed",
                           insn.dst, alu_name(code), insn.src),
               {insn.dst, insn.src});
    }
    if (code != op::ADD && !(code == op::SUB && dst_is_ptr)) {
        reject(pc,
               fmt::format(
                   "r{} {} {}: only adding a number to a pointer or subtracting one from it "
                   "is allowed; r{} holds {}",
                   insn.dst, alu_name(code), use_reg ? fmt::format("r{}", insn.src) : "constant",
                   ptr_reg, ptr.to_string()),
               {insn.dst, insn.src});
    }
    if (!arithmetic_allowed(ptr.type)) {
        std::string why = is_nullable(ptr.type)
                              ? "it may be NULL: check it against 0 first, then compute with it"
                              : "this kind of pointer cannot be moved";
        reject(pc,
               fmt::format("arithmetic on r{}, which holds {}: {}", ptr_reg, ptr.to_string(), why),
               {ptr_reg});
    }
    RegState result = ptr;
    const bool negate = code == op::SUB;
    if (other.value.is_const()) {
        const auto c = static_cast<int64_t>(other.value.const_value());
        const int64_t off =
            negate ? static_cast<int64_t>(ptr.off) - c : static_cast<int64_t>(ptr.off) + c;
        if (off <= -kMaxPointerOffset || off >= kMaxPointerOffset) {
            reject(pc, fmt::format("pointer offset {} is out of any region's range", off),
                   {ptr_reg});
        }
        result.off = static_cast<int32_t>(off);
    } else {
        // A context pointer may move by a variable (to pass the address of a trace record's
        // field to a probe read); only dereferencing it needs a fixed offset (memory.cpp).
        const Scalar var =
            scalar_alu(negate ? op::SUB : op::ADD, ptr.value, other.value, true, false);
        if (var.smin <= -kMaxPointerOffset || var.smax >= kMaxPointerOffset) {
            reject(pc,
                   fmt::format("r{} {} r{}: the number ({}) is not bounded, so the pointer could "
                               "point anywhere; compare it against limits first",
                               insn.dst, alu_name(code), insn.src, other.value.to_string()),
                   {insn.dst, insn.src});
        }
        result.value = var;
        if (ptr.type == RegType::Packet || ptr.type == RegType::PacketMeta) {
            // A new position: nothing proven about it yet.
            result.id = new_id();
            result.range = 0;
        }
    }
    result.origin_pc = ptr.origin_pc;
    dst = result;
}

std::optional<uint32_t> Analyzer::check_exit(Path& path) {
    const uint32_t pc = path.pc;
    VerifierState& st = path.state;
    const RegState& r0 = read_reg(path, 0);
    if (st.frames.size() > 1) {
        FrameState& callee = st.cur();
        if (r0.type == RegType::Stack && r0.frame == st.depth()) {
            reject(
                pc,
                "the function returns a pointer to its own stack, which is gone after the return",
                {0});
        }
        const bool callback = callee.callback;
        if (callback) {
            require_precise_reg(path, 0);
            if (!r0.is_scalar() || r0.value.smin < 0 || r0.value.smax > 1) {
                reject(pc, fmt::format("the callback must return 0 or 1; r0 = {}", r0.to_string()),
                       {0});
            }
        }
        const RegState ret = r0;
        const uint32_t callsite = callee.callsite;
        const uint8_t popped = static_cast<uint8_t>(st.depth());
        const FrameState callee_copy = callback ? callee : FrameState{};
        st.frames.pop_back();
        for_each_reg(
            st,
            [popped](const RegState& r) { return r.type == RegType::Stack && r.frame >= popped; },
            [](RegState& r) { r = RegState{}; });
        FrameState& caller = st.cur();
        for (int r = 1; r <= 5; ++r)
            caller.regs[static_cast<size_t>(r)] = RegState{};
        caller.regs[0] = callback ? RegState::unknown_scalar() : ret;
        if (callback) {
            // The helper may call the callback again, with the state it left behind.
            VerifierState again = st;
            push_callback_frame(again, callsite, callee_copy.function, callee_copy.callback_args,
                                callee_copy.callback_helper);
            fork(path, info_.functions()[callee_copy.function].start, std::move(again), true);
        }
        return callsite + 1;
    }
    if (is_pointer(r0.type)) {
        const std::string what = fmt::format("the program returns a pointer ({})", r0.to_string());
        if (!privileged_) {
            reject(pc, what + ": that would leak a kernel address to user space", {0});
        }
        note_privileged(pc, what);
    }
    if (type_.return_range) {
        require_precise_reg(path, 0);
        const ReturnRange range = *type_.return_range;
        if (!r0.is_scalar() || r0.value.smin < range.min || r0.value.smax > range.max) {
            reject(pc,
                   fmt::format("a {} program must return a value in [{}, {}]; r0 here is {}",
                               type_.name, range.min, range.max, r0.to_string()),
                   {0});
        }
    }
    if (!st.refs.empty()) {
        const Reference& ref = st.refs.front();
        RegState held;
        held.origin_pc = ref.pc;
        reject(pc,
               fmt::format("{} is not released on this path: a ring buffer record must be "
                           "submitted or discarded, a socket released, before the program returns",
                           fmt::format("the reference acquired by {}", describe_origin(held))));
    }
    return std::nullopt;
}

}  // namespace xbpf::verifier
