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
    Socket,        // pointer to a struct bpf_sock, never NULL (bpf_sock_addr.sk)
    FlowKeys,      // pointer to the struct bpf_flow_keys a flow dissector fills (56 bytes)
};

// Access widths as a bit mask: the bit for a width is the width itself (1, 2, 4, 8).
namespace access_width {
inline constexpr uint8_t k1 = 1;
inline constexpr uint8_t k2 = 2;
inline constexpr uint8_t k4 = 4;
inline constexpr uint8_t k8 = 8;
inline constexpr uint8_t kUpTo4 = k1 | k2 | k4;
inline constexpr uint8_t kAny = k1 | k2 | k4 | k8;
}  // namespace access_width

// One field of the context struct as programs see it (the Linux uapi struct), and where the
// runtime keeps it in the native context the program really receives.
//
// An access of `w` bytes at offset `o` is allowed when one field covers [o, o + w), w is in the
// field's mask for the direction (read_widths or write_widths), and o is a multiple of w (Linux
// requires natural alignment within the struct). So a 4-byte field with read_widths kUpTo4
// allows Linux's "narrow loads" (a byte or half of it); an array such as __sk_buff.cb[5] is one
// 20-byte field whose accesses may be of any width inside it.
struct ContextField {
    std::string name;     // "data", "data_end", "mark", "cb"
    uint32_t offset = 0;  // in the uapi struct
    uint32_t size = 0;    // in the uapi struct (pointers are 4 bytes there: Linux's __u32 data)
    ContextFieldKind kind = ContextFieldKind::Scalar;
    uint8_t read_widths = 0;   // widths loads may use; 0: not readable
    uint8_t write_widths = 0;  // widths stores may use; 0: not writable
    // Where the field is in the native context: a scalar access at byte `o - offset` of the
    // field goes to native_offset + (o - offset) with the same width; a pointer field is always
    // read whole, as an 8-byte load at native_offset.
    uint32_t native_offset = 0;
    uint32_t native_size = 0;

    bool readable() const { return read_widths != 0; }
    bool writable() const { return write_widths != 0; }
    bool is_pointer() const { return kind != ContextFieldKind::Scalar; }
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
    // raw tracepoint or fentry arguments, a syscall program's argument block). Aligned reads
    // of 1, 2, 4 or 8 bytes anywhere inside are allowed; writes only when this says so. It is
    // passed as is: accesses need no rewriting.
    bool context_is_plain_memory = false;
    bool plain_memory_writable = false;
    // Helper ids a program of this type may call.
    std::vector<int32_t> helpers;
    // Allowed r0 at exit; nullopt: any scalar.
    std::optional<ReturnRange> return_range;
    // Legacy packet loads (LD_ABS/LD_IND) are allowed, with the context in r6.
    bool legacy_packet_loads = false;
    // Programs may write packet bytes through pointers from the context's packet fields (tc,
    // xdp, lwt_xmit, sk_skb, sk_msg, cgroup_sockopt's optval); otherwise they may only read
    // them.
    bool packet_writable = false;
    // The name of the context struct in BTF ("__sk_buff", "xdp_md", "pt_regs"): a global
    // function's parameter that points to a struct of this name receives the context, as in
    // Linux. Empty: only parameters tagged `__arg_ctx` do.
    std::string context_btf_name;
    // Programs of this type may always sleep (syscall), so they may call helpers that sleep;
    // other types may only when loaded as sleepable (the ".s" sections).
    bool always_sleepable = false;
    // The context's 8-byte words are the traced function's arguments, and those that are kernel
    // pointers may be read through (fentry/fexit, tp_btf, LSM: Linux types them from the
    // kernel's BTF and turns such reads into loads that cannot fault). Without the kernel's
    // BTF, xbpf lets programs read through any argument, and through what they read, but never
    // write. Only for types xbpf verifies and does not run.
    bool context_kernel_pointers = false;
    // Bytes of the native context struct the runtime builds for a run (fields at their
    // native_offset). Equal to context_size for plain-memory contexts.
    uint32_t native_context_size = 0;
    // xbpf can run programs of this type (test run, hooks); otherwise it only verifies them.
    bool runnable = false;

    // The field covering [offset, offset + size), or nullptr.
    const ContextField* field_at(uint32_t offset, uint32_t size) const;
    bool allows_helper(int32_t id) const;
    // Whether a program may read (or write) `size` bytes at `offset` of the context: empty when
    // it may, else why not ("__sk_buff.mark is read-only for socket_filter programs").
    std::string check_access(uint32_t offset, uint32_t size, bool write) const;
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
// one instruction, so jump offsets and line info are unchanged. Fails (naming the instruction)
// when an access is not a load or store of the context as recorded, or check_access refuses
// it; plain-memory contexts need no change.
Status rewrite_context_accesses(std::vector<Insn>& program, const ProgramType& type,
                                const std::vector<ContextAccess>& accesses);

// The registry of program types: Linux's, and any an embedder adds.
class ProgramTypeRegistry {
  public:
    // An empty registry (embedders and tests may keep their own); global() holds Linux's.
    ProgramTypeRegistry();

    // Linux's program types, each with its contract (see docs/program-types.md).
    static ProgramTypeRegistry& global();

    // Adds a type; fails if the id or the name is taken, or the contract is inconsistent
    // (fields overlapping or out of order, a field outside context_size or the native context).
    // Thread-safe, like the lookups.
    Status add(std::shared_ptr<const ProgramType> type);
    std::shared_ptr<const ProgramType> find(uint32_t id) const;
    std::shared_ptr<const ProgramType> find(std::string_view name) const;
    std::vector<std::shared_ptr<const ProgramType>> all() const;

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace xbpf
