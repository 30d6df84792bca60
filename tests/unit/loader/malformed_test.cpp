// Malformed objects built by breaking good ones in memory: each gives an Error that names the
// section and the problem, and none crashes (the CTest run under ASan checks the "never").
#include <gtest/gtest.h>

#include <random>

#include "loader_test_support.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::test {
namespace {

std::vector<uint8_t> good_object(const std::string& name) {
    return read_bytes(bpf_object_path(name));
}

std::string load_error(const std::vector<uint8_t>& bytes) {
    auto object = load_object(bytes, "prog.o");
    EXPECT_FALSE(object.ok()) << "the broken object loaded";
    return object.ok() ? "" : object.error().to_string();
}

TEST(Malformed, TooShortForAHeader) {
    EXPECT_EQ(load_error({}), "prog.o: file is 0 bytes, too small for an ELF header (64 bytes)");
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    auto bytes = good_object("loader_subprograms");
    bytes.resize(40);
    EXPECT_TRUE(contains(load_error(bytes), "too small for an ELF header"));
}

TEST(Malformed, WrongKindOfElf) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    const auto good = good_object("loader_subprograms");
    auto not_elf = good;
    not_elf[1] = 'X';
    EXPECT_TRUE(contains(load_error(not_elf), "not an ELF file"));
    auto elf32 = good;
    elf32[4] = 1;
    EXPECT_TRUE(contains(load_error(elf32), "not a 64-bit ELF file"));
    auto big_endian = good;
    big_endian[5] = 2;
    EXPECT_TRUE(contains(load_error(big_endian), "big-endian"));
    auto x86 = good;
    put_le(x86, 18, 2, 62);
    EXPECT_TRUE(contains(load_error(x86), "ELF machine is 62, not BPF (247)"));
    auto executable = good;
    put_le(executable, 16, 2, 2);
    EXPECT_TRUE(contains(load_error(executable), "not a relocatable object"));
}

TEST(Malformed, EveryTruncationFails) {
    XBPF_REQUIRE_BPF_OBJECT("loader_map_in_map");
    const auto good = good_object("loader_map_in_map");
    // The section table is at the end: any shorter file has it (or a section) cut off.
    for (size_t size = 0; size < good.size(); size += 7) {
        std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<ptrdiff_t>(size));
        auto object = load_object(cut, "prog.o");
        EXPECT_FALSE(object.ok()) << "loaded with " << size << " of " << good.size() << " bytes";
    }
}

TEST(Malformed, SectionTablePastTheEnd) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    auto bytes = good_object("loader_subprograms");
    put_le(bytes, 40, 8, bytes.size() - 64);
    EXPECT_TRUE(contains(load_error(bytes), "section table (")) << load_error(bytes);
    put_le(bytes, 40, 8, UINT64_MAX - 10);  // offsets that overflow when added
    EXPECT_TRUE(contains(load_error(bytes), "runs past the end of the file"));
}

TEST(Malformed, SectionContentsPastTheEnd) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    auto bytes = good_object("loader_subprograms");
    const RawSection xdp = raw_section(bytes, "xdp");
    put_le(bytes, xdp.header + 24, 8, bytes.size() - 8);  // sh_offset
    EXPECT_TRUE(contains(load_error(bytes), "prog.o: section xdp: contents (0xb8 bytes at offset"))
        << load_error(bytes);
    put_le(bytes, xdp.header + 24, 8, 0x40);
    put_le(bytes, xdp.header + 32, 8, UINT64_MAX);  // sh_size
    EXPECT_TRUE(contains(load_error(bytes), "section xdp: contents")) << load_error(bytes);
}

TEST(Malformed, BadStringOffsets) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    const auto good = good_object("loader_subprograms");
    auto section_name = good;
    const RawSection xdp = raw_section(section_name, "xdp");
    put_le(section_name, xdp.header, 4, 0x7fffffff);
    EXPECT_TRUE(contains(load_error(section_name),
                         "name offset 0x7fffffff is outside the section name table"));

    auto symbol_name = good;
    const RawSection symtab = raw_section(symbol_name, ".symtab");
    put_le(symbol_name, symtab.offset + 24 * 2, 4, 0x123456);  // symbol 2's st_name
    EXPECT_TRUE(contains(load_error(symbol_name),
                         "section .symtab: symbol 2: name offset 0x123456 is outside the string "
                         "table"))
        << load_error(symbol_name);

    // A string table whose last string is not terminated.
    auto unterminated = good;
    const RawSection strtab = raw_section(unterminated, ".strtab");
    unterminated[strtab.offset + strtab.size - 1] = 'x';
    EXPECT_TRUE(contains(load_error(unterminated), "is not NUL-terminated"))
        << load_error(unterminated);
}

TEST(Malformed, RelocationAgainstABadSymbol) {
    XBPF_REQUIRE_BPF_OBJECT("loader_btf_maps");
    auto bytes = good_object("loader_btf_maps");
    const RawSection rel = raw_section(bytes, ".relxdp");
    const RawSection symtab = raw_section(bytes, ".symtab");
    const uint64_t symbols = symtab.size / 24;
    // Relocation 3's r_info: symbol index in the upper half.
    const uint64_t info = get_le(bytes, rel.offset + 3 * 16 + 8, 8);
    put_le(bytes, rel.offset + 3 * 16 + 8, 8, (uint64_t{912} << 32) | (info & 0xffffffff));
    EXPECT_EQ(load_error(bytes),
              "prog.o: section .relxdp: relocation 3: symbol index 912 is out of range (" +
                  std::to_string(symbols) + " symbols)");
}

TEST(Malformed, RelocationOfTheWrongInstruction) {
    XBPF_REQUIRE_BPF_OBJECT("loader_btf_maps");
    auto bytes = good_object("loader_btf_maps");
    const RawSection rel = raw_section(bytes, ".relxdp");
    put_le(bytes, rel.offset, 8, 0);  // relocation 0 now applies to instruction 0
    const std::string error = load_error(bytes);
    EXPECT_TRUE(contains(error,
                         "section .relxdp: relocation 0: R_BPF_64_64 against 'flows' "
                         "applies to instruction 0"))
        << error;

    auto misaligned = good_object("loader_btf_maps");
    put_le(misaligned, rel.offset, 8, get_le(misaligned, rel.offset, 8) + 3);
    EXPECT_TRUE(contains(load_error(misaligned), "is not at an instruction boundary"));

    auto outside = good_object("loader_btf_maps");
    put_le(outside, rel.offset, 8, 0x100000);
    EXPECT_TRUE(
        contains(load_error(outside), "relocation 0: offset 0x100000 is outside section xdp"));
}

TEST(Malformed, UnresolvedExternsAreNamed) {
    XBPF_REQUIRE_BPF_OBJECT("loader_btf_maps");
    auto bytes = good_object("loader_btf_maps");
    const RawSection rel = raw_section(bytes, ".relxdp");
    const RawSection symtab = raw_section(bytes, ".symtab");
    // Make the map symbol of relocation 0 undefined (st_shndx = 0).
    const uint64_t symbol = get_le(bytes, rel.offset + 8, 8) >> 32;
    put_le(bytes, symtab.offset + symbol * 24 + 6, 2, 0);
    EXPECT_TRUE(contains(load_error(bytes), "loads the address of extern 'flows'"))
        << load_error(bytes);
}

TEST(Malformed, BtfTypeLoopInAnObject) {
    XBPF_REQUIRE_BPF_OBJECT("loader_btf_maps");
    auto bytes = good_object("loader_btf_maps");
    const RawSection btf = raw_section(bytes, ".BTF");
    const uint64_t types =
        btf.offset + get_le(bytes, btf.offset + 4, 4) + get_le(bytes, btf.offset + 8, 4);
    const uint64_t strings =
        btf.offset + get_le(bytes, btf.offset + 4, 4) + get_le(bytes, btf.offset + 16, 4);
    const uint64_t string_bytes = get_le(bytes, btf.offset + 20, 4);
    // Find the TYPEDEF __u32 and make it name itself.
    const std::string wanted = "__u32";
    uint64_t name = 0;
    for (uint64_t at = strings; at + wanted.size() < strings + string_bytes; ++at) {
        if (std::memcmp(bytes.data() + at, wanted.c_str(), wanted.size() + 1) == 0) {
            name = at - strings;
            break;
        }
    }
    ASSERT_NE(name, 0u);
    auto parsed = Btf::parse(std::span(bytes).subspan(btf.offset, btf.size));
    ASSERT_TRUE(parsed.ok());
    const auto id = (*parsed)->find("__u32", BtfKind::Typedef);
    ASSERT_TRUE(id.has_value());
    bool patched = false;
    for (uint64_t at = types; at + 12 <= strings; at += 4) {
        if (get_le(bytes, at, 4) == name && get_le(bytes, at + 4, 4) == 0x08000000) {
            put_le(bytes, at + 8, 4, *id);
            patched = true;
            break;
        }
    }
    ASSERT_TRUE(patched);
    const std::string error = load_error(bytes);
    EXPECT_TRUE(contains(error, "prog.o: section .BTF: type " + std::to_string(*id) +
                                    " (typedef): its chain of modifiers"))
        << error;
    EXPECT_TRUE(contains(error, "loops")) << error;
}

TEST(Malformed, BtfExtRecordSize) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    auto bytes = good_object("loader_subprograms");
    const RawSection ext = raw_section(bytes, ".BTF.ext");
    const uint64_t func_info =
        ext.offset + get_le(bytes, ext.offset + 4, 4) + get_le(bytes, ext.offset + 8, 4);
    put_le(bytes, func_info, 4, 3);
    EXPECT_TRUE(
        contains(load_error(bytes), "section .BTF.ext: func_info: record size 3 is invalid"))
        << load_error(bytes);
}

TEST(Malformed, FunctionSymbolOutsideItsSection) {
    XBPF_REQUIRE_BPF_OBJECT("loader_subprograms");
    auto bytes = good_object("loader_subprograms");
    const RawSection symtab = raw_section(bytes, ".symtab");
    const RawSection strtab = raw_section(bytes, ".strtab");
    for (uint64_t at = symtab.offset; at < symtab.offset + symtab.size; at += 24) {
        const char* name =
            reinterpret_cast<const char*>(bytes.data() + strtab.offset + get_le(bytes, at, 4));
        if (std::string(name) == "second") put_le(bytes, at + 16, 8, 0x10000);  // st_size
    }
    EXPECT_TRUE(contains(load_error(bytes),
                         "section xdp: function 'second': offset 128 and size "
                         "65536 run past the end of the section"))
        << load_error(bytes);
}

// Random damage to good objects: whatever loads must give programs that validate or at least
// stay inside what the loader promises; nothing may crash or hang.
TEST(Malformed, RandomDamageNeverCrashes) {
    std::mt19937_64 random(20240611);
    size_t loaded = 0, rejected = 0;
    for (const char* name :
         {"loader_subprograms", "loader_map_in_map", "loader_global_data", "loader_legacy_maps"}) {
        if (!std::filesystem::exists(bpf_object_path(name))) GTEST_SKIP() << "no BPF objects";
        const auto good = good_object(name);
        for (int round = 0; round < 1500; ++round) {
            auto bytes = good;
            const int flips = 1 + static_cast<int>(random() % 4);
            for (int i = 0; i < flips; ++i) {
                bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
            }
            auto object = load_object(bytes, name);
            if (!object.ok()) {
                ++rejected;
                EXPECT_FALSE(object.error().message().empty());
                continue;
            }
            ++loaded;
            for (const auto& program : object->programs) {
                for (size_t pc = 0; pc < program.insns.size(); ++pc) {
                    const Insn& insn = program.insns[pc];
                    if (!is_lddw(insn) || pc + 1 == program.insns.size()) continue;
                    if (insn.src == op::kImmMapByIdx || insn.src == op::kImmMapValueByIdx) {
                        ASSERT_LT(static_cast<size_t>(insn.imm), object->maps.size());
                    }
                    ++pc;
                }
            }
        }
    }
    EXPECT_GT(rejected, 0u);
    EXPECT_GT(loaded, 0u);
}

}  // namespace
}  // namespace xbpf::test
