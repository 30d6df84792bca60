// BTF parsing, queries and value formatting on hand-built type sections, including malformed
// ones (bad ids and strings, loops).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "loader_test_support.hpp"
#include "xbpf/btf.hpp"

namespace xbpf::test {
namespace {

// Builds raw .BTF bytes: header, type section, string section.
class BtfBuilder {
  public:
    uint32_t str(const std::string& s) {
        if (s.empty()) return 0;
        const auto offset = static_cast<uint32_t>(strings_.size());
        strings_ += s;
        strings_ += '\0';
        return offset;
    }
    // A type with its common header; `extra` is the kind-specific data, as u32 words.
    uint32_t add(BtfKind kind, const std::string& name, uint32_t vlen, uint32_t size_or_type,
                 std::vector<uint32_t> extra = {}, bool kind_flag = false) {
        word(str(name));
        word((static_cast<uint32_t>(kind) << 24) | vlen | (kind_flag ? 1u << 31 : 0));
        word(size_or_type);
        for (uint32_t w : extra)
            word(w);
        return ++count_;
    }
    uint32_t add_int(const std::string& name, uint32_t size, uint32_t bits, uint8_t encoding) {
        return add(BtfKind::Int, name, 0, size, {(uint32_t{encoding} << 24) | bits});
    }
    struct Member {
        std::string name;
        uint32_t type;
        uint32_t bit_offset;
    };
    uint32_t add_struct(BtfKind kind, const std::string& name, uint32_t size,
                        const std::vector<Member>& members, bool kind_flag = false) {
        std::vector<uint32_t> extra;
        for (const auto& m : members) {
            extra.push_back(str(m.name));
            extra.push_back(m.type);
            extra.push_back(m.bit_offset);
        }
        return add(kind, name, static_cast<uint32_t>(members.size()), size, extra, kind_flag);
    }
    std::vector<uint8_t> build() const {
        std::vector<uint8_t> out(24, 0);
        put_le(out, 0, 2, 0xeb9f);
        out[2] = 1;
        put_le(out, 4, 4, 24);
        put_le(out, 8, 4, 0);
        put_le(out, 12, 4, types_.size());
        put_le(out, 16, 4, types_.size());
        put_le(out, 20, 4, strings_.size());
        // Byte by byte: GCC 12 warns (wrongly) about vector::insert into a resized vector.
        for (uint8_t byte : types_)
            out.push_back(byte);
        for (char c : strings_)
            out.push_back(static_cast<uint8_t>(c));
        return out;
    }

  private:
    void word(uint32_t w) {
        for (int i = 0; i < 4; ++i)
            types_.push_back(static_cast<uint8_t>(w >> (8 * i)));
    }
    std::vector<uint8_t> types_;
    std::string strings_ = std::string(1, '\0');
    uint32_t count_ = 0;
};

std::shared_ptr<Btf> parse_ok(const BtfBuilder& b) {
    auto btf = Btf::parse(b.build());
    EXPECT_TRUE(btf.ok()) << (btf.ok() ? "" : btf.error().to_string());
    return btf.ok() ? *btf : nullptr;
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
    auto btf = Btf::parse(bytes);
    EXPECT_FALSE(btf.ok());
    return btf.ok() ? "" : btf.error().to_string();
}

TEST(Btf, TypesSizesAndMembers) {
    BtfBuilder good;
    good.add_int("unsigned int", 4, 32, 0);                                // 1
    good.add_int("char", 1, 8, btf_int::kSigned);                          // 2
    good.add(BtfKind::Typedef, "u32", 0, 1);                               // 3
    good.add(BtfKind::Const, "", 0, 3);                                    // 4
    good.add_int("__ARRAY_SIZE_TYPE__", 4, 32, 0);                         // 5
    good.add(BtfKind::Array, "", 0, 0, {2, 5, 16});                        // 6: char[16]
    good.add_struct(BtfKind::Struct, "", 8, {{"a", 1, 0}, {"b", 1, 32}});  // 7
    const uint32_t s = good.add_struct(BtfKind::Struct, "outer", 32,
                                       {{"id", 4, 0}, {"", 7, 32}, {"name", 6, 96}});  // 8
    const uint32_t ptr = good.add(BtfKind::Ptr, "", 0, s);                             // 9
    auto btf = parse_ok(good);
    ASSERT_NE(btf, nullptr);
    EXPECT_EQ(btf->type_count(), 9u);
    EXPECT_EQ(btf->type(s)->name, "outer");
    EXPECT_EQ(btf->type(0)->kind, BtfKind::Void);
    EXPECT_EQ(btf->type(10), nullptr);
    EXPECT_EQ(btf->find("u32", BtfKind::Typedef), 3u);
    EXPECT_EQ(btf->skip_modifiers(4), 1u);
    EXPECT_EQ(*btf->resolve_size(4), 4u);
    EXPECT_EQ(*btf->resolve_size(6), 16u);
    EXPECT_EQ(*btf->resolve_size(s), 32u);
    EXPECT_EQ(*btf->resolve_size(ptr), 8u);
    EXPECT_FALSE(btf->resolve_size(0).ok());
    EXPECT_EQ(btf->type_name(ptr), "struct outer *");
    EXPECT_EQ(btf->type_name(4), "const u32");
    EXPECT_EQ(btf->type_name(6), "char[16]");
    auto name = btf->find_member(s, "name");
    ASSERT_TRUE(name.has_value());
    EXPECT_EQ(name->bit_offset, 96u);
    auto b_member = btf->find_member(s, "b");  // inside the anonymous struct
    ASSERT_TRUE(b_member.has_value());
    EXPECT_EQ(b_member->bit_offset, 64u);
    EXPECT_FALSE(btf->find_member(s, "missing").has_value());
}

TEST(Btf, FormatsValuesLikeBpftool) {
    BtfBuilder b;
    const uint32_t u32 = b.add_int("unsigned int", 4, 32, 0);                // 1
    const uint32_t s16 = b.add_int("short", 2, 16, btf_int::kSigned);        // 2
    const uint32_t chr = b.add_int("char", 1, 8, btf_int::kSigned);          // 3
    const uint32_t flag = b.add_int("_Bool", 1, 8, btf_int::kBool);          // 4
    const uint32_t index = b.add_int("__ARRAY_SIZE_TYPE__", 4, 32, 0);       // 5
    const uint32_t text = b.add(BtfKind::Array, "", 0, 0, {chr, index, 8});  // 6
    const uint32_t pair = b.add(BtfKind::Array, "", 0, 0, {s16, index, 2});  // 7
    const uint32_t color =
        b.add(BtfKind::Enum, "color", 2, 4, {b.str("RED"), 0, b.str("BLUE"), 7});  // 8
    // Bitfields: 3 bits at 64, 5 bits at 67 (kind_flag: size in the offset's top byte).
    const uint32_t s = b.add_struct(BtfKind::Struct, "value", 24,
                                    {{"count", u32, 0},
                                     {"delta", s16, 32},
                                     {"on", flag, 48},
                                     {"low", u32, (3u << 24) | 64},
                                     {"high", u32, (5u << 24) | 67},
                                     {"tag", text, 80},
                                     {"pair", pair, 144}},
                                    true);                                              // 9
    const uint32_t c = b.add_struct(BtfKind::Struct, "colored", 4, {{"c", color, 0}});  // 10
    auto btf = parse_ok(b);
    ASSERT_NE(btf, nullptr);

    std::vector<uint8_t> v(24, 0);
    put_le(v, 0, 4, 1234);
    put_le(v, 4, 2, static_cast<uint16_t>(-3));
    v[6] = 1;
    v[8] = 0b10101101;  // low = 0b101 = 5, high = 0b10101 (bits 3..7) = 21
    const std::string tag = "eth0";
    std::copy(tag.begin(), tag.end(), v.begin() + 10);
    put_le(v, 18, 2, 7);
    put_le(v, 20, 2, static_cast<uint16_t>(-1));
    auto json = btf->format_value(s, v);
    ASSERT_TRUE(json.ok()) << json.error().to_string();
    EXPECT_EQ(*json, nlohmann::json::parse(R"({"count":1234,"delta":-3,"on":true,"low":5,
        "high":21,"tag":"eth0","pair":[7,-1]})"));

    std::vector<uint8_t> blue(4, 0);
    blue[0] = 7;
    EXPECT_EQ(*btf->format_value(c, blue), nlohmann::json::parse(R"({"c":"BLUE"})"));
    blue[0] = 9;  // no enumerator: the number
    EXPECT_EQ(*btf->format_value(c, blue), nlohmann::json::parse(R"({"c":9})"));

    // Non-text char arrays print as numbers.
    std::vector<uint8_t> raw = {1, 2, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(*btf->format_value(text, raw), nlohmann::json::parse("[1,2,0,0,0,0,0,0]"));

    // Too few bytes is an error, not a read past the end.
    EXPECT_FALSE(btf->format_value(s, std::vector<uint8_t>(10, 0)).ok());
    EXPECT_FALSE(btf->format_value(999, v).ok());
}

TEST(Btf, MalformedHeaders) {
    EXPECT_TRUE(contains(parse_error({}), "header is truncated"));
    BtfBuilder b;
    b.add_int("int", 4, 32, btf_int::kSigned);
    auto bytes = b.build();
    auto bad_magic = bytes;
    bad_magic[0] = 0;
    EXPECT_TRUE(contains(parse_error(bad_magic), "bad magic"));
    auto long_types = bytes;
    put_le(long_types, 12, 4, 1000);
    EXPECT_TRUE(contains(parse_error(long_types), "type section"));
    auto far_strings = bytes;
    put_le(far_strings, 16, 4, 0xfffffff0);
    EXPECT_TRUE(contains(parse_error(far_strings), "string section"));
    auto truncated = bytes;
    truncated.resize(truncated.size() - 1);
    EXPECT_FALSE(Btf::parse(truncated).ok());
}

TEST(Btf, BadIdsAndStringsAreRejected) {
    {
        BtfBuilder b;
        b.add(BtfKind::Ptr, "", 0, 7);  // no type 7
        EXPECT_TRUE(
            contains(parse_error(b.build()), "type 1 (ptr): referenced type id 7 is out of range"));
    }
    {
        BtfBuilder b;
        b.add_int("int", 4, 32, btf_int::kSigned);
        auto bytes = b.build();
        put_le(bytes, 24, 4, 5000);  // name offset of type 1
        EXPECT_TRUE(contains(parse_error(bytes), "type 1: name offset 5000 is outside"));
    }
    {
        BtfBuilder b;
        b.add(static_cast<BtfKind>(25), "", 0, 0);
        EXPECT_TRUE(contains(parse_error(b.build()), "unknown kind 25"));
    }
    {
        BtfBuilder b;
        b.add_int("int", 4, 32, btf_int::kSigned);
        b.add(BtfKind::Func, "f", 1, 1);  // a function whose prototype is an int
        EXPECT_TRUE(contains(parse_error(b.build()), "is not a func_proto"));
    }
    {
        BtfBuilder b;
        b.add_int("huge", 4, 64, 0);  // 64 bits in 4 bytes
        EXPECT_TRUE(contains(parse_error(b.build()), "is invalid"));
    }
}

TEST(Btf, LoopsAreRejectedButPointerCyclesAreFine) {
    {
        BtfBuilder b;
        b.add(BtfKind::Typedef, "a", 0, 2);
        b.add(BtfKind::Const, "", 0, 1);
        EXPECT_TRUE(contains(parse_error(b.build()), "loops"));
    }
    {
        BtfBuilder b;
        b.add_int("__ARRAY_SIZE_TYPE__", 4, 32, 0);
        b.add(BtfKind::Array, "", 0, 0, {2, 1, 4});  // an array of itself
        EXPECT_TRUE(contains(parse_error(b.build()), "loops"));
    }
    {
        // struct node { struct node *next; }: legal, and sizes resolve.
        BtfBuilder b;
        b.add_struct(BtfKind::Struct, "node", 8, {{"next", 2, 0}});
        b.add(BtfKind::Ptr, "", 0, 1);
        b.add(BtfKind::Typedef, "node_t", 0, 1);
        auto btf = parse_ok(b);
        ASSERT_NE(btf, nullptr);
        EXPECT_EQ(*btf->resolve_size(3), 8u);
        EXPECT_EQ(btf->type_name(2), "struct node *");
        auto json = btf->format_value(1, std::vector<uint8_t>(8, 0));
        ASSERT_TRUE(json.ok());
        EXPECT_EQ(*json, nlohmann::json::parse(R"({"next":0})"));
    }
    {
        // Pointer and const chasing each other: type names stay finite.
        BtfBuilder b;
        b.add(BtfKind::Ptr, "", 0, 2);
        b.add(BtfKind::Const, "", 0, 1);
        auto btf = parse_ok(b);
        ASSERT_NE(btf, nullptr);
        EXPECT_LT(btf->type_name(2).size(), 1000u);
        EXPECT_EQ(*btf->resolve_size(2), 8u);
    }
}

TEST(Btf, CraftedValuesCannotExplodeFormatting) {
    BtfBuilder b;
    b.add_struct(BtfKind::Struct, "empty", 0, {});           // 1: zero-size
    b.add_int("__ARRAY_SIZE_TYPE__", 4, 32, 0);              // 2
    b.add(BtfKind::Array, "", 0, 0, {1, 2, 0xffffffff});     // 3: 4G empty structs
    b.add_struct(BtfKind::Struct, "self", 4, {{"", 4, 0}});  // 4: contains itself
    auto btf = parse_ok(b);
    ASSERT_NE(btf, nullptr);
    EXPECT_FALSE(btf->format_value(3, {}).ok());
    EXPECT_FALSE(btf->format_value(4, std::vector<uint8_t>(4, 0)).ok());
    EXPECT_FALSE(btf->find_member(4, "x").has_value());
}

}  // namespace
}  // namespace xbpf::test
