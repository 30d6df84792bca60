// BTF parsing and type queries (format and meaning: docs.kernel.org/bpf/btf.html).
#include "xbpf/btf.hpp"

#include <fmt/format.h>

#include <array>

#include "loader/byte_reader.hpp"

namespace xbpf {

namespace {

using loader::ByteReader;

constexpr uint16_t kMagic = 0xeb9f;
constexpr size_t kHeaderSize = 24;
constexpr size_t kTypeHeaderSize = 12;
constexpr uint8_t kLastKind = static_cast<uint8_t>(BtfKind::Enum64);
// How many modifiers, typedefs and array elements a chain may pass through (as the kernel's
// MAX_RESOLVE_DEPTH); longer chains are taken for loops.
constexpr int kMaxChain = 32;

// Kinds whose `type` is followed when resolving a size.
bool is_chain_kind(BtfKind kind) {
    switch (kind) {
        case BtfKind::Typedef:
        case BtfKind::Volatile:
        case BtfKind::Const:
        case BtfKind::Restrict:
        case BtfKind::TypeTag:
        case BtfKind::Array:
        case BtfKind::Var: return true;
        default: return false;
    }
}

bool is_modifier(BtfKind kind) {
    switch (kind) {
        case BtfKind::Typedef:
        case BtfKind::Volatile:
        case BtfKind::Const:
        case BtfKind::Restrict:
        case BtfKind::TypeTag: return true;
        default: return false;
    }
}

// Bytes of kind-specific data after the 12-byte common header.
uint64_t trailing_size(BtfKind kind, uint32_t vlen) {
    switch (kind) {
        case BtfKind::Int:
        case BtfKind::Var:
        case BtfKind::DeclTag: return 4;
        case BtfKind::Array: return 12;
        case BtfKind::Struct:
        case BtfKind::Union:
        case BtfKind::Datasec:
        case BtfKind::Enum64: return uint64_t{vlen} * 12;
        case BtfKind::Enum:
        case BtfKind::FuncProto: return uint64_t{vlen} * 8;
        default: return 0;
    }
}

}  // namespace

std::string_view btf_kind_name(BtfKind kind) {
    static constexpr std::array<std::string_view, kLastKind + 1> kNames = {
        "void", "int",     "ptr",      "array",    "struct",   "union", "enum",
        "fwd",  "typedef", "volatile", "const",    "restrict", "func",  "func_proto",
        "var",  "datasec", "float",    "decl_tag", "type_tag", "enum64"};
    const auto index = static_cast<size_t>(kind);
    return index < kNames.size() ? kNames[index] : std::string_view("unknown");
}

Result<std::shared_ptr<Btf>> Btf::parse(std::span<const uint8_t> bytes) {
    const ByteReader in(bytes);
    if (!in.has(0, kHeaderSize)) {
        return Error(
            fmt::format("header is truncated ({} bytes, need {})", bytes.size(), kHeaderSize));
    }
    if (in.u16(0) != kMagic) {
        return Error(fmt::format("bad magic {:#06x} (expected {:#06x})", in.u16(0), kMagic));
    }
    if (in.u8(2) != 1) return Error(fmt::format("unsupported version {}", in.u8(2)));
    const uint32_t header_length = in.u32(4);
    if (header_length < kHeaderSize || !in.has(0, header_length)) {
        return Error(fmt::format("header length {} is invalid ({} bytes in the section)",
                                 header_length, bytes.size()));
    }
    const uint64_t type_offset = uint64_t{header_length} + in.u32(8);
    const uint32_t type_length = in.u32(12);
    const uint64_t string_offset = uint64_t{header_length} + in.u32(16);
    const uint32_t string_length = in.u32(20);
    if (!in.has(type_offset, type_length)) {
        return Error(fmt::format("type section ({} bytes at {}) runs past the end ({} bytes)",
                                 type_length, type_offset, bytes.size()));
    }
    if (!in.has(string_offset, string_length)) {
        return Error(fmt::format("string section ({} bytes at {}) runs past the end ({} bytes)",
                                 string_length, string_offset, bytes.size()));
    }
    const auto strings = in.slice(string_offset, string_length);
    if (strings.empty() || strings.front() != 0 || strings.back() != 0) {
        return Error("string section must start and end with a NUL byte");
    }

    std::shared_ptr<Btf> btf(new Btf());
    btf->strings_.assign(strings.begin(), strings.end());
    btf->types_.emplace_back();  // id 0: void

    const ByteReader types(in.slice(type_offset, type_length));
    uint64_t at = 0;
    while (at < types.size()) {
        const auto id = static_cast<uint32_t>(btf->types_.size());
        const auto where = [&] { return fmt::format("type {}", id); };
        if (!types.has(at, kTypeHeaderSize)) {
            return Error(fmt::format("truncated at byte {} of the type section", at)).in(where());
        }
        BtfType t;
        t.id = id;
        const uint32_t name_offset = types.u32(at);
        const uint32_t info = types.u32(at + 4);
        const uint32_t size_or_type = types.u32(at + 8);
        const auto kind_number = static_cast<uint8_t>((info >> 24) & 0x1f);
        const uint32_t vlen = info & 0xffff;
        if (kind_number == 0 || kind_number > kLastKind) {
            return Error(fmt::format("unknown kind {}", kind_number)).in(where());
        }
        t.kind = static_cast<BtfKind>(kind_number);
        t.kind_flag = (info >> 31) != 0;
        if (name_offset >= btf->strings_.size()) {
            return Error(fmt::format("name offset {} is outside the string section ({} bytes)",
                                     name_offset, btf->strings_.size()))
                .in(where());
        }
        t.name = btf->string_at(name_offset);
        at += kTypeHeaderSize;
        const uint64_t extra = trailing_size(t.kind, vlen);
        if (!types.has(at, extra)) {
            return Error(fmt::format("{} with {} entries runs past the end of the type section",
                                     btf_kind_name(t.kind), vlen))
                .in(where());
        }
        const auto name_at = [&](uint64_t offset) -> Result<std::string_view> {
            const uint32_t off = types.u32(offset);
            if (off >= btf->strings_.size()) {
                return Error(fmt::format("name offset {} is outside the string section", off));
            }
            return btf->string_at(off);
        };
        switch (t.kind) {
            case BtfKind::Int: {
                t.size = size_or_type;
                const uint32_t data = types.u32(at);
                t.int_encoding = static_cast<uint8_t>((data >> 24) & 0x0f);
                t.int_bit_offset = static_cast<uint8_t>((data >> 16) & 0xff);
                t.int_bits = static_cast<uint8_t>(data & 0xff);
                const bool size_ok =
                    t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8 || t.size == 16;
                if (!size_ok || t.int_bits == 0 || t.int_bits > 128 ||
                    uint32_t{t.int_bit_offset} + t.int_bits > t.size * 8) {
                    return Error(fmt::format("int of {} bytes with {} bits at bit {} is invalid",
                                             t.size, t.int_bits, t.int_bit_offset))
                        .in(where());
                }
                break;
            }
            case BtfKind::Array:
                t.type = types.u32(at);
                t.index_type = types.u32(at + 4);
                t.elements = types.u32(at + 8);
                break;
            case BtfKind::Struct:
            case BtfKind::Union:
                t.size = size_or_type;
                t.members.reserve(vlen);
                for (uint32_t i = 0; i < vlen; ++i) {
                    const uint64_t m = at + uint64_t{i} * 12;
                    auto name = name_at(m);
                    if (!name)
                        return std::move(name).error().in(fmt::format("member {}", i)).in(where());
                    BtfMember member;
                    member.name = *name;
                    member.type = types.u32(m + 4);
                    const uint32_t offset = types.u32(m + 8);
                    member.bit_offset = t.kind_flag ? (offset & 0xffffff) : offset;
                    member.bitfield_size = t.kind_flag ? (offset >> 24) : 0;
                    t.members.push_back(member);
                }
                break;
            case BtfKind::Enum:
                t.size = size_or_type;
                t.enumerators.reserve(vlen);
                for (uint32_t i = 0; i < vlen; ++i) {
                    const uint64_t e = at + uint64_t{i} * 8;
                    auto name = name_at(e);
                    if (!name)
                        return std::move(name)
                            .error()
                            .in(fmt::format("enumerator {}", i))
                            .in(where());
                    const int32_t raw = types.s32(e + 4);
                    // Unsigned enums (kind_flag clear) hold 32-bit unsigned values.
                    const int64_t value =
                        t.kind_flag ? int64_t{raw} : int64_t{static_cast<uint32_t>(raw)};
                    t.enumerators.push_back({*name, value});
                }
                break;
            case BtfKind::Enum64:
                t.size = size_or_type;
                t.enumerators.reserve(vlen);
                for (uint32_t i = 0; i < vlen; ++i) {
                    const uint64_t e = at + uint64_t{i} * 12;
                    auto name = name_at(e);
                    if (!name)
                        return std::move(name)
                            .error()
                            .in(fmt::format("enumerator {}", i))
                            .in(where());
                    const uint64_t value =
                        uint64_t{types.u32(e + 4)} | (uint64_t{types.u32(e + 8)} << 32);
                    t.enumerators.push_back({*name, static_cast<int64_t>(value)});
                }
                break;
            case BtfKind::FuncProto:
                t.type = size_or_type;
                t.members.reserve(vlen);
                for (uint32_t i = 0; i < vlen; ++i) {
                    const uint64_t p = at + uint64_t{i} * 8;
                    auto name = name_at(p);
                    if (!name)
                        return std::move(name)
                            .error()
                            .in(fmt::format("parameter {}", i))
                            .in(where());
                    t.members.push_back({*name, types.u32(p + 4), 0, 0});
                }
                break;
            case BtfKind::Var:
                t.type = size_or_type;
                t.linkage = types.u32(at);
                break;
            case BtfKind::Datasec:
                t.size = size_or_type;
                t.variables.reserve(vlen);
                for (uint32_t i = 0; i < vlen; ++i) {
                    const uint64_t v = at + uint64_t{i} * 12;
                    t.variables.push_back({types.u32(v), types.u32(v + 4), types.u32(v + 8)});
                }
                break;
            case BtfKind::DeclTag:
                t.type = size_or_type;
                t.component_index = types.s32(at);
                break;
            case BtfKind::Func:
                t.type = size_or_type;
                t.linkage = vlen;
                break;
            case BtfKind::Float:
                t.size = size_or_type;
                if (t.size != 2 && t.size != 4 && t.size != 8 && t.size != 12 && t.size != 16) {
                    return Error(fmt::format("float of {} bytes is invalid", t.size)).in(where());
                }
                break;
            default:  // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
                t.type = size_or_type;
                break;
        }
        if ((t.kind == BtfKind::Enum || t.kind == BtfKind::Enum64) && t.size != 1 && t.size != 2 &&
            t.size != 4 && t.size != 8) {
            return Error(fmt::format("enum of {} bytes is invalid", t.size)).in(where());
        }
        at += extra;
        btf->types_.push_back(std::move(t));
    }
    if (auto status = btf->check_references(); !status) return std::move(status).error();
    if (auto status = btf->check_chains(); !status) return std::move(status).error();
    return btf;
}

Status Btf::check_references() {
    const uint32_t last = type_count();
    for (const auto& t : types_) {
        if (t.id == 0) continue;
        const auto where = [&] { return fmt::format("type {} ({})", t.id, btf_kind_name(t.kind)); };
        const auto check = [&](uint32_t ref, std::string_view what) -> Status {
            if (ref > last) {
                return Error(
                           fmt::format("{} type id {} is out of range ({} types)", what, ref, last))
                    .in(where());
            }
            return {};
        };
        switch (t.kind) {
            case BtfKind::Int:
            case BtfKind::Enum:
            case BtfKind::Enum64:
            case BtfKind::Float:
            case BtfKind::Fwd: break;
            case BtfKind::Struct:
            case BtfKind::Union:
                for (const auto& m : t.members) {
                    if (auto s = check(m.type, "member"); !s) return s;
                    if (m.type == 0) return Error("a member has type void").in(where());
                }
                break;
            case BtfKind::FuncProto:
                if (auto s = check(t.type, "return"); !s) return s;
                for (const auto& p : t.members) {
                    if (auto s = check(p.type, "parameter"); !s) return s;
                }
                break;
            case BtfKind::Datasec:
                for (const auto& v : t.variables) {
                    if (auto s = check(v.type, "variable"); !s) return s;
                }
                break;
            case BtfKind::Array:
                if (auto s = check(t.type, "element"); !s) return s;
                if (auto s = check(t.index_type, "index"); !s) return s;
                if (t.type == 0) return Error("array of void").in(where());
                break;
            case BtfKind::Func:
                if (auto s = check(t.type, "prototype"); !s) return s;
                if (types_[t.type].kind != BtfKind::FuncProto) {
                    return Error(fmt::format("prototype type {} is not a func_proto", t.type))
                        .in(where());
                }
                break;
            case BtfKind::Var:
                if (auto s = check(t.type, "variable"); !s) return s;
                if (t.type == 0) return Error("variable of type void").in(where());
                break;
            default:
                if (auto s = check(t.type, "referenced"); !s) return s;
                break;
        }
    }
    return {};
}

Status Btf::check_chains() {
    for (const auto& t : types_) {
        uint32_t id = t.id;
        int steps = 0;
        while (is_chain_kind(types_[id].kind)) {
            if (++steps > kMaxChain) {
                return Error(fmt::format(
                                 "its chain of modifiers, typedefs and array elements loops or is "
                                 "deeper than {}",
                                 kMaxChain))
                    .in(fmt::format("type {} ({})", t.id, btf_kind_name(t.kind)));
            }
            id = types_[id].type;
        }
    }
    return {};
}

const BtfType* Btf::type(uint32_t id) const {
    return id < types_.size() ? &types_[id] : nullptr;
}

std::string_view Btf::string_at(uint32_t offset) const {
    if (offset >= strings_.size()) return {};
    // The section ends with NUL (checked when parsing), so the string is terminated.
    return std::string_view(strings_.data() + offset);
}

std::optional<uint32_t> Btf::find(std::string_view name, BtfKind kind) const {
    for (const auto& t : types_) {
        if (t.id != 0 && t.kind == kind && t.name == name) return t.id;
    }
    return std::nullopt;
}

uint32_t Btf::skip_modifiers(uint32_t id) const {
    // Chains are acyclic and at most kMaxChain long (checked when parsing).
    for (int step = 0; step <= kMaxChain && id < types_.size() && is_modifier(types_[id].kind);
         ++step) {
        id = types_[id].type;
    }
    return id;
}

Result<uint32_t> Btf::resolve_size(uint32_t id) const {
    uint64_t multiplier = 1;
    for (int step = 0; step <= kMaxChain; ++step) {
        const BtfType* t = type(id);
        if (t == nullptr) return Error(fmt::format("type id {} is out of range", id));
        uint64_t size = 0;
        switch (t->kind) {
            case BtfKind::Int:
            case BtfKind::Enum:
            case BtfKind::Enum64:
            case BtfKind::Float:
            case BtfKind::Struct:
            case BtfKind::Union:
            case BtfKind::Datasec: size = t->size; break;
            case BtfKind::Ptr: size = 8; break;
            case BtfKind::Array:
                multiplier *= t->elements;
                if (multiplier > UINT32_MAX) multiplier = uint64_t{UINT32_MAX} + 1;
                [[fallthrough]];
            case BtfKind::Typedef:
            case BtfKind::Volatile:
            case BtfKind::Const:
            case BtfKind::Restrict:
            case BtfKind::TypeTag:
            case BtfKind::Var: id = t->type; continue;
            default:
                return Error(fmt::format("type {} ({}) has no size", id, btf_kind_name(t->kind)));
        }
        const uint64_t total = size * multiplier;
        if (size != 0 && total / size != multiplier) return Error("type size overflows");
        if (total > UINT32_MAX) {
            return Error(fmt::format("type {} is larger than 4 GiB", id));
        }
        return static_cast<uint32_t>(total);
    }
    return Error(fmt::format("type {} has a chain of types deeper than {}", id, kMaxChain));
}

std::optional<BtfMember> Btf::find_member(uint32_t id, std::string_view name) const {
    if (name.empty()) return std::nullopt;
    // Direct members first, then members of anonymous struct and union members, depth first.
    // Each type is searched once, which bounds the work even when anonymous members repeat
    // or (in malformed BTF) contain themselves.
    std::vector<bool> visited(types_.size(), false);
    struct Frame {
        uint32_t id;
        uint32_t base_bits;
    };
    std::vector<Frame> pending{{id, 0}};
    while (!pending.empty()) {
        const Frame frame = pending.back();
        pending.pop_back();
        const uint32_t resolved = skip_modifiers(frame.id);
        const BtfType* t = type(resolved);
        if (t == nullptr || (t->kind != BtfKind::Struct && t->kind != BtfKind::Union)) continue;
        if (visited[resolved]) continue;
        visited[resolved] = true;
        for (const auto& m : t->members) {
            if (m.name == name) {
                BtfMember found = m;
                found.bit_offset += frame.base_bits;
                return found;
            }
        }
        for (auto it = t->members.rbegin(); it != t->members.rend(); ++it) {
            if (it->name.empty()) pending.push_back({it->type, frame.base_bits + it->bit_offset});
        }
    }
    return std::nullopt;
}

void Btf::set_datasec_size(uint32_t datasec_id, uint32_t size) {
    if (datasec_id < types_.size() && types_[datasec_id].kind == BtfKind::Datasec) {
        types_[datasec_id].size = size;
    }
}

void Btf::set_datasec_variable(uint32_t datasec_id, size_t index, uint32_t offset, uint32_t size) {
    if (datasec_id < types_.size() && types_[datasec_id].kind == BtfKind::Datasec &&
        index < types_[datasec_id].variables.size()) {
        types_[datasec_id].variables[index].offset = offset;
        types_[datasec_id].variables[index].size = size;
    }
}

}  // namespace xbpf
