#include "verifier/reg_state.hpp"

#include <fmt/format.h>

namespace xbpf::verifier {

const char* reg_type_name(RegType type) {
    switch (type) {
        case RegType::NotInit: return "uninitialised";
        case RegType::Scalar: return "scalar";
        case RegType::Context: return "context";
        case RegType::Stack: return "stack";
        case RegType::Packet: return "packet";
        case RegType::PacketEnd: return "packet_end";
        case RegType::PacketMeta: return "packet_meta";
        case RegType::MapValue: return "map_value";
        case RegType::MapValueOrNull: return "map_value_or_null";
        case RegType::MapPtr: return "map";
        case RegType::MapPtrOrNull: return "map_or_null";
        case RegType::Mem: return "mem";
        case RegType::MemOrNull: return "mem_or_null";
        case RegType::Socket: return "socket";
        case RegType::SocketOrNull: return "socket_or_null";
        case RegType::KernelObject: return "kernel_object";
        case RegType::KernelObjectOrNull: return "kernel_object_or_null";
        case RegType::Func: return "function";
    }
    return "?";
}

bool is_pointer(RegType type) {
    return type != RegType::NotInit && type != RegType::Scalar;
}

bool is_nullable(RegType type) {
    switch (type) {
        case RegType::MapValueOrNull:
        case RegType::MapPtrOrNull:
        case RegType::MemOrNull:
        case RegType::SocketOrNull:
        case RegType::KernelObjectOrNull: return true;
        default: return false;
    }
}

RegType non_null(RegType type) {
    switch (type) {
        case RegType::MapValueOrNull: return RegType::MapValue;
        case RegType::MapPtrOrNull: return RegType::MapPtr;
        case RegType::MemOrNull: return RegType::Mem;
        case RegType::SocketOrNull: return RegType::Socket;
        case RegType::KernelObjectOrNull: return RegType::KernelObject;
        default: return type;
    }
}

std::string RegState::to_string() const {
    switch (type) {
        case RegType::NotInit: return "uninitialised";
        case RegType::Scalar:
            return fmt::format("{} {}", kernel_mem ? "kernel pointer or number" : "scalar",
                               value.to_string());
        case RegType::Func: return fmt::format("function at {}", mem_size);
        default: break;
    }
    std::string out = reg_type_name(type);
    if (map != nullptr) out += fmt::format("({})", map->name);
    if (type == RegType::Stack) out = frame == 0 ? "fp" : fmt::format("fp{}", frame);
    if (type == RegType::Stack) {
        out += fmt::format("{}", off);
    } else if (off != 0) {
        out += fmt::format(" {} {}", off < 0 ? '-' : '+', off < 0 ? -int64_t{off} : off);
    }
    if (!(value.is_const() && value.const_value() == 0)) {
        out += fmt::format(" + ({})", value.to_string());
    }
    if (type == RegType::Packet || type == RegType::PacketMeta) {
        if (range > 0) {
            out += fmt::format(" (checked: {} bytes from offset {})", range, 0);
        } else {
            out += " (no bounds check yet)";
        }
    }
    if (type == RegType::Mem || type == RegType::MemOrNull)
        out += fmt::format(" of {} bytes", mem_size);
    if (id != 0) out += fmt::format(" id={}", id);
    if (ref_id != 0) out += fmt::format(" ref={}", ref_id);
    return out;
}

bool same_shape(const RegState& a, const RegState& b) {
    return a.type == b.type && a.kernel_mem == b.kernel_mem && a.frame == b.frame &&
           a.off == b.off && a.range == b.range && a.mem_size == b.mem_size && a.map == b.map &&
           a.read_only == b.read_only && a.value == b.value;
}

}  // namespace xbpf::verifier
