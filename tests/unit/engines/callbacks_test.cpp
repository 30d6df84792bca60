// Helpers that call back into the program (bpf_loop, bpf_for_each_map_elem), in every engine:
// BPF C programs loaded by the runtime (tests/bpf/engine_callbacks.c) and hand-written programs
// for what a compiler would not produce (a bad callback value, the frame limit, faults inside
// a callback).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "support/engines.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/runtime.hpp"
#include "xbpf/test_run.hpp"

namespace xbpf {
namespace {

// struct args of engine_callbacks.c.
struct Args {
    uint64_t n = 0;
    uint64_t stop_at = ~uint64_t{0};
    uint64_t flags = 0;
    int64_t result = 0;
    uint64_t sum = 0;
    uint64_t calls = 0;
};

const std::filesystem::path kObject =
    std::filesystem::path(XBPF_BPF_OBJECT_DIR) / "engine_callbacks.o";

class Callbacks : public test::EngineTest {
  protected:
    void SetUp() override {
        test::EngineTest::SetUp();
        if (IsSkipped()) return;
        if (!std::filesystem::exists(kObject)) GTEST_SKIP() << "not built: " << kObject;
        auto loaded = load_file(kObject, test::load_options(engine()));
        ASSERT_TRUE(loaded) << loaded.error().to_string();
        object_ = *loaded;
    }

    Map& map(const char* name) { return *object_->find_map(name); }

    // Runs the syscall program `name` with `in` as its context; returns the context after.
    Args run(const char* name, Args in) {
        auto program = object_->find_program(name);
        EXPECT_NE(program, nullptr) << name;
        if (!program) return {};
        EXPECT_EQ(program->executable().engine(), test::engine_kind(engine()));
        std::vector<uint8_t> ctx(sizeof in);
        std::memcpy(ctx.data(), &in, sizeof in);
        const auto globals = program->global_data_regions();
        TestRunOptions options;
        options.ctx_in = ctx;
        options.extra_regions = globals;
        auto result = test_run(program->executable(), program->type(), options);
        EXPECT_TRUE(result) << result.error().to_string();
        if (!result) return {};
        Args out;
        std::memcpy(&out, result->ctx_out.data(), sizeof out);
        return out;
    }

    std::shared_ptr<LoadedObject> object_;
};

// A hash map's u32 keys in its own order (get_next_key's, the order for_each walks).
std::vector<uint32_t> keys_in_order(Map& map) {
    std::vector<uint32_t> keys;
    uint32_t key = 0;
    while (map.get_next_key(keys.empty() ? nullptr : &keys.back(), &key) == 0)
        keys.push_back(key);
    return keys;
}

std::vector<test::Engine> runtime_engines() {
    // The runtime has no blinded JIT: three engines.
    return {test::Engine::InterpreterFast, test::Engine::InterpreterChecked, test::Engine::Jit};
}
INSTANTIATE_TEST_SUITE_P(Engines, Callbacks, ::testing::ValuesIn(runtime_engines()),
                         test::EngineNames());

TEST_P(Callbacks, LoopCallsBackWithEachIndexAndWritesTheCallersStack) {
    const Args out = run("loop_sum", {.n = 10});
    EXPECT_EQ(out.result, 10);
    EXPECT_EQ(out.sum, 45u);  // 0 + 1 + ... + 9, added through the context pointer
    EXPECT_EQ(out.calls, 10u);
    EXPECT_EQ(run("loop_sum", {.n = 0}).result, 0);
}

TEST_P(Callbacks, LoopStopsWhenTheCallbackReturnsOne) {
    const Args out = run("loop_sum", {.n = 10, .stop_at = 3});
    EXPECT_EQ(out.result, 4);  // the call that stopped counts
    EXPECT_EQ(out.sum, 0u + 1 + 2 + 3);
    EXPECT_EQ(out.calls, 4u);
}

TEST_P(Callbacks, LoopRefusesFlagsAndTooManyLoops) {
    const Args flags = run("loop_sum", {.n = 10, .flags = 1});
    EXPECT_EQ(flags.result, -EINVAL);
    EXPECT_EQ(flags.sum, 0u);
    const Args too_many = run("loop_sum", {.n = (1u << 23) + 1});
    EXPECT_EQ(too_many.result, -E2BIG);
    EXPECT_EQ(too_many.sum, 0u);
    // nr_loops is a u32, as in Linux: the upper half is not part of it.
    const Args truncated = run("loop_sum", {.n = (uint64_t{1} << 32) + 5});
    EXPECT_EQ(truncated.result, 5);
    EXPECT_EQ(truncated.sum, 10u);
}

TEST_P(Callbacks, CallbacksCallHelpersAndNestLoops) {
    const Args out = run("nested_loops", {.n = 5});
    EXPECT_EQ(out.result, 5);
    EXPECT_EQ(out.calls, 0u + 1 + 2 + 3 + 4);  // inner steps
    EXPECT_EQ(out.sum, 0u + 0 + 1 + 3 + 6);    // inner indices
    const uint32_t key = 0;
    uint64_t counter = 0;
    ASSERT_EQ(map("counter").lookup_elem(&key, &counter), 0);
    EXPECT_EQ(counter, 10u);  // bpf_map_lookup_elem from a callback of a callback
}

TEST_P(Callbacks, ForEachSumsAnArrayAndStopsEarly) {
    for (uint32_t i = 0; i < 8; ++i) {
        const uint64_t v = i * 10 + 1;
        ASSERT_EQ(map("numbers").update_elem(&i, &v), 0);
    }
    const Args all = run("sum_array", {});
    EXPECT_EQ(all.result, 8);
    EXPECT_EQ(all.sum, 288u);
    EXPECT_EQ(all.calls, 8u);
    const Args early = run("sum_array", {.stop_at = 2});
    EXPECT_EQ(early.result, 3);
    EXPECT_EQ(early.sum, 1u + 11 + 21);
    EXPECT_EQ(early.calls, 3u);
    EXPECT_EQ(run("sum_array", {.flags = 1}).result, -EINVAL);
}

TEST_P(Callbacks, ForEachSumsAHashInIterationOrder) {
    Map& table = map("table");
    for (uint32_t k : {3u, 7u, 11u, 20u}) {
        const uint64_t v = k * 100;
        ASSERT_EQ(table.update_elem(&k, &v), 0);
    }
    const Args all = run("sum_hash", {});
    EXPECT_EQ(all.result, 4);
    EXPECT_EQ(all.sum, 4100u);
    EXPECT_EQ(all.calls, 4u);
    // Stopping at a key visits the keys before it in the map's order (get_next_key's).
    const std::vector<uint32_t> order = keys_in_order(table);
    ASSERT_EQ(order.size(), 4u);
    uint64_t expected = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        expected += order[i] * 100;
        const Args early = run("sum_hash", {.stop_at = order[i]});
        EXPECT_EQ(early.result, static_cast<int64_t>(i + 1));
        EXPECT_EQ(early.sum, expected);
    }
}

TEST_P(Callbacks, ForEachSeesThisCpusValuesOfAPerCpuArray) {
    Map& per_cpu = map("per_cpu");
    const uint32_t cpus = nr_cpus();
    for (uint32_t i = 0; i < 4; ++i) {
        std::vector<uint64_t> values(cpus);
        for (uint32_t c = 0; c < cpus; ++c)
            values[c] = c * 1000 + i;
        ASSERT_EQ(per_cpu.update_elem(&i, values.data()), 0);
    }
    const Args out = run("sum_per_cpu", {});
    EXPECT_EQ(out.result, 4);
    EXPECT_EQ(out.sum, 4u * 1000 * current_cpu() + 0 + 1 + 2 + 3);
}

TEST_P(Callbacks, ForEachCallbacksModifyValuesAndDeleteElements) {
    for (uint32_t i = 0; i < 8; ++i) {
        const uint64_t v = i + 1;
        ASSERT_EQ(map("numbers").update_elem(&i, &v), 0);
    }
    EXPECT_EQ(run("double_array", {}).result, 8);
    for (uint32_t i = 0; i < 8; ++i) {
        uint64_t v = 0;
        ASSERT_EQ(map("numbers").lookup_elem(&i, &v), 0);
        EXPECT_EQ(v, 2u * (i + 1));
    }
    Map& table = map("table");
    for (uint32_t k : {3u, 7u, 11u, 20u}) {
        const uint64_t v = k;
        ASSERT_EQ(table.update_elem(&k, &v), 0);
    }
    EXPECT_EQ(run("double_hash", {}).result, 4);  // deleting the current element is allowed
    std::map<uint32_t, uint64_t> left;
    for (uint32_t key : keys_in_order(table)) {
        uint64_t v = 0;
        ASSERT_EQ(table.lookup_elem(&key, &v), 0);
        left[key] = v;
    }
    EXPECT_EQ(left, (std::map<uint32_t, uint64_t>{{20u, 40u}}));
}

// ---- hand-written programs: what the verifier would reject, or a compiler not write ----

class CallbackFaults : public test::EngineTest {
  protected:
    test::Outcome run(const std::string& assembly) {
        return test::run_assembly(engine(), assembly, {}, HelperCatalog::linux_helpers().table());
    }
};
XBPF_INSTANTIATE_FOR_ENGINES(CallbackFaults);

// bpf_loop(r1 = count, r2 = callback, r3 = ctx, r4 = flags).
const char* kLoopCall = "call 181\n";

TEST_P(CallbackFaults, CallbacksGetTheirArgumentsAndAFrameOfTheirOwn) {
    // The callback adds its index into the caller's stack through r2 and uses its own stack.
    const test::Outcome r =
        run(std::string("stdw [%r10-8], 0\nmov %r6, 77\nmov %r1, 5\nlddw %r2, func:cb\n"
                        "mov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n") +
            kLoopCall +
            "ldxdw %r1, [%r10-8]\nlsh %r0, 32\nadd %r0, %r1\nadd %r0, %r6\nexit\n"
            "cb:\nstdw [%r10-8], 1000\nmov %r6, 0\nldxdw %r3, [%r2+0]\nadd %r3, %r1\n"
            "stxdw [%r2+0], %r3\nmov %r0, 0\nexit\n");
    ASSERT_FALSE(r.fault) << r.fault->message;
    EXPECT_EQ(r.r0, (uint64_t{5} << 32) + 10 + 77);
}

TEST_P(CallbackFaults, AValueThatIsNotAFunctionFaultsAtTheHelperCall) {
    const test::Outcome r =
        run(std::string("mov %r1, 3\nmov %r2, 12345\nmov %r3, 0\nmov %r4, 0\n") + kLoopCall +
            "mov %r0, 7\nexit\n");
    ASSERT_TRUE(r.fault);
    EXPECT_EQ(r.fault->pc, 4u);
    EXPECT_EQ(r.fault->message, "the callback 0x3039 is not a function of the program");
    EXPECT_EQ(r.r0, 0u);
}

// main -> f1 -> ... -> f<depth>, which calls bpf_loop once; the callback then calls g if asked.
std::string nested(int depth, bool callback_calls) {
    std::string p = "call local f1\nexit\n";
    for (int i = 1; i < depth; ++i)
        p += fmt::format("f{}:\ncall local f{}\nexit\n", i, i + 1);
    p += fmt::format("f{}:\nmov %r1, 1\nlddw %r2, func:cb\nmov %r3, 0\nmov %r4, 0\n{}exit\n", depth,
                     kLoopCall);
    p += callback_calls ? "cb:\ncall local g\nmov %r0, 0\nexit\ng:\nmov %r0, 0\nexit\n"
                        : "cb:\nmov %r0, 0\nexit\n";
    return p;
}

TEST_P(CallbackFaults, CallbackFramesCountTowardsTheDepthLimit) {
    // Frames 0..6 for main and f1..f6, 7 for the callback: the limit of 8 frames is reached.
    const test::Outcome fits = run(nested(6, false));
    ASSERT_FALSE(fits.fault) << fits.fault->message;
    EXPECT_EQ(fits.r0, 1u);
    // One more frame in the callback is the ninth.
    const test::Outcome callee = run(nested(6, true));
    ASSERT_TRUE(callee.fault);
    EXPECT_EQ(callee.fault->message, "bpf-to-bpf calls nest deeper than 8 frames");
    // Slots: main 2, f1..f5 2 each, f6 7 (lddw takes two): cb starts at 2 * 6 + 7.
    EXPECT_EQ(callee.fault->pc, 19u);
    // The callback itself as the ninth frame: the helper call faults.
    const test::Outcome helper = run(nested(7, false));
    ASSERT_TRUE(helper.fault);
    EXPECT_EQ(helper.fault->message, "bpf-to-bpf calls nest deeper than 8 frames");
    EXPECT_EQ(helper.fault->pc, 2u * 7 + 5);  // f7's call of bpf_loop
}

TEST_P(CallbackFaults, RepeatedCallbacksThatCallHelpersKeepTheirDepth) {
    // Each of the 8 calls enters cb at depth 1 and g at depth 2, whose helper call must not
    // leave the next call deeper.
    const test::Outcome r =
        run(std::string("mov %r1, 8\nlddw %r2, func:cb\nmov %r3, 0\nmov %r4, 0\n") + kLoopCall +
            "exit\ncb:\ncall local g\nmov %r0, 0\nexit\ng:\ncall 7\nmov %r0, 0\nexit\n");
    ASSERT_FALSE(r.fault) << r.fault->message;
    EXPECT_EQ(r.r0, 8u);
}

TEST_P(CallbackFaults, AFaultInACallbackEndsTheRun) {
    // A bad callx inside the callback: the loop stops, the run ends with r0 = 0.
    const test::Outcome r =
        run(std::string("mov %r6, 0\nmov %r1, 100\nlddw %r2, func:cb\nmov %r3, 0\n"
                        "mov %r4, 0\n") +
            kLoopCall +
            "mov %r0, 7\nexit\ncb:\njeq %r1, 2, +2\nmov %r0, 0\nexit\n"
            "mov %r3, 99999\ncall %r3\nmov %r0, 0\nexit\n");
    ASSERT_TRUE(r.fault);
    EXPECT_EQ(r.fault->pc, 13u);  // the callx in cb
    EXPECT_EQ(r.fault->message,
              "callx r3 = 0x1869f is neither a function of the program nor a helper id");
    EXPECT_EQ(r.r0, 0u);
}

}  // namespace
}  // namespace xbpf
