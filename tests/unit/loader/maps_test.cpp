// Map definitions as the loader reads them from the project's own test objects: BTF-defined
// maps with every field, legacy `maps` records, global data sections and maps of maps.
#include <gtest/gtest.h>

#include <set>

#include "loader_test_support.hpp"
#include "xbpf/isa.hpp"

namespace xbpf::test {
namespace {

// (map name, offset) of every lddw that loads a map value's address in a program.
std::set<std::pair<std::string, int32_t>> value_references(const Object& object,
                                                           const ProgramSpec& program) {
    std::set<std::pair<std::string, int32_t>> out;
    for (size_t pc = 0; pc + 1 < program.insns.size(); ++pc) {
        const Insn& insn = program.insns[pc];
        if (!is_lddw(insn)) continue;
        if (insn.src == op::kImmMapValueByIdx) {
            out.emplace(object.maps.at(static_cast<size_t>(insn.imm)).name,
                        program.insns[pc + 1].imm);
        }
        ++pc;
    }
    return out;
}

std::set<std::string> map_references(const Object& object, const ProgramSpec& program) {
    std::set<std::string> out;
    for (size_t pc = 0; pc + 1 < program.insns.size(); ++pc) {
        const Insn& insn = program.insns[pc];
        if (!is_lddw(insn)) continue;
        if (insn.src == op::kImmMapByIdx) {
            out.insert(object.maps.at(static_cast<size_t>(insn.imm)).name);
            EXPECT_EQ(program.insns[pc + 1].imm, 0);
        }
        ++pc;
    }
    return out;
}

TEST(BtfMaps, EveryFieldIsRead) {
    XBPF_REQUIRE_BPF_OBJECT("loader_btf_maps");
    const Object object = load_test_object("loader_btf_maps");
    ASSERT_EQ(object.maps.size(), 4u);
    ASSERT_NE(object.btf, nullptr);

    const MapSpec& flows = map_named(object, "flows");
    EXPECT_EQ(flows.origin, MapOrigin::BtfDefined);
    EXPECT_EQ(flows.type, MapType::Hash);
    EXPECT_EQ(flows.key_size, 12u);
    EXPECT_EQ(flows.value_size, 32u);
    EXPECT_EQ(flows.max_entries, 1024u);
    EXPECT_EQ(flows.flags, map_flags::kNoPrealloc);
    EXPECT_EQ(flows.pinning, 1u);  // LIBBPF_PIN_BY_NAME
    EXPECT_EQ(flows.numa_node, 0u);
    EXPECT_EQ(object.btf->type_name(flows.btf_key_type_id), "struct flow_key");
    EXPECT_EQ(object.btf->type_name(flows.btf_value_type_id), "struct flow_stats");

    const MapSpec& sized = map_named(object, "sized");
    EXPECT_EQ(sized.type, MapType::Array);
    EXPECT_EQ(sized.key_size, 4u);
    EXPECT_EQ(sized.value_size, 24u);
    EXPECT_EQ(sized.max_entries, 8u);
    EXPECT_EQ(sized.btf_key_type_id, 0u);

    const MapSpec& bloom = map_named(object, "bloom");
    EXPECT_EQ(bloom.type, MapType::BloomFilter);
    EXPECT_EQ(bloom.key_size, 0u);
    EXPECT_EQ(bloom.value_size, 4u);
    EXPECT_EQ(bloom.map_extra, 3u);

    const MapSpec& events = map_named(object, "events");
    EXPECT_EQ(events.type, MapType::Ringbuf);
    EXPECT_EQ(events.max_entries, 4096u);

    const ProgramSpec& program = program_named(object, "count_flows");
    EXPECT_EQ(map_references(object, program),
              (std::set<std::string>{"flows", "sized", "bloom", "events"}));
    EXPECT_EQ(object.license, "GPL");
}

TEST(BtfMaps, ValuesFormatLikeBpftool) {
    XBPF_REQUIRE_BPF_OBJECT("loader_btf_maps");
    const Object object = load_test_object("loader_btf_maps");
    const MapSpec& flows = map_named(object, "flows");
    std::vector<uint8_t> value(32, 0);
    value[0] = 5;     // packets
    value[8] = 0x10;  // bytes
    value[16] = 'e';  // label
    value[17] = 't';
    value[18] = 'h';
    auto json = object.btf->format_value(flows.btf_value_type_id, value);
    ASSERT_TRUE(json.ok()) << json.error().to_string();
    EXPECT_EQ(*json, nlohmann::json::parse(R"({"packets":5,"bytes":16,"label":"eth"})"));
}

TEST(LegacyMaps, BpfMapDefRecords) {
    XBPF_REQUIRE_BPF_OBJECT("loader_legacy_maps");
    const Object object = load_test_object("loader_legacy_maps");
    ASSERT_EQ(object.maps.size(), 2u);
    const MapSpec& packets = object.maps[0];
    EXPECT_EQ(packets.name, "packets");
    EXPECT_EQ(packets.origin, MapOrigin::Legacy);
    EXPECT_EQ(packets.type, MapType::Array);
    EXPECT_EQ(packets.key_size, 4u);
    EXPECT_EQ(packets.value_size, 8u);
    EXPECT_EQ(packets.max_entries, 256u);
    const MapSpec& sessions = object.maps[1];
    EXPECT_EQ(sessions.name, "sessions");
    EXPECT_EQ(sessions.type, MapType::LruHash);
    EXPECT_EQ(sessions.flags, map_flags::kNoCommonLru);
    EXPECT_EQ(sessions.max_entries, 4096u);
    EXPECT_EQ(object.license, "GPL");
    EXPECT_EQ(object.kernel_version, 0x050a00u);

    const ProgramSpec& program = program_named(object, "count_packets");
    EXPECT_EQ(program.prog_type, ProgType::SocketFilter);  // "socket1", a legacy name
    EXPECT_EQ(map_references(object, program), (std::set<std::string>{"packets", "sessions"}));
}

TEST(LegacyMaps, InnerMapByIndex) {
    XBPF_REQUIRE_BPF_OBJECT("loader_legacy_map_in_map");
    const Object object = load_test_object("loader_legacy_map_in_map");
    const MapSpec& outer = map_named(object, "outer");
    EXPECT_EQ(outer.type, MapType::ArrayOfMaps);
    ASSERT_NE(outer.inner, nullptr);
    EXPECT_EQ(outer.inner->name, "inner");
    EXPECT_EQ(outer.inner->type, MapType::Array);
    EXPECT_EQ(outer.inner->value_size, 8u);
}

TEST(GlobalData, SectionsBecomeSingleElementArrays) {
    XBPF_REQUIRE_BPF_OBJECT("loader_global_data");
    const Object object = load_test_object("loader_global_data");

    const MapSpec& data = map_named(object, ".data");
    EXPECT_EQ(data.origin, MapOrigin::Data);
    EXPECT_EQ(data.type, MapType::Array);
    EXPECT_EQ(data.key_size, 4u);
    EXPECT_EQ(data.max_entries, 1u);
    EXPECT_EQ(data.value_size, 8u);
    EXPECT_EQ(data.flags, 0u);
    EXPECT_EQ(data.initial_value, (std::vector<uint8_t>{5, 0, 0, 0, 9, 0, 0, 0}));

    const MapSpec& rodata = map_named(object, ".rodata");
    EXPECT_EQ(rodata.origin, MapOrigin::Rodata);
    EXPECT_EQ(rodata.flags, map_flags::kRdonlyProg);
    EXPECT_EQ(rodata.initial_value, (std::vector<uint8_t>{100, 0, 0, 0}));

    const MapSpec& bss = map_named(object, ".bss");
    EXPECT_EQ(bss.origin, MapOrigin::Bss);
    EXPECT_EQ(bss.value_size, 8u);
    EXPECT_TRUE(bss.initial_value.empty());

    EXPECT_EQ(map_named(object, ".data.custom").initial_value, (std::vector<uint8_t>{42, 0, 0, 0}));
    const MapSpec& tables = map_named(object, ".rodata.tables");
    EXPECT_EQ(tables.flags, map_flags::kRdonlyProg);
    EXPECT_EQ(tables.value_size, 16u);

    const MapSpec& kconfig = map_named(object, ".kconfig");
    EXPECT_EQ(kconfig.origin, MapOrigin::Kconfig);
    EXPECT_EQ(kconfig.value_size, 4u);
    ASSERT_EQ(object.kconfig.size(), 1u);
    EXPECT_EQ(object.kconfig[0].name, "LINUX_KERNEL_VERSION");
    EXPECT_EQ(object.kconfig[0].offset, 0u);
    EXPECT_EQ(object.kconfig[0].size, 4u);

    // The DATASEC of each section describes its value, with offsets filled in.
    ASSERT_NE(object.btf, nullptr);
    auto json = object.btf->format_value(data.btf_value_type_id, data.initial_value);
    ASSERT_TRUE(json.ok()) << json.error().to_string();
    EXPECT_EQ(*json, nlohmann::json::parse(R"({".data":[{"counter":5},{"second_counter":9}]})"));
}

TEST(GlobalData, ProgramsLoadValueAddressesByIndexAndOffset) {
    XBPF_REQUIRE_BPF_OBJECT("loader_global_data");
    const Object object = load_test_object("loader_global_data");
    const ProgramSpec& program = program_named(object, "use_globals");
    const auto refs = value_references(object, program);
    for (const auto& expected : std::vector<std::pair<std::string, int32_t>>{{".data", 0},
                                                                             {".data", 4},
                                                                             {".bss", 0},
                                                                             {".rodata", 0},
                                                                             {".data.custom", 0},
                                                                             {".rodata.tables", 0},
                                                                             {".kconfig", 0}}) {
        EXPECT_EQ(refs.count(expected), 1u) << expected.first << "+" << expected.second;
    }
    EXPECT_TRUE(validate_program(program.insns).ok());
}

TEST(MapInMap, InnerDefinitionAndInitialSlots) {
    XBPF_REQUIRE_BPF_OBJECT("loader_map_in_map");
    const Object object = load_test_object("loader_map_in_map");
    const MapSpec& outer = map_named(object, "outer");
    EXPECT_EQ(outer.type, MapType::ArrayOfMaps);
    EXPECT_EQ(outer.key_size, 4u);
    EXPECT_EQ(outer.value_size, 4u);
    EXPECT_EQ(outer.max_entries, 3u);
    ASSERT_NE(outer.inner, nullptr);
    EXPECT_EQ(outer.inner->type, MapType::Array);
    EXPECT_EQ(outer.inner->max_entries, 4u);
    EXPECT_EQ(outer.inner->key_size, 4u);
    EXPECT_EQ(outer.inner->value_size, 8u);
    const std::vector<std::pair<uint32_t, std::string>> slots = {{0, "inner_a"}, {2, "inner_b"}};
    EXPECT_EQ(outer.initial_slots, slots);
}

TEST(MapInMap, ProgArrayInitialisedWithPrograms) {
    XBPF_REQUIRE_BPF_OBJECT("loader_map_in_map");
    const Object object = load_test_object("loader_map_in_map");
    const MapSpec& jumps = map_named(object, "jumps");
    EXPECT_EQ(jumps.type, MapType::ProgArray);
    EXPECT_EQ(jumps.key_size, 4u);
    EXPECT_EQ(jumps.value_size, 4u);
    EXPECT_EQ(jumps.inner, nullptr);
    const std::vector<std::pair<uint32_t, std::string>> slots = {{0, "tail_a"}, {1, "tail_b"}};
    EXPECT_EQ(jumps.initial_slots, slots);
    // Three programs in one section, each found by its function name.
    for (const char* name : {"tail_a", "tail_b", "dispatch"}) {
        EXPECT_EQ(program_named(object, name).section, "socket");
    }
}

}  // namespace
}  // namespace xbpf::test
