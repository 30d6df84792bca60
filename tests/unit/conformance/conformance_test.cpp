// The RFC 9669 conformance suite, in process: every test assembles to the bytes an independent
// assembler produced, disassembles and reassembles to the same bytes, and runs to the expected
// result in every engine (fast and checked interpreter, JIT, JIT with constant blinding).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <iostream>
#include <map>

#include "support/conformance_data.hpp"
#include "support/engines.hpp"
#include "support/shared_data.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

uint64_t helper_returning_one(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    return 1;
}

std::vector<test::ConformanceCase> suite() {
    auto cases = test::load_conformance_suite(test::shared_dir() / "conformance/tests");
    EXPECT_TRUE(cases.ok()) << (cases ? "" : cases.error().to_string());
    return cases ? std::move(*cases) : std::vector<test::ConformanceCase>{};
}

// name -> program hex from vectors.jsonl.
std::map<std::string, std::string> vectors() {
    std::map<std::string, std::string> out;
    std::ifstream in(test::shared_dir() / "conformance/vectors.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto doc = nlohmann::json::parse(line);
        out[doc["name"]] = doc["program"];
    }
    return out;
}

std::string hex(std::span<const uint8_t> bytes) {
    std::string s;
    for (uint8_t b : bytes)
        s += fmt::format("{:02x}", b);
    return s;
}

// Runs one case; returns an empty string on success, else what went wrong.
std::string run_case(const test::ConformanceCase& c, test::Engine engine) {
    auto program = assemble(c.assembly);
    if (!program) return "assembly failed: " + program.error().to_string();
    HelperTable helpers;
    helpers.set(5, helper_returning_one);
    auto exe = test::prepare(engine, *program, helpers);
    if (!exe) {
        if (c.error) return "";  // an expected error (the suite has none today)
        return "prepare failed: " + exe.error().to_string();
    }
    if ((*exe)->engine() != test::engine_kind(engine)) return "prepared for another engine";
    std::vector<uint8_t> memory = c.memory;
    MemoryRegion region{reinterpret_cast<uintptr_t>(memory.data()), memory.size(), true, "memory"};
    RunOptions run_options;
    run_options.regions = std::span(&region, 1);
    RunContext ctx;
    const uint64_t args[2] = {reinterpret_cast<uintptr_t>(memory.data()), memory.size()};
    const uint64_t r0 = (*exe)->run(ctx, args, run_options);
    if (ctx.engine != test::engine_kind(engine)) return "the run did not set ctx.engine";
    if (ctx.fault) {
        if (c.error) return "";
        return fmt::format("fault at {}: {}", ctx.fault->pc, ctx.fault->message);
    }
    if (c.error) return "expected error '" + *c.error + "' but the program ran";
    if (r0 != *c.result) return fmt::format("r0 = {:#x}, expected {:#x}", r0, *c.result);
    return "";
}

TEST(Conformance, AssemblerMatchesIndependentAssembler) {
    XBPF_REQUIRE_SHARED("conformance/vectors.jsonl");
    const auto expected = vectors();
    const auto cases = suite();
    ASSERT_EQ(cases.size(), expected.size());
    int matched = 0;
    for (const auto& c : cases) {
        auto program = assemble(c.assembly);
        ASSERT_TRUE(program.ok()) << c.name << ": " << program.error().to_string();
        auto it = expected.find(c.name);
        ASSERT_NE(it, expected.end()) << c.name << " has no vector";
        EXPECT_EQ(hex(encode(*program)), it->second) << c.name;
        matched += hex(encode(*program)) == it->second;
        if (!c.raw.empty()) {
            ASSERT_EQ(c.raw.size(), program->size()) << c.name;
            for (size_t i = 0; i < c.raw.size(); ++i) {
                uint64_t word;
                std::memcpy(&word, &(*program)[i], 8);
                EXPECT_EQ(word, c.raw[i]) << c.name << " slot " << i;
            }
        }
    }
    std::cout << "assembler: " << matched << " of " << cases.size() << " programs byte-identical\n";
}

TEST(Conformance, DisassembleThenAssembleGivesTheSameBytes) {
    XBPF_REQUIRE_SHARED("conformance/tests");
    for (const auto& c : suite()) {
        auto program = assemble(c.assembly);
        ASSERT_TRUE(program.ok()) << c.name;
        DisasmOptions options;
        options.syntax = Syntax::Conformance;
        const std::string text = disassemble(*program, options);
        auto again = assemble(text);
        ASSERT_TRUE(again.ok()) << c.name << ": " << again.error().to_string() << "\n" << text;
        EXPECT_EQ(encode(*again), encode(*program)) << c.name << "\n" << text;
    }
}

TEST(Conformance, KernelStyleDisassemblyCoversEveryInstruction) {
    XBPF_REQUIRE_SHARED("conformance/tests");
    for (const auto& c : suite()) {
        auto program = assemble(c.assembly);
        ASSERT_TRUE(program.ok()) << c.name;
        const std::string text = disassemble(*program);
        EXPECT_EQ(text.find("<invalid"), std::string::npos) << c.name << "\n" << text;
    }
}

class ConformanceRun : public test::EngineTest {};
XBPF_INSTANTIATE_FOR_ENGINES(ConformanceRun);

TEST_P(ConformanceRun, WholeSuite) {
    XBPF_REQUIRE_SHARED("conformance/tests");
    int passed = 0, failed = 0;
    for (const auto& c : suite()) {
        const std::string problem = run_case(c, engine());
        if (problem.empty()) {
            ++passed;
        } else {
            ++failed;
            ADD_FAILURE() << c.name << ": " << problem;
        }
    }
    std::cout << test::engine_name(engine()) << " engine: " << passed << " passed, " << failed
              << " failed\n";
    EXPECT_EQ(passed, 313);
}

}  // namespace
}  // namespace xbpf
