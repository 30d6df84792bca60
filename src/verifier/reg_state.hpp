// What the verifier knows about one register: its type (a scalar or a pointer into some region)
// and numeric facts. A pointer is region + fixed offset + a variable scalar offset; registers
// holding the same possibly-NULL pointer or the same packet position share an id, so a check on
// one applies to all of them.
#pragma once

#include <cstdint>
#include <string>

#include "verifier/scalar.hpp"
#include "xbpf/map_spec.hpp"

namespace xbpf::verifier {

enum class RegType : uint8_t {
    NotInit,         // never written (or clobbered by a call)
    Scalar,          // a number
    Context,         // the program's context
    Stack,           // a frame's stack (frame = which frame)
    Packet,          // packet data (range = bytes proven readable from the id's origin)
    PacketEnd,       // one past the packet's last byte
    PacketMeta,      // packet metadata (ends where the packet starts)
    MapValue,        // a value of `map`
    MapValueOrNull,  // a map lookup's result before the NULL check
    MapPtr,          // a map itself (an lddw of a map, an inner map)
    MapPtrOrNull,    // an inner map from a map-of-maps lookup before the NULL check
    Mem,             // helper-provided memory of mem_size bytes (ringbuf record)
    MemOrNull,       // the same before the NULL check
    Socket,          // struct bpf_sock (context sk field) after the NULL check
    SocketOrNull,    //
    KernelObject,    // an opaque kernel object a helper returned (not dereferenceable)
    KernelObjectOrNull,
    Func,  // the address of a function of the program (callback)
};

const char* reg_type_name(RegType type);
bool is_pointer(RegType type);
bool is_nullable(RegType type);
// The non-NULL type a NULL check turns a nullable type into.
RegType non_null(RegType type);

struct RegState {
    RegType type = RegType::NotInit;
    // Which frame a Stack pointer points into (0 = the main program's).
    uint8_t frame = 0;
    // Bytes written through this pointer are read-only (rodata, BPF_F_RDONLY_PROG).
    bool read_only = false;
    // A number that was a packet pointer until a helper that may move the packet (its
    // origin_pc) ran: for messages only.
    bool stale_packet = false;
    // A number that may also be a kernel pointer a tracing program may read through
    // (ProgramType::context_kernel_pointers): reads only, any offset, as Linux's loads that
    // cannot fault.
    bool kernel_mem = false;
    // A number equal to data_end minus a packet position (packet group `pkt_len_id` plus
    // `pkt_len_off`): a signed lower bound k on it proves the position + k <= data_end
    // (`if (data_end - data < 14) return`), which PREVAIL proves and Linux does not.
    bool has_pkt_len = false;
    uint32_t pkt_len_id = 0;
    int32_t pkt_len_off = 0;
    int32_t off = 0;  // fixed offset of a pointer from its region's start
    // Links copies: same id = same value (NULL checks, packet ranges and scalar bounds learnt on
    // one apply to all). 0: no link.
    uint32_t id = 0;
    // Nonzero for a reference that must be released (ringbuf record): the reference's id.
    uint32_t ref_id = 0;
    // Packet: bytes from this id's origin proven to be inside the packet.
    int32_t range = 0;
    // Mem: size of the region. Func: instruction index of the function.
    uint32_t mem_size = 0;
    // Where the value was made (a helper call, a context load): for messages.
    uint32_t origin_pc = 0;
    const MapSpec* map = nullptr;  // MapValue*/MapPtr*: which map
    // Scalar: its value. Pointer: its variable offset (added on top of `off`).
    Scalar value = Scalar::constant(0);

    static RegState scalar(const Scalar& v) {
        RegState r;
        r.type = RegType::Scalar;
        r.value = v;
        return r;
    }
    static RegState unknown_scalar() { return scalar(Scalar::unknown()); }
    static RegState pointer(RegType type, int32_t off = 0) {
        RegState r;
        r.type = type;
        r.off = off;
        return r;
    }

    bool is_scalar() const { return type == RegType::Scalar; }
    bool is_const(uint64_t v) const {
        return type == RegType::Scalar && value.is_const() && value.const_value() == v;
    }
    // "packet + 14 (verified up to packet + 34)"; "scalar [0, 255]".
    std::string to_string() const;
};

// Same type, same region and numeric facts (ids are compared separately).
bool same_shape(const RegState& a, const RegState& b);

}  // namespace xbpf::verifier
