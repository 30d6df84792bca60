// Printing BTF types and values: C spellings of types, and values as JSON in the shape bpftool's
// `map dump -j` gives its "formatted" field.
#include <fmt/format.h>

#include <cctype>
#include <cstring>

#include "xbpf/btf.hpp"

namespace xbpf {

namespace {

constexpr int kMaxDepth = 32;

std::string anonymous_or(std::string_view name) {
    return name.empty() ? std::string("<anon>") : std::string(name);
}

// Reads `bits` bits starting at bit `bit_offset` of little-endian bytes (bits <= 64).
uint64_t extract_bits(std::span<const uint8_t> bytes, uint64_t bit_offset, unsigned bits) {
    uint64_t value = 0;
    for (unsigned i = 0; i < bits; ++i) {
        const uint64_t bit = bit_offset + i;
        const size_t byte = static_cast<size_t>(bit / 8);
        if (byte >= bytes.size()) break;
        if ((bytes[byte] >> (bit % 8)) & 1) value |= uint64_t{1} << i;
    }
    return value;
}

int64_t sign_extend(uint64_t value, unsigned bits) {
    if (bits == 0 || bits >= 64) return static_cast<int64_t>(value);
    const uint64_t sign = uint64_t{1} << (bits - 1);
    return static_cast<int64_t>((value ^ sign) - sign);
}

class ValueFormatter {
  public:
    ValueFormatter(const Btf& btf, size_t budget) : btf_(btf), budget_(budget) {}

    Result<nlohmann::json> format(uint32_t id, std::span<const uint8_t> bytes, int depth) {
        if (depth > kMaxDepth) return Error("type nests too deeply to format");
        if (budget_ == 0) return Error("value has too many parts to format");
        --budget_;
        const BtfType* t = btf_.type(id);
        if (t == nullptr) return Error(fmt::format("type id {} is out of range", id));
        switch (t->kind) {
            case BtfKind::Typedef:
            case BtfKind::Volatile:
            case BtfKind::Const:
            case BtfKind::Restrict:
            case BtfKind::TypeTag: return format(t->type, bytes, depth + 1);
            case BtfKind::Int: return format_int(*t, bytes, 0, 0);
            case BtfKind::Ptr: {
                if (bytes.size() < 8) return too_short(id, 8, bytes.size());
                return nlohmann::json(extract_bits(bytes, 0, 64));
            }
            case BtfKind::Enum:
            case BtfKind::Enum64: return format_enum(*t, bytes, 0, 0);
            case BtfKind::Float: return format_float(*t, bytes);
            case BtfKind::Array: return format_array(*t, bytes, depth);
            case BtfKind::Struct:
            case BtfKind::Union: {
                nlohmann::json object = nlohmann::json::object();
                if (auto s = format_members(*t, bytes, depth, object); !s)
                    return std::move(s).error();
                return object;
            }
            case BtfKind::Var: {
                auto value = format(t->type, bytes, depth + 1);
                if (!value) return value;
                nlohmann::json object = nlohmann::json::object();
                object[std::string(t->name)] = std::move(*value);
                return object;
            }
            case BtfKind::Datasec: return format_datasec(*t, bytes, depth);
            default: return nlohmann::json(nullptr);  // void, fwd, func, func_proto, decl_tag
        }
    }

  private:
    static Error too_short(uint32_t id, uint64_t need, size_t have) {
        return Error(fmt::format("value of type {} needs {} bytes, {} given", id, need, have));
    }

    // An integer, or a bitfield of `bitfield_bits` bits at `bit_offset` when those are non-zero.
    Result<nlohmann::json> format_int(const BtfType& t, std::span<const uint8_t> bytes,
                                      uint64_t bit_offset, unsigned bitfield_bits) {
        if (bitfield_bits == 0 && bytes.size() < t.size)
            return too_short(t.id, t.size, bytes.size());
        const bool is_signed = (t.int_encoding & btf_int::kSigned) != 0;
        unsigned bits = bitfield_bits != 0 ? bitfield_bits : t.int_bits;
        uint64_t start = bit_offset + (bitfield_bits != 0 ? 0 : t.int_bit_offset);
        if (bits > 64) {
            // 128-bit integers print as hex strings, as bpftool does.
            std::string hex;
            for (size_t i = t.size; i-- > 0;)
                hex += fmt::format("{:02x}", bytes[i]);
            const size_t first = hex.find_first_not_of('0');
            return nlohmann::json("0x" + (first == std::string::npos ? "0" : hex.substr(first)));
        }
        const uint64_t raw = extract_bits(bytes, start, bits);
        if ((t.int_encoding & btf_int::kBool) != 0) return nlohmann::json(raw != 0);
        if (is_signed) return nlohmann::json(sign_extend(raw, bits));
        return nlohmann::json(raw);
    }

    Result<nlohmann::json> format_enum(const BtfType& t, std::span<const uint8_t> bytes,
                                       uint64_t bit_offset, unsigned bitfield_bits) {
        if (bitfield_bits == 0 && bytes.size() < t.size)
            return too_short(t.id, t.size, bytes.size());
        const unsigned bits = bitfield_bits != 0 ? bitfield_bits : t.size * 8;
        const uint64_t raw = extract_bits(bytes, bit_offset, bits);
        const int64_t value = t.kind_flag ? sign_extend(raw, bits) : static_cast<int64_t>(raw);
        for (const auto& e : t.enumerators) {
            const int64_t candidate =
                t.size < 8
                    ? sign_extend(static_cast<uint64_t>(e.value) & ((uint64_t{1} << bits) - 1),
                                  t.kind_flag ? bits : 64)
                    : e.value;
            if (candidate == value) return nlohmann::json(std::string(e.name));
        }
        if (t.kind_flag) return nlohmann::json(value);
        return nlohmann::json(raw);
    }

    Result<nlohmann::json> format_float(const BtfType& t, std::span<const uint8_t> bytes) {
        if (bytes.size() < t.size) return too_short(t.id, t.size, bytes.size());
        if (t.size == 4) {
            const auto raw = static_cast<uint32_t>(extract_bits(bytes, 0, 32));
            float f;
            static_assert(sizeof f == 4);
            std::memcpy(&f, &raw, 4);
            return nlohmann::json(static_cast<double>(f));
        }
        if (t.size == 8) {
            const uint64_t raw = extract_bits(bytes, 0, 64);
            double d;
            std::memcpy(&d, &raw, 8);
            return nlohmann::json(d);
        }
        std::string hex;  // half and long double: the raw bits
        for (size_t i = t.size; i-- > 0;)
            hex += fmt::format("{:02x}", bytes[i]);
        return nlohmann::json("0x" + hex);
    }

    // A char array holding NUL-terminated printable text, zero-padded: bpftool prints a string.
    bool is_text(const BtfType& element, std::span<const uint8_t> bytes) const {
        if (element.kind != BtfKind::Int || element.size != 1) return false;
        const bool char_like = (element.int_encoding & btf_int::kChar) != 0 ||
                               element.name == "char" || element.name == "signed char" ||
                               element.name == "unsigned char";
        if (!char_like || bytes.empty()) return false;
        size_t i = 0;
        while (i < bytes.size() && bytes[i] != 0) {
            if (!std::isprint(bytes[i])) return false;
            ++i;
        }
        if (i == bytes.size()) return false;  // not terminated
        for (; i < bytes.size(); ++i) {
            if (bytes[i] != 0) return false;
        }
        return true;
    }

    Result<nlohmann::json> format_array(const BtfType& t, std::span<const uint8_t> bytes,
                                        int depth) {
        auto element_size = btf_.resolve_size(t.type);
        if (!element_size) return std::move(element_size).error();
        const uint64_t total = uint64_t{*element_size} * t.elements;
        if (total > bytes.size()) return too_short(t.id, total, bytes.size());
        const BtfType* element = btf_.type(btf_.skip_modifiers(t.type));
        const auto contents = bytes.first(static_cast<size_t>(total));
        if (element != nullptr && is_text(*element, contents)) {
            return nlohmann::json(std::string(reinterpret_cast<const char*>(contents.data())));
        }
        nlohmann::json array = nlohmann::json::array();
        for (uint32_t i = 0; i < t.elements; ++i) {
            if (budget_ == 0) return Error("value has too many parts to format");
            auto value = format(t.type, contents.subspan(uint64_t{i} * *element_size), depth + 1);
            if (!value) return value;
            array.push_back(std::move(*value));
        }
        return array;
    }

    // Members of a struct or union into `object`; anonymous struct and union members are
    // merged in, as their members are reached by name in C.
    Status format_members(const BtfType& t, std::span<const uint8_t> bytes, int depth,
                          nlohmann::json& object) {
        if (depth > kMaxDepth) return Error("type nests too deeply to format");
        if (bytes.size() < t.size) return too_short(t.id, t.size, bytes.size());
        for (const auto& m : t.members) {
            if (budget_ == 0) return Error("value has too many parts to format");
            --budget_;
            const uint64_t byte_offset = m.bit_offset / 8;
            const uint32_t member_id = btf_.skip_modifiers(m.type);
            const BtfType* member_type = btf_.type(member_id);
            if (member_type == nullptr) return Error("member type out of range");
            const bool legacy_bitfield =
                member_type->kind == BtfKind::Int && member_type->int_bits < member_type->size * 8;
            if (m.bitfield_size != 0 || legacy_bitfield || m.bit_offset % 8 != 0) {
                const unsigned bits =
                    m.bitfield_size != 0 ? m.bitfield_size : member_type->int_bits;
                if (uint64_t{m.bit_offset} + bits > uint64_t{bytes.size()} * 8 || bits > 64) {
                    return Error(fmt::format("bitfield '{}' lies outside the value", m.name));
                }
                Result<nlohmann::json> value = nlohmann::json(nullptr);
                if (member_type->kind == BtfKind::Int) {
                    value = format_int(
                        *member_type, bytes,
                        m.bit_offset + (m.bitfield_size ? 0 : member_type->int_bit_offset), bits);
                } else if (member_type->kind == BtfKind::Enum ||
                           member_type->kind == BtfKind::Enum64) {
                    value = format_enum(*member_type, bytes, m.bit_offset, bits);
                } else {
                    return Error(fmt::format("bitfield '{}' is not an integer", m.name));
                }
                if (!value) return std::move(value).error();
                object[std::string(m.name)] = std::move(*value);
                continue;
            }
            if (byte_offset > bytes.size()) {
                return Error(fmt::format("member '{}' lies outside the value", m.name));
            }
            const auto rest = bytes.subspan(static_cast<size_t>(byte_offset));
            if (m.name.empty() &&
                (member_type->kind == BtfKind::Struct || member_type->kind == BtfKind::Union)) {
                if (auto s = format_members(*member_type, rest, depth + 1, object); !s) return s;
                continue;
            }
            auto value = format(m.type, rest, depth + 1);
            if (!value) return std::move(value).error();
            object[std::string(m.name)] = std::move(*value);
        }
        return {};
    }

    Result<nlohmann::json> format_datasec(const BtfType& t, std::span<const uint8_t> bytes,
                                          int depth) {
        nlohmann::json vars = nlohmann::json::array();
        for (const auto& v : t.variables) {
            if (budget_ == 0) return Error("value has too many parts to format");
            if (uint64_t{v.offset} + v.size > bytes.size()) {
                return Error(
                    fmt::format("variable at offset {} ({} bytes) lies outside the {} "
                                "bytes of section {}",
                                v.offset, v.size, bytes.size(), t.name));
            }
            auto value = format(v.type, bytes.subspan(v.offset, v.size), depth + 1);
            if (!value) return value;
            vars.push_back(std::move(*value));
        }
        nlohmann::json object = nlohmann::json::object();
        object[std::string(t.name)] = std::move(vars);
        return object;
    }

    const Btf& btf_;
    size_t budget_;
};

}  // namespace

Result<nlohmann::json> Btf::format_value(uint32_t id, std::span<const uint8_t> bytes) const {
    if (type(id) == nullptr) return Error(fmt::format("type id {} is out of range", id));
    // Every part printed costs one unit: enough for any real value, a bound for crafted ones
    // (arrays of empty structs have many parts and no bytes).
    ValueFormatter formatter(*this, (size_t{1} << 20) + bytes.size() * 2);
    return formatter.format(id, bytes, 0);
}

namespace {

// The C spelling of a type; `steps` bounds the whole walk, recursion included, since pointers
// may legally lead back to a type already on the way.
std::string spell_type(const Btf& btf, uint32_t id, int& steps) {
    std::string suffix;  // pointer stars and array bounds, written after the base name
    const auto finish = [&suffix](std::string base) {
        return suffix.starts_with('*') ? base + " " + suffix : base + suffix;
    };
    while (steps-- > 0) {
        const BtfType* t = btf.type(id);
        if (t == nullptr) return finish("<bad type>");
        switch (t->kind) {
            case BtfKind::Void: return finish("void");
            case BtfKind::Int:
            case BtfKind::Float:
            case BtfKind::Typedef:
            case BtfKind::Func:
            case BtfKind::Var:
            case BtfKind::Datasec: return finish(anonymous_or(t->name));
            case BtfKind::Struct: return finish("struct " + anonymous_or(t->name));
            case BtfKind::Union: return finish("union " + anonymous_or(t->name));
            case BtfKind::Enum:
            case BtfKind::Enum64: return finish("enum " + anonymous_or(t->name));
            case BtfKind::Fwd:
                return finish((t->kind_flag ? "union " : "struct ") + anonymous_or(t->name));
            case BtfKind::FuncProto: return finish("function");
            case BtfKind::Const: return finish("const " + spell_type(btf, t->type, steps));
            case BtfKind::Volatile: return finish("volatile " + spell_type(btf, t->type, steps));
            case BtfKind::Restrict: return finish(spell_type(btf, t->type, steps) + " restrict");
            case BtfKind::Ptr:
                suffix = "*" + suffix;
                id = t->type;
                break;
            case BtfKind::Array:
                suffix = fmt::format("[{}]", t->elements) + suffix;
                id = t->type;
                break;
            case BtfKind::TypeTag:
            case BtfKind::DeclTag: id = t->type; break;
        }
    }
    return finish("...");
}

}  // namespace

std::string Btf::type_name(uint32_t id) const {
    int steps = 2 * kMaxDepth;
    return spell_type(*this, id, steps);
}

}  // namespace xbpf
