// Program types are data: a contract that says what a program of the type may do with its
// context, which helpers it may call and what it may return. The verifier checks programs
// against it; the runtime uses it to rewrite context accesses and to build contexts for test
// runs and hooks. Linux's types are predefined (ids from `enum bpf_prog_type`); an embedding
// application registers its own the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xbpf/error.hpp"
#include "xbpf/insn.hpp"

namespace xbpf {

// What a context field holds.
enum class ContextFieldKind : uint8_t {
    Scalar,        // a number
    PacketStart,   // pointer to the first byte of packet data (xdp_md.data, __sk_buff.data)
    PacketEnd,     // pointer one past the last byte (data_end)
    PacketMeta,    // pointer to the metadata before the packet (data_meta); it ends at data
    SocketOrNull,  // pointer to the struct bpf_sock of the packet, or NULL (__sk_buff.sk)
};

// One field of the context struct as programs see it (the Linux uapi struct), and where the
// runtime keeps it in the native context the program really receives.
struct ContextField {
    std::string name;     // "data", "data_end", "mark", "cb[0]"
    uint32_t offset = 0;  // in the uapi struct
    uint32_t size = 0;    // in the uapi struct (pointers are 4 bytes there: Linux's __u32 data)
    ContextFieldKind kind = ContextFieldKind::Scalar;
    bool readable = true;
    bool writable = false;
    // Loads of part of a scalar field (1, 2 or 4 bytes of it at an offset inside it) are
    // allowed, as Linux allows "narrow loads" of most fields.
    bool narrow_reads = true;
    // Where the field is in the native context: the offset and width the rewritten access uses.
    // Pointer fields are 8 bytes natively.
    uint32_t native_offset = 0;
    uint8_t native_size = 0;
};

// The range of r0 at exit that the type allows (cgroup programs: [0, 1]), inclusive.
struct ReturnRange {
    int64_t min = 0;
    int64_t max = 0;
};

struct ProgramType {
    uint32_t id = 0;   // Linux's enum bpf_prog_type value, or an embedder's own id (>= 0x10000)
    std::string name;  // bpftool's spelling: "xdp", "sched_cls", "cgroup_sock_addr"
    // Size of the context struct programs see. Accesses beyond it are rejected.
    uint32_t context_size = 0;
    // The accessible fields, sorted by offset. Bytes no field covers are inaccessible.
    std::vector<ContextField> fields;
    // Instead of fields: the context is plain memory of context_size bytes (a struct pt_regs,
    // tracepoint or raw tracepoint arguments, a syscall program's argument block). Aligned reads
    // of 1, 2, 4 or 8 bytes anywhere inside are allowed; writes only when this says so.
    bool context_is_plain_memory = false;
    bool plain_memory_writable = false;
    // Helper ids a program of this type may call.
    std::vector<int32_t> helpers;
    // Allowed r0 at exit; nullopt: any scalar.
    std::optional<ReturnRange> return_range;
    // Legacy packet loads (LD_ABS/LD_IND) are allowed, with the context in r6.
    bool legacy_packet_loads = false;
    // Bytes of the native context struct the runtime builds for a run (fields at their
    // native_offset). Equal to context_size for plain-memory contexts.
    uint32_t native_context_size = 0;
    // xbpf can run programs of this type (test run, hooks); otherwise it only verifies them.
    bool runnable = false;

    // The field covering [offset, offset + size), or nullptr.
    const ContextField* field_at(uint32_t offset, uint32_t size) const;
    bool allows_helper(int32_t id) const;
};

// A context access the verifier proved: instruction `pc` reads or writes `size` bytes at
// `offset` of the context struct. The runtime rewrites it to the native layout.
struct ContextAccess {
    uint32_t pc = 0;
    uint32_t offset = 0;
    uint8_t size = 0;
    bool write = false;
};

// Rewrites verified context accesses to the native layout (a 32-bit load of xdp_md.data becomes
// a 64-bit load of the native pointer), as Linux's convert_ctx_access does. Each access stays
// one instruction, so jump offsets and line info are unchanged.
Status rewrite_context_accesses(std::vector<Insn>& program, const ProgramType& type,
                                const std::vector<ContextAccess>& accesses);

// The registry of program types: Linux's, and any an embedder adds.
class ProgramTypeRegistry {
  public:
    // Linux's program types, each with its contract (see docs/program-types.md).
    static ProgramTypeRegistry& global();

    // Adds a type; fails if the id or the name is taken.
    Status add(std::shared_ptr<const ProgramType> type);
    std::shared_ptr<const ProgramType> find(uint32_t id) const;
    std::shared_ptr<const ProgramType> find(std::string_view name) const;
    std::vector<std::shared_ptr<const ProgramType>> all() const;

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace xbpf
