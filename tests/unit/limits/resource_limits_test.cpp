// Resource limits: map memory, program size, the checked interpreter's instruction budget and
// the JIT's code size. Each is exceeded on purpose and must fail with an error that names the
// limit, while work just under it still succeeds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "xbpf/engine.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/map.hpp"
#include "xbpf/map_shared.hpp"
#include "xbpf/program_type.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf {
namespace {

MapSpec array_spec(uint32_t value_size, uint32_t entries) {
    MapSpec spec;
    spec.name = "big";
    spec.type = MapType::Array;
    spec.key_size = 4;
    spec.value_size = value_size;
    spec.max_entries = entries;
    return spec;
}

// Restores "no limit" whatever the test does.
struct MapMemoryLimit {
    explicit MapMemoryLimit(size_t bytes) { set_map_memory_limit(bytes); }
    ~MapMemoryLimit() { set_map_memory_limit(0); }
};

TEST(MapMemoryLimit, LiveRegionsAreCountedAndReleased) {
    const size_t before = map_memory_in_use();
    {
        auto map = create_map(array_spec(1024, 256));  // 256 KiB of values
        ASSERT_TRUE(map.ok()) << map.error().to_string();
        EXPECT_GE(map_memory_in_use(), before + 256 * 1024);
    }
    EXPECT_EQ(map_memory_in_use(), before);
}

TEST(MapMemoryLimit, CreationPastTheLimitFailsAndNamesIt) {
    const MapMemoryLimit limit(map_memory_in_use() + (1u << 20));  // 1 MiB more than in use
    auto fits = create_map(array_spec(1024, 512));                 // 512 KiB
    ASSERT_TRUE(fits.ok()) << fits.error().to_string();
    auto too_big = create_map(array_spec(1024, 768));  // 768 KiB more: past the limit
    ASSERT_FALSE(too_big.ok());
    const std::string message = too_big.error().to_string();
    EXPECT_NE(message.find("map big"), std::string::npos) << message;
    EXPECT_NE(message.find("limit"), std::string::npos) << message;
    EXPECT_NE(message.find("EPERM"), std::string::npos) << message;
    // Releasing the first map makes room again.
    fits = Error("released");
    auto again = create_map(array_spec(1024, 768));
    EXPECT_TRUE(again.ok()) << again.error().to_string();
}

TEST(MapMemoryLimit, AppliesToEveryMapFamily) {
    const MapMemoryLimit limit(map_memory_in_use() + 64 * 1024);
    MapSpec hash = array_spec(4096, 64);
    hash.type = MapType::Hash;
    MapSpec ring;
    ring.name = "ring";
    ring.type = MapType::Ringbuf;
    ring.max_entries = 1u << 20;
    MapSpec queue = array_spec(4096, 64);
    queue.type = MapType::Queue;
    queue.key_size = 0;
    for (const MapSpec& spec : {hash, ring, queue}) {
        auto map = create_map(spec);
        EXPECT_FALSE(map.ok()) << spec.name;
        if (!map) {
            EXPECT_NE(map.error().message().find("limit"), std::string::npos);
        }
    }
}

TEST(MapMemoryLimit, AppliesToSharedMaps) {
    const MapMemoryLimit limit(map_memory_in_use() + 64 * 1024);
    auto fits = create_shared_map(array_spec(1024, 16), {});
    ASSERT_TRUE(fits.ok()) << fits.error().to_string();
    int error_number = 0;
    auto too_big = create_shared_map(array_spec(1024, 256), {}, &error_number);
    ASSERT_FALSE(too_big.ok());
    EXPECT_NE(too_big.error().to_string().find("limit"), std::string::npos)
        << too_big.error().to_string();
    EXPECT_NE(error_number, 0);
}

std::vector<Insn> straight_line(size_t length) {
    std::vector<Insn> program(length - 1, make::mov64_imm(0, 1));
    program.push_back(make::exit());
    return program;
}

VerifierReport verify_length(size_t length, bool privileged) {
    static const std::vector<Insn> longest = straight_line(kMaxProgramInsns + 1);
    VerifierInput input;
    input.program = std::span(longest).last(length);
    input.type = ProgramTypeRegistry::global().find("socket_filter").get();
    input.helpers = &HelperCatalog::linux_helpers();
    input.options.privileged = privileged;
    return verify(input);
}

TEST(ProgramSizeLimit, UnprivilegedLoadsStopAt4096Instructions) {
    EXPECT_TRUE(verify_length(kMaxUnprivilegedProgramInsns, false).accepted);
    const VerifierReport report = verify_length(kMaxUnprivilegedProgramInsns + 1, false);
    ASSERT_FALSE(report.accepted);
    EXPECT_NE(report.reason.find("4097 instructions"), std::string::npos) << report.reason;
    EXPECT_NE(report.reason.find("at most 4096"), std::string::npos) << report.reason;
    EXPECT_NE(report.reason.find("BPF_MAXINSNS"), std::string::npos) << report.reason;
    EXPECT_TRUE(verify_length(kMaxUnprivilegedProgramInsns + 1, true).accepted);
}

TEST(ProgramSizeLimit, PrivilegedLoadsStopAtAMillionInstructions) {
    const VerifierReport report = verify_length(kMaxProgramInsns + 1, true);
    ASSERT_FALSE(report.accepted);
    EXPECT_NE(report.reason.find("at most 1000000"), std::string::npos) << report.reason;
    EXPECT_NE(report.reason.find("BPF_COMPLEXITY_LIMIT_INSNS"), std::string::npos) << report.reason;
}

TEST(InstructionBudget, CheckedRunsStopWithAClearFault) {
    auto program = assemble("mov %r0, 0\nadd %r0, 1\nja -2\nexit");  // never ends
    ASSERT_TRUE(program.ok()) << program.error().to_string();
    PrepareOptions options;
    options.checked = true;
    options.instruction_budget = 1000;
    auto exe = prepare_interpreter(*program, {}, options);
    ASSERT_TRUE(exe.ok()) << exe.error().to_string();
    std::vector<MemoryRegion> dynamic;
    RunContext ctx;
    ctx.dynamic_regions = &dynamic;
    (*exe)->run(ctx, {});
    ASSERT_TRUE(ctx.fault.has_value());
    EXPECT_NE(ctx.fault->message.find("instruction budget of 1000 is exhausted"), std::string::npos)
        << ctx.fault->message;
}

TEST(JitCodeSize, ProgramsPastTheCapAreRefused) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    const std::vector<Insn> program = straight_line(1000);
    PrepareOptions options;
    options.max_jit_code_bytes = 256;
    auto refused = prepare_jit(program, {}, options);
    ASSERT_FALSE(refused.ok());
    const std::string message = refused.error().to_string();
    EXPECT_NE(message.find("JIT code size limit of 256 bytes"), std::string::npos) << message;
    options.max_jit_code_bytes = PrepareOptions{}.max_jit_code_bytes;
    auto accepted = prepare_jit(program, {}, options);
    EXPECT_TRUE(accepted.ok()) << accepted.error().to_string();
}

}  // namespace
}  // namespace xbpf
