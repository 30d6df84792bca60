// BTF, the BPF Type Format: the C types of an object's programs, maps and global variables, as
// the kernel documents it (docs.kernel.org/bpf/btf.html). The loader reads `.BTF` into a Btf;
// the verifier asks it for sizes and members, and map dumps print values through it the way
// bpftool's `map dump -j` does.
//
// Every type id and string offset is checked when the BTF is parsed, and chains of modifiers,
// typedefs and array elements that loop are rejected, so the queries below never fail on a
// parsed Btf except where they return a Result.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "xbpf/error.hpp"

namespace xbpf {

// BTF_KIND_*, value for value. Type id 0 is `void` and has kind Void.
enum class BtfKind : uint8_t {
    Void = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
};

// "int", "ptr", "struct", ... as the kernel documentation names the kinds (lower case).
std::string_view btf_kind_name(BtfKind kind);

// Encoding bits of an INT (BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL).
namespace btf_int {
inline constexpr uint8_t kSigned = 1;
inline constexpr uint8_t kChar = 2;
inline constexpr uint8_t kBool = 4;
}  // namespace btf_int

// A struct or union member, or a function prototype's parameter (offsets 0).
struct BtfMember {
    std::string_view name;  // empty for an anonymous member or an unnamed parameter
    uint32_t type = 0;
    uint32_t bit_offset = 0;     // from the start of the struct
    uint32_t bitfield_size = 0;  // bits, 0 when the member is not a bitfield
};

// An enumerator of an ENUM or ENUM64. Unsigned 64-bit enumerators are stored bit for bit.
struct BtfEnumerator {
    std::string_view name;
    int64_t value = 0;
};

// A variable of a DATASEC: the VAR's type id, its offset and size in the section.
struct BtfSectionVariable {
    uint32_t type = 0;
    uint32_t offset = 0;
    uint32_t size = 0;
};

// One type. Which fields mean something depends on the kind; the rest stay zero or empty.
struct BtfType {
    uint32_t id = 0;
    BtfKind kind = BtfKind::Void;
    std::string_view name;
    bool kind_flag = false;  // ENUM: signed; FWD: union; STRUCT/UNION: members have bitfields
    // Bytes: INT, STRUCT, UNION, ENUM, ENUM64, FLOAT, DATASEC.
    uint32_t size = 0;
    // The type referred to: PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG, DECL_TAG, VAR,
    // FUNC (its FUNC_PROTO), FUNC_PROTO (return type) and ARRAY (element type).
    uint32_t type = 0;
    // INT: encoding (btf_int bits), bit offset and number of bits.
    uint8_t int_encoding = 0;
    uint8_t int_bit_offset = 0;
    uint8_t int_bits = 0;
    // ARRAY: index type and number of elements.
    uint32_t index_type = 0;
    uint32_t elements = 0;
    // FUNC and VAR: linkage (static 0, global 1, extern 2).
    uint32_t linkage = 0;
    // DECL_TAG: the member or parameter index it tags, -1 for the whole declaration.
    int32_t component_index = -1;
    std::vector<BtfMember> members;             // STRUCT, UNION members; FUNC_PROTO parameters
    std::vector<BtfEnumerator> enumerators;     // ENUM, ENUM64
    std::vector<BtfSectionVariable> variables;  // DATASEC
};

class Btf {
  public:
    // Parses and checks raw `.BTF` bytes (header, type section, string section). The Btf is
    // shared because line information and names elsewhere view its strings.
    static Result<std::shared_ptr<Btf>> parse(std::span<const uint8_t> bytes);

    Btf(const Btf&) = delete;
    Btf& operator=(const Btf&) = delete;

    // Ids run from 1 to type_count(); 0 is void.
    uint32_t type_count() const { return static_cast<uint32_t>(types_.size() - 1); }
    // The type with this id (id 0: void), or nullptr when there is none.
    const BtfType* type(uint32_t id) const;
    // The string at an offset in the string section; empty when the offset is outside it.
    std::string_view string_at(uint32_t offset) const;
    // Id of the first type of this kind and name.
    std::optional<uint32_t> find(std::string_view name, BtfKind kind) const;

    // Follows TYPEDEF, CONST, VOLATILE, RESTRICT and TYPE_TAG to the type they qualify.
    uint32_t skip_modifiers(uint32_t id) const;
    // Size in bytes of a value of the type (pointers are 8). Fails for void, functions and
    // forward declarations, and when the size does not fit 32 bits.
    Result<uint32_t> resolve_size(uint32_t id) const;
    // A member of a struct or union (after skipping modifiers), searched by name; members of
    // anonymous struct and union members are found too, with their offset made absolute.
    std::optional<BtfMember> find_member(uint32_t id, std::string_view name) const;
    // The type as C spells it: "int", "struct sock *", "char [16]", "const u32".
    std::string type_name(uint32_t id) const;

    // A value of the type, in the shape of bpftool's `map dump -j` "formatted" output:
    // integers as numbers, bool as true/false, char arrays holding text as strings, enums as
    // their enumerator's name, structs and unions as objects (anonymous members merged in),
    // arrays as arrays, VAR as {name: value}, DATASEC as {section: [{var: value}, ...]}.
    // Fails when `bytes` is shorter than the type.
    Result<nlohmann::json> format_value(uint32_t id, std::span<const uint8_t> bytes) const;

    // ---- Used by the loader while it builds an object -------------------------------------
    // clang leaves DATASEC sizes and variable offsets 0 in objects; the loader fills them from
    // the ELF section sizes and symbol values, as libbpf does.
    void set_datasec_size(uint32_t datasec_id, uint32_t size);
    void set_datasec_variable(uint32_t datasec_id, size_t index, uint32_t offset, uint32_t size);

  private:
    Btf() = default;
    Status check_references();
    Status check_chains();

    std::vector<char> strings_;
    std::vector<BtfType> types_;  // index = id; [0] is void
};

}  // namespace xbpf
