// The example programs (examples/bpf/*.c, built by clang) end to end at the test-run level:
// loaded by the loader, their maps created, verified, context accesses rewritten from the
// verifier's report, prepared for the checked interpreter and test-run; then their maps are
// checked from the host, as a libbpf user would.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "support/run_command.hpp"
#include "xbpf/map_objects.hpp"
#include "xbpf/map_ringbuf.hpp"
#include "xbpf/object.hpp"
#include "xbpf/test_run.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf {
namespace {

std::filesystem::path example_path(const char* name) {
    return std::filesystem::path(XBPF_BINARY_DIR) / "examples" / (std::string(name) + ".o");
}

// An object's maps and programs, ready to run.
struct Example {
    Object object;
    std::vector<std::shared_ptr<Map>> maps;
    std::map<std::string, std::unique_ptr<Executable>> programs;
    std::shared_ptr<const ProgramType> type;
    // The global variables' memory, for checked runs (lddw hands it to the program directly).
    std::vector<MemoryRegion> globals;

    std::shared_ptr<Map> map(const std::string& name) const {
        for (size_t i = 0; i < maps.size(); ++i) {
            if (object.maps[i].name == name) return maps[i];
        }
        return nullptr;
    }
};

// The convention the runtime core uses too: an lddw of a map (src 5) yields the Map*, which is
// what helpers receive in r1; an lddw of a map value (src 6) yields the address of the value
// of a single-element array (global data) plus the offset.
Result<uint64_t> resolve(const Example& ex, const Insn& lo, const Insn& hi) {
    const auto index = static_cast<size_t>(lo.imm);
    if (index >= ex.maps.size()) return Error("lddw names a map the object does not have");
    Map& map = *ex.maps[index];
    if (lo.src == op::kImmMapByIdx) return reinterpret_cast<uintptr_t>(&map);
    const uint32_t key = 0;
    void* value = map.lookup(&key);
    if (value == nullptr) return Error("lddw of a value of a map that is not an array");
    return reinterpret_cast<uintptr_t>(value) + static_cast<uint32_t>(hi.imm);
}

Result<std::unique_ptr<Example>> load_example(const char* name) {
    auto object = load_object_file(example_path(name));
    if (!object) return std::move(object).error();
    auto ex = std::make_unique<Example>();
    ex->object = std::move(*object);
    for (const auto& spec : ex->object.maps) {
        auto map = create_map(spec);
        if (!map) return std::move(map).error();
        if (spec.origin == MapOrigin::Rodata) (*map)->freeze();
        const bool global = spec.origin == MapOrigin::Data || spec.origin == MapOrigin::Rodata ||
                            spec.origin == MapOrigin::Bss || spec.origin == MapOrigin::Kconfig;
        const uint32_t key = 0;
        if (global) {
            ex->globals.push_back({reinterpret_cast<uintptr_t>((*map)->lookup(&key)),
                                   spec.value_size, spec.origin != MapOrigin::Rodata, spec.name});
        }
        ex->maps.push_back(std::move(*map));
    }
    for (const auto& prog : ex->object.programs) {
        if (prog.kind != ProgramKind::Entry) continue;
        ex->type = ProgramTypeRegistry::global().find(static_cast<uint32_t>(prog.prog_type));
        if (!ex->type) return Error("no contract for the program's type");
        VerifierReport report = verify(program_verifier_input(prog, ex->object.maps, *ex->type));
        if (!report.accepted) return Error(report.message).in(prog.name);
        std::vector<Insn> translated = prog.insns;
        if (auto s = rewrite_context_accesses(translated, *ex->type, report.context_accesses); !s)
            return std::move(s).error().in(prog.name);
        PrepareOptions options;
        options.checked = true;
        const Example* self = ex.get();
        options.resolve_lddw = [self](const Insn& lo, const Insn& hi) {
            return resolve(*self, lo, hi);
        };
        auto exe = prepare_interpreter(translated, HelperCatalog::linux_helpers().table(), options);
        if (!exe) return std::move(exe).error().in(prog.name);
        ex->programs[prog.name] = std::move(*exe);
    }
    return ex;
}

#define LOAD_EXAMPLE(var, name)                                                              \
    if (!std::filesystem::exists(example_path(name))) GTEST_SKIP() << "not built: " << name; \
    auto var##_result = load_example(name);                                                  \
    ASSERT_TRUE(var##_result) << var##_result.error().to_string();                           \
    Example& var = **var##_result

// An Ethernet + IPv4 frame of `size` bytes.
std::vector<uint8_t> ipv4_frame(const uint8_t (&saddr)[4], uint8_t protocol, size_t size = 64) {
    std::vector<uint8_t> f(size, 0);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    ip[2] = static_cast<uint8_t>((size - 14) >> 8);
    ip[3] = static_cast<uint8_t>(size - 14);
    ip[8] = 64;
    ip[9] = protocol;
    std::memcpy(ip + 12, saddr, 4);
    const uint8_t daddr[4] = {192, 0, 2, 1};
    std::memcpy(ip + 16, daddr, 4);
    return f;
}

uint32_t run(const Example& ex, const std::string& program, std::span<const uint8_t> frame,
             uint32_t repeat = 1) {
    TestRunOptions options;
    options.data_in = frame;
    options.repeat = repeat;
    options.extra_regions = ex.globals;
    auto r = test_run(*ex.programs.at(program), *ex.type, options);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->retval : ~0u;
}

TEST(Examples, XdpFirewallDropsBlockedPrefixes) {
    LOAD_EXAMPLE(ex, "xdp_firewall");
    auto blocked = ex.map("blocked");
    ASSERT_TRUE(blocked);
    const uint8_t prefix[8] = {8, 0, 0, 0, 10, 0, 0, 0};  // 10.0.0.0/8
    const uint64_t zero = 0;
    ASSERT_EQ(blocked->update_elem(prefix, &zero), 0);

    const uint8_t inside[4] = {10, 1, 2, 3}, outside[4] = {192, 168, 0, 1};
    EXPECT_EQ(run(ex, "xdp_firewall", ipv4_frame(inside, 6), 3), static_cast<uint32_t>(XDP_DROP));
    EXPECT_EQ(run(ex, "xdp_firewall", ipv4_frame(outside, 6)), static_cast<uint32_t>(XDP_PASS));
    uint64_t drops = 0;
    ASSERT_EQ(blocked->lookup_elem(prefix, &drops), 0);
    EXPECT_EQ(drops, 3u);
}

TEST(Examples, PacketCounterCountsPerCpu) {
    LOAD_EXAMPLE(ex, "packet_counter");
    auto counts = ex.map("by_protocol");
    const uint8_t src[4] = {10, 0, 0, 1};
    run(ex, "count_packets", ipv4_frame(src, 17, 100), 5);
    run(ex, "count_packets", ipv4_frame(src, 6, 80), 2);
    std::vector<uint64_t> per_cpu(2 * nr_cpus());
    const uint32_t udp = 17;
    ASSERT_EQ(counts->lookup_elem(&udp, per_cpu.data()), 0);
    uint64_t packets = 0, bytes = 0;
    for (uint32_t cpu = 0; cpu < nr_cpus(); ++cpu) {
        packets += per_cpu[2 * cpu];
        bytes += per_cpu[2 * cpu + 1];
    }
    EXPECT_EQ(packets, 5u);
    EXPECT_EQ(bytes, 500u);
}

TEST(Examples, RingBufferEventsReachTheConsumer) {
    LOAD_EXAMPLE(ex, "ringbuf_events");
    const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    run(ex, "report_packets", ipv4_frame(a, 17, 70));
    run(ex, "report_packets", ipv4_frame(b, 6, 90));
    struct Event {
        uint64_t len;
        uint8_t saddr[4];
        uint8_t daddr[4];
        uint8_t protocol;
        uint8_t pad[7];
    };
    std::vector<Event> events;
    RingBufferConsumer consumer;
    ASSERT_TRUE(consumer.add(ex.map("events"), [&](const void* data, size_t size) {
        EXPECT_EQ(size, sizeof(Event));
        Event e;
        std::memcpy(&e, data, sizeof e);
        events.push_back(e);
        return 0;
    }));
    EXPECT_EQ(consumer.consume(), 2);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(std::memcmp(events[0].saddr, a, 4), 0);
    EXPECT_EQ(events[0].len, 70u);
    EXPECT_EQ(events[0].protocol, 17);
    EXPECT_EQ(std::memcmp(events[1].saddr, b, 4), 0);
    EXPECT_EQ(events[1].protocol, 6);
}

// What a prog_array slot holds: here, an example's prepared program.
class Slot : public TailCallTarget {
  public:
    explicit Slot(const Executable* exe) : exe_(exe) {}
    const Executable* executable(EngineKind engine) const override {
        return engine == exe_->engine() ? exe_ : nullptr;
    }
    uint32_t object_id() const override { return 0; }

  private:
    const Executable* exe_;
};

TEST(Examples, TailCallDispatcherContinuesInTheHandler) {
    LOAD_EXAMPLE(ex, "tail_call_dispatch");
    auto* handlers = dynamic_cast<ObjectMap*>(ex.map("handlers").get());
    ASSERT_NE(handlers, nullptr);
    uint32_t tcp = 6, udp = 17;
    ASSERT_EQ(handlers->update_object(
                  &tcp, std::make_shared<Slot>(ex.programs.at("handle_tcp").get()), 0),
              0);
    ASSERT_EQ(handlers->update_object(
                  &udp, std::make_shared<Slot>(ex.programs.at("handle_udp").get()), 0),
              0);
    const uint8_t src[4] = {10, 0, 0, 1};
    EXPECT_EQ(run(ex, "dispatch", ipv4_frame(src, 6)), static_cast<uint32_t>(XDP_TX));
    EXPECT_EQ(run(ex, "dispatch", ipv4_frame(src, 17)), static_cast<uint32_t>(XDP_DROP));
    EXPECT_EQ(run(ex, "dispatch", ipv4_frame(src, 1)), static_cast<uint32_t>(XDP_PASS));
}

TEST(Examples, GlobalVariablesAndABpfToBpfCall) {
    LOAD_EXAMPLE(ex, "global_counter");
    const uint8_t src[4] = {10, 0, 0, 1};
    EXPECT_EQ(run(ex, "count_globally", ipv4_frame(src, 17, 200)), static_cast<uint32_t>(XDP_PASS));
    EXPECT_EQ(run(ex, "count_globally", ipv4_frame(src, 17, 1200)),
              static_cast<uint32_t>(XDP_DROP));
    std::shared_ptr<Map> bss;
    for (size_t i = 0; i < ex.maps.size(); ++i) {
        if (ex.object.maps[i].origin == MapOrigin::Bss) bss = ex.maps[i];
    }
    ASSERT_TRUE(bss);
    std::vector<uint64_t> globals(bss->value_size() / 8);
    const uint32_t key = 0;
    ASSERT_EQ(bss->lookup_elem(&key, globals.data()), 0);
    // packets, bytes, large_packets in declaration order.
    ASSERT_GE(globals.size(), 3u);
    EXPECT_EQ(globals[0], 2u);
    EXPECT_EQ(globals[1], 1400u);
    EXPECT_EQ(globals[2], 1u);
}

// The embedding example (examples/embed/count_protocols.cpp), run as a user would run it.
TEST(Examples, EmbeddingApplicationCountsProtocols) {
    const auto binary = std::filesystem::path(XBPF_BINARY_DIR) / "examples" / "count_protocols";
    if (!std::filesystem::exists(example_path("packet_counter"))) {
        GTEST_SKIP() << "not built: packet_counter";
    }
    const auto result = test::run_command(binary.string(), {example_path("packet_counter")});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out,
              "protocol 1: 1 packets, 98 bytes\n"
              "protocol 6: 2 packets, 1560 bytes\n"
              "protocol 17: 1 packets, 128 bytes\n");

    const auto missing = test::run_command(binary.string(), {"/nonexistent/packet_counter.o"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("/nonexistent/packet_counter.o"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace xbpf
