// Large programs of the kinds the corpus does not hold (tests/bpf/verifier_*.c, built by
// clang): a container datapath with ~8,000 and ~17,000 instruction programs (deep packet
// parsing, many maps, map of maps, tail calls, checksum rewrites), a system-call tracer (raw
// tracepoints, kprobe, tracepoint, probe reads into a scratch buffer at growing offsets,
// bounded loops) and bounded loops of every common shape. Every program must be accepted within
// the verifier's work limit (1,000,000 instruction visits); the time each took is printed, not
// asserted.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <filesystem>
#include <iostream>

#include "xbpf/helpers.hpp"
#include "xbpf/object.hpp"
#include "xbpf/program_type.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf {
namespace {

std::filesystem::path object_path(const std::string& name) {
    return std::filesystem::path(XBPF_BPF_OBJECT_DIR) / (name + ".o");
}

struct Totals {
    size_t programs = 0;
    uint64_t visits = 0;
    double seconds = 0;
};

Totals verify_all(const std::string& name) {
    Totals totals;
    const auto path = object_path(name);
    auto object = load_object_file(path);
    EXPECT_TRUE(object.ok()) << (object.ok() ? "" : object.error().to_string());
    if (!object.ok()) return totals;
    for (const auto& spec : object->programs) {
        if (spec.kind != ProgramKind::Entry) continue;
        auto type = ProgramTypeRegistry::global().find(static_cast<uint32_t>(spec.prog_type));
        EXPECT_TRUE(type) << spec.name << ": no type for section " << spec.section;
        if (!type) continue;
        const VerifierReport report = verify(program_verifier_input(spec, object->maps, *type));
        EXPECT_TRUE(report.accepted) << name << " " << spec.name << "\n" << report.message;
        std::cout << fmt::format("{} {} ({}): {} instructions, {} visits, {} states, {:.4f} s\n",
                                 name, spec.name, type->name, spec.instruction_count(),
                                 report.stats.visited_instructions, report.stats.stored_states,
                                 report.stats.seconds);
        ++totals.programs;
        totals.visits += report.stats.visited_instructions;
        totals.seconds += report.stats.seconds;
    }
    return totals;
}

#define XBPF_REQUIRE_OBJECT(name)                                                            \
    do {                                                                                     \
        if (!std::filesystem::exists(object_path(name))) {                                   \
            GTEST_SKIP() << "BPF test object " << object_path(name) << " was not built (no " \
                         << "clang)";                                                        \
        }                                                                                    \
    } while (0)

TEST(VerifierScale, ContainerDatapath) {
    XBPF_REQUIRE_OBJECT("verifier_datapath");
    EXPECT_EQ(verify_all("verifier_datapath").programs, 4u);
}

TEST(VerifierScale, ContainerDatapathBeyondLinuxLimits) {
    XBPF_REQUIRE_OBJECT("verifier_datapath_large");
    EXPECT_EQ(verify_all("verifier_datapath_large").programs, 4u);
}

TEST(VerifierScale, SystemCallTracer) {
    XBPF_REQUIRE_OBJECT("verifier_tracer");
    EXPECT_EQ(verify_all("verifier_tracer").programs, 11u);
}

TEST(VerifierScale, BoundedLoops) {
    XBPF_REQUIRE_OBJECT("verifier_loops");
    EXPECT_EQ(verify_all("verifier_loops").programs, 7u);
}

}  // namespace
}  // namespace xbpf
