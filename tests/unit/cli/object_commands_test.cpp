// xbpf run / test-run / sections / verify on real objects, from outside: the main job's
// results checked against an independent reading of the capture, map state across runs, and
// every bad-input path with its exit code and message.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "support/run_command.hpp"
#include "support/shared_data.hpp"
#include "xbpf/capture.hpp"

namespace xbpf::test {
namespace {

const std::string kFirewall = std::string(XBPF_EXAMPLE_DIR) + "/xdp_firewall.o";
const std::string kCapture = std::string(XBPF_EXAMPLE_DIR) + "/traffic.pcap";
const std::string kRules = (source_dir() / "examples/firewall_rules.json").string();
const std::string kUnsafe = std::string(XBPF_BPF_OBJECT_DIR) + "/cli_unsafe_lookup.o";

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

#define REQUIRE_FILE(path)                                          \
    do {                                                            \
        if (!std::filesystem::exists(path))                         \
            GTEST_SKIP() << (path) << " was not built (no clang?)"; \
    } while (0)

// What the firewall should do, computed here from the raw frames: untagged IPv4 frames whose
// source is in 203.0.113.0/24 or 198.51.100.0/24 are dropped, everything else passes.
struct Expected {
    uint64_t packets = 0, dropped = 0, in_203 = 0, in_198 = 0;
};
Expected expected_firewall_verdicts() {
    Expected e;
    auto reader = CaptureReader::open(kCapture);
    EXPECT_TRUE(reader.ok());
    CapturedFrame f;
    while (reader && *reader->next(f)) {
        ++e.packets;
        if (f.data.size() < 34 || f.data[12] != 0x08 || f.data[13] != 0x00) continue;
        const uint8_t* src = f.data.data() + 26;
        if (src[0] == 203 && src[1] == 0 && src[2] == 113) ++e.in_203;
        if (src[0] == 198 && src[1] == 51 && src[2] == 100) ++e.in_198;
    }
    e.dropped = e.in_203 + e.in_198;
    return e;
}

uint64_t little_endian(const nlohmann::json& bytes) {
    uint64_t v = 0;
    for (size_t i = bytes.size(); i-- > 0;)
        v = v << 8 | std::stoul(bytes[i].get<std::string>(), nullptr, 16);
    return v;
}

TEST(CliRun, FirewallDropsTheBlockedPrefixes) {
    REQUIRE_FILE(kFirewall);
    REQUIRE_FILE(kCapture);
    const Expected e = expected_firewall_verdicts();
    ASSERT_GT(e.dropped, 0u);
    TempDir dir;
    for (const char* engine : {"interp", "jit"}) {
        auto r = run_xbpf({"run", kFirewall, "--pcap", kCapture, "--map-init", kRules, "--out",
                           dir.path("passed.pcap"), "--engine", engine, "-j"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        auto doc = nlohmann::json::parse(r.out);
        EXPECT_EQ(doc["packets"], e.packets) << engine;
        EXPECT_EQ(doc["actions"]["drop"], e.dropped) << engine;
        EXPECT_EQ(doc["actions"]["pass"], e.packets - e.dropped) << engine;
        EXPECT_EQ(doc["actions"]["tx"], 0) << engine;
        EXPECT_EQ(doc["actions"]["aborted"], 0) << engine;
        // The map counts drops per prefix; the keys say which prefix.
        const auto& blocked = doc["maps"]["blocked"];
        ASSERT_EQ(blocked.size(), 2u);
        for (const auto& entry : blocked) {
            const uint64_t count = little_endian(entry["value"]);
            const auto first = std::stoul(entry["key"][4].get<std::string>(), nullptr, 16);
            EXPECT_EQ(count, first == 203 ? e.in_203 : e.in_198) << engine;
        }
        // The output holds exactly the passed frames.
        auto passed = CaptureReader::open(dir.path("passed.pcap"));
        ASSERT_TRUE(passed.ok());
        CapturedFrame f;
        uint64_t written = 0;
        while (*passed->next(f))
            ++written;
        EXPECT_EQ(written, e.packets - e.dropped) << engine;
    }
}

TEST(CliRun, MapStateCarriesOverThroughDumpAndInit) {
    REQUIRE_FILE(kFirewall);
    REQUIRE_FILE(kCapture);
    const Expected e = expected_firewall_verdicts();
    TempDir dir;
    auto first = run_xbpf({"run", kFirewall, "--pcap", kCapture, "--map-init", kRules, "--map-dump",
                           dir.path("state.json")});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_TRUE(contains(first.out, fmt::format("drop {}", e.dropped))) << first.out;
    auto second = run_xbpf(
        {"run", kFirewall, "--pcap", kCapture, "--map-init", dir.path("state.json"), "-j"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    uint64_t total = 0;
    const auto doc = nlohmann::json::parse(second.out);
    for (const auto& entry : doc["maps"]["blocked"])
        total += little_endian(entry["value"]);
    EXPECT_EQ(total, 2 * e.dropped);
}

TEST(CliTestRun, RunsAnObjectProgramOnAPacket) {
    REQUIRE_FILE(kFirewall);
    TempDir dir;
    // An IPv4 frame from 203.0.113.7, and the rules that block it.
    std::string frame =
        "0200000000010210000000010800"
        "4500001c000040004011"
        "0000"
        "cb007107"
        "0a000001"
        "0000000000000000";
    auto blocked =
        run_xbpf({"test-run", kFirewall, "--data-hex", frame, "--map-init", kRules, "-j"});
    ASSERT_EQ(blocked.exit_code, 0) << blocked.err;
    auto doc = nlohmann::json::parse(blocked.out);
    EXPECT_EQ(doc["retval"], 1);  // XDP_DROP
    EXPECT_EQ(doc["data_out"], frame);
    auto passed = run_xbpf({"test-run", kFirewall, "--data-hex", frame, "-j"});  // no rules
    ASSERT_EQ(passed.exit_code, 0) << passed.err;
    EXPECT_EQ(nlohmann::json::parse(passed.out)["retval"], 2);  // XDP_PASS
}

TEST(CliBadInput, MissingObject) {
    for (const char* sub : {"run", "test-run", "sections", "verify"}) {
        std::vector<std::string> args = {sub, "/nonexistent/prog.o"};
        if (std::string(sub) == "run") args.insert(args.end(), {"--pcap", kCapture});
        auto r = run_xbpf(args);
        EXPECT_EQ(r.exit_code, 2) << sub << ": " << r.err;
        EXPECT_TRUE(contains(r.err, "/nonexistent/prog.o")) << sub << ": " << r.err;
    }
}

TEST(CliBadInput, NotAnElfObject) {
    TempDir dir;
    const auto bogus = dir.write("bogus.o", std::string(64, 'x'));
    for (const char* sub : {"sections", "verify"}) {
        auto r = run_xbpf({sub, bogus});
        EXPECT_EQ(r.exit_code, 2) << sub;
        EXPECT_TRUE(contains(r.err, "bogus.o")) << r.err;
    }
    // test-run treats a file that is not ELF as raw instructions, which need --unverified.
    auto r = run_xbpf({"run", bogus, "--pcap", kCapture});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "bogus.o")) << r.err;
}

TEST(CliBadInput, NoSuchProgram) {
    REQUIRE_FILE(kFirewall);
    auto r = run_xbpf({"run", kFirewall, "--pcap", kCapture, "--program", "nope"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(contains(r.err, "no program named 'nope'")) << r.err;
}

TEST(CliBadInput, UnreadableOrForeignCapture) {
    REQUIRE_FILE(kFirewall);
    TempDir dir;
    auto missing = run_xbpf({"run", kFirewall, "--pcap", "/nonexistent/t.pcap"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_TRUE(contains(missing.err, "/nonexistent/t.pcap")) << missing.err;
    auto foreign =
        run_xbpf({"run", kFirewall, "--pcap", dir.write("t.pcap", "definitely not a capture")});
    EXPECT_EQ(foreign.exit_code, 2);
    EXPECT_TRUE(contains(foreign.err, "not a readable pcap or pcapng capture")) << foreign.err;
}

TEST(CliBadInput, BadMapInit) {
    REQUIRE_FILE(kFirewall);
    TempDir dir;
    auto unknown = run_xbpf({"run", kFirewall, "--pcap", kCapture, "--map-init",
                             dir.write("m.json", R"({"nope": []})")});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_TRUE(contains(unknown.err, "no map named 'nope'")) << unknown.err;
    auto short_key =
        run_xbpf({"run", kFirewall, "--pcap", kCapture, "--map-init",
                  dir.write("k.json", R"({"blocked": [{"key": ["0x01"], "value": []}]})")});
    EXPECT_EQ(short_key.exit_code, 2);
    EXPECT_TRUE(contains(short_key.err, "entry 0: key has 1 bytes; the map's key size is 8"))
        << short_key.err;
    auto not_json =
        run_xbpf({"run", kFirewall, "--pcap", kCapture, "--map-init", dir.write("n.json", "{")});
    EXPECT_EQ(not_json.exit_code, 2);
}

TEST(CliBadInput, VerificationFailureExitsOneWithTheReport) {
    REQUIRE_FILE(kUnsafe);
    for (const char* sub : {"run", "test-run", "verify"}) {
        std::vector<std::string> args = {sub, kUnsafe};
        if (std::string(sub) == "run") args.insert(args.end(), {"--pcap", kCapture});
        if (std::string(sub) == "test-run")
            args.insert(args.end(), {"--data-hex", "000000000000000000000000ffff"});
        auto r = run_xbpf(args);
        EXPECT_EQ(r.exit_code, 1) << sub << ": " << r.out << r.err;
        EXPECT_TRUE(contains(r.out + r.err, "NULL")) << sub << ": " << r.out << r.err;
        EXPECT_TRUE(contains(r.out + r.err, "cli_unsafe_lookup.c"))
            << sub << ": the source line: " << r.out << r.err;
    }
}

}  // namespace
}  // namespace xbpf::test

namespace xbpf::test {
namespace {

TEST(CliDisasm, ObjectProgramsWithSourceLinesAndMapNames) {
    REQUIRE_FILE(kFirewall);
    auto r = run_xbpf({"disasm", kFirewall});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "xdp_firewall (xdp):")) << r.out;
    EXPECT_TRUE(contains(r.out, "; __u64 *drops = bpf_map_lookup_elem(&blocked, &key); @ "))
        << r.out;
    EXPECT_TRUE(contains(r.out, "xdp_firewall.c:34\n")) << r.out;
    EXPECT_TRUE(contains(r.out, "\tr1 = map[blocked]\n")) << r.out;
    EXPECT_TRUE(contains(r.out, "call bpf_map_lookup_elem#1")) << r.out;
    auto j = run_xbpf({"disasm", kFirewall, "--program", "xdp_firewall", "-j"});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    const auto doc = nlohmann::json::parse(j.out);
    ASSERT_EQ(doc["programs"].size(), 1u);
    EXPECT_EQ(doc["programs"][0]["instructions"][0]["source"]["line"], 24);
    auto none = run_xbpf({"disasm", kFirewall, "--section", "nope"});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_TRUE(contains(none.err, "no program matches")) << none.err;
}

}  // namespace
}  // namespace xbpf::test
