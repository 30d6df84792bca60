// Stress: many threads run real eBPF programs (tests/bpf/stress_maps.c, loaded by the runtime)
// in the JIT, the interpreter and the checked interpreter at once, all updating the same hash,
// LRU hash, per-CPU array and ring buffer, while host threads iterate, copy, update and delete
// the same keys and consume the ring. Afterwards: the atomic counters add up exactly (no lost
// update), every per-CPU slot too, no reader ever saw a value mixing two writes (no torn value),
// every ring record a program reported as sent arrived exactly once, and the maps' memory is
// released with the object. scripts/stress.sh runs this under ThreadSanitizer.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "support/sanitizers.hpp"
#include "support/value_pattern.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/map_ringbuf.hpp"
#include "xbpf/runtime.hpp"
#include "xbpf/test_run.hpp"

namespace xbpf {
namespace {

// Sanitized builds run the same test on fewer iterations (they are 5-20x slower).
constexpr uint32_t kIterations = test::kSanitized ? 6000 : 60000;
constexpr uint32_t kWorkers = 6;  // stress_maps.c has room for 16
constexpr uint64_t kCounters = 16, kChurnKeys = 256, kFirstChurnKey = 1000;
// Workers, three host threads and the main thread each hold a per-CPU slot of their own.
constexpr uint32_t kCpus = 16;

enum XdpAction : uint32_t { kAborted = 0, kDrop = 1, kPass = 2 };

struct Request {
    uint32_t worker;
    uint32_t iteration;
    uint64_t pattern;
};

using test::Pattern;

std::filesystem::path object_path() {
    return std::filesystem::path(XBPF_BPF_OBJECT_DIR) / "stress_maps.o";
}

// The interpreter's executables for a program the runtime prepared for the JIT. The stress
// programs refer to maps only, so an lddw by map index becomes the Map*, the convention the
// runtime's loader and the helpers share.
Result<std::unique_ptr<Executable>> interpreter_for(const Program& program, bool checked) {
    PrepareOptions options;
    options.checked = checked;
    options.resolve_lddw = [&program](const Insn& lo, const Insn&) -> Result<uint64_t> {
        if (lo.src != op::kImmMapByIdx || static_cast<size_t>(lo.imm) >= program.maps().size())
            return Error("the stress programs refer to maps only");
        return reinterpret_cast<uintptr_t>(program.maps()[lo.imm].get());
    };
    return prepare_interpreter(program.translated(), program.helpers().table(), options);
}

// One engine's executables of both programs.
struct Engine {
    const char* name;
    const Executable* count;
    const Executable* churn;
};

struct Outcome {
    uint64_t counted = 0;
    std::vector<std::pair<uint32_t, uint32_t>> sent;  // (worker, iteration) of records sent
    std::string failure;
};

uint32_t run(const Executable& exe, const ProgramType& type, const Request& request,
             std::string& failure) {
    TestRunOptions options;
    options.data_in = std::span(reinterpret_cast<const uint8_t*>(&request), sizeof request);
    auto result = test_run(exe, type, options);
    if (!result) {
        failure = result.error().to_string();
        return kAborted;
    }
    return result->retval;
}

TEST(MapStress, ProgramsInEveryEngineAndTheHostShareMaps) {
    if (!std::filesystem::exists(object_path())) GTEST_SKIP() << "not built: " << object_path();
    ASSERT_TRUE(set_nr_cpus(kCpus)) << "per-CPU slots must be set before any map exists";
    const size_t memory_before = map_memory_in_use();
    {
        auto loaded = load_file(object_path());
        ASSERT_TRUE(loaded) << loaded.error().to_string();
        const auto count = (*loaded)->find_program("count");
        const auto churn = (*loaded)->find_program("churn");
        ASSERT_TRUE(count && churn);
        std::vector<std::unique_ptr<Executable>> owned;
        std::vector<Engine> engines;
        engines.push_back({"runtime default", &count->executable(), &churn->executable()});
        for (const bool checked : {false, true}) {
            auto c = interpreter_for(*count, checked);
            auto u = interpreter_for(*churn, checked);
            ASSERT_TRUE(c && u) << (c ? u.error() : c.error()).to_string();
            engines.push_back(
                {checked ? "checked interpreter" : "interpreter", c->get(), u->get()});
            owned.push_back(std::move(*c));
            owned.push_back(std::move(*u));
        }
        if (jit_available()) {
            ASSERT_EQ(count->executable().engine(), EngineKind::Jit);
        }
        Map& hash = *(*loaded)->find_map("shared_hash");
        Map& lru = *(*loaded)->find_map("lru");
        Map& percpu = *(*loaded)->find_map("percpu");
        Map& percpu_patterns = *(*loaded)->find_map("percpu_patterns");
        auto events = (*loaded)->find_map("events");
        for (uint64_t k = 0; k < kCounters; ++k) {
            const Pattern zero = Pattern::of(0);
            ASSERT_EQ(hash.update_elem(&k, &zero), 0);
        }

        std::atomic<uint32_t> running{kWorkers};
        std::vector<Outcome> outcomes(kWorkers);
        std::vector<std::thread> workers;
        for (uint32_t w = 0; w < kWorkers; ++w) {
            workers.emplace_back([&, w] {
                const Engine& engine = engines[w % engines.size()];
                Outcome& out = outcomes[w];
                for (uint32_t i = 0; i < kIterations && out.failure.empty(); ++i) {
                    const Request request{w, i, (uint64_t{w + 1} << 32) | i};
                    const uint32_t counted =
                        run(*engine.count, count->type(), request, out.failure);
                    if (counted == kAborted) {
                        out.failure += fmt::format(" (count aborted in the {})", engine.name);
                        break;
                    }
                    ++out.counted;
                    if (counted == kPass) out.sent.emplace_back(w, i);
                    if (run(*engine.churn, churn->type(), request, out.failure) != kPass)
                        out.failure += fmt::format(" (churn failed in the {})", engine.name);
                }
                --running;
            });
        }
        // The host walks the hash maps copying values (every CPU's slot of the per-CPU one). The
        // per-CPU counters are read only at the end: programs increment them with plain stores,
        // which, read meanwhile, would be a data race in C++ terms for the interpreter (Linux
        // programs race so with the host by design; TSan would rightly report it).
        std::atomic<uint64_t> torn{0}, checked{0}, walks{0};
        std::thread walker([&] {
            std::vector<uint8_t> value(percpu_patterns.host_value_size());
            do {
                for (Map* map : {&hash, &lru, &percpu_patterns}) {
                    uint64_t key = 0, next = 0;
                    const void* prev = nullptr;
                    for (int steps = 0; map->get_next_key(prev, &next) == 0 && steps < 10000;
                         ++steps) {
                        // Per-CPU values are updated in place, as in Linux, so a copy of
                        // a slot being written may mix two writes: copied, not checked.
                        if (map->lookup_elem(&next, value.data()) == 0 && map != &percpu_patterns &&
                            (map != &hash || next >= kFirstChurnKey)) {
                            for (size_t off = 0; off < map->host_value_size();
                                 off += sizeof(Pattern)) {
                                Pattern p;
                                std::memcpy(&p, value.data() + off, sizeof p);
                                torn += !p.consistent();
                                ++checked;
                            }
                        }
                        key = next;
                        prev = &key;
                    }
                }
                ++walks;
            } while (running.load() > 0);
        });
        auto every_cpu = [&](const Pattern& p) {
            std::vector<Pattern> slots(percpu_patterns.host_value_size() / sizeof(Pattern), p);
            return slots;
        };
        // The host replaces and deletes the programs' own churn keys.
        std::thread mutator([&] {
            uint32_t state = 12345;
            while (running.load() > 0) {
                state = state * 1664525u + 1013904223u;
                const uint64_t key = kFirstChurnKey + (state >> 8) % (kWorkers * kChurnKeys);
                const Pattern p = Pattern::of(state);
                Pattern copy;
                switch (state >> 30) {
                    case 0: hash.delete_elem(&key); break;
                    case 1:
                        lru.delete_elem(&key);
                        percpu_patterns.delete_elem(&key);
                        break;
                    case 2: hash.lookup_and_delete_elem(&key, &copy); break;
                    default:
                        EXPECT_EQ(hash.update_elem(&key, &p), 0);
                        EXPECT_EQ(lru.update_elem(&key, &p), 0);
                        EXPECT_EQ(percpu_patterns.update_elem(&key, every_cpu(p).data()), 0);
                }
            }
        });
        // The host consumes the ring while programs fill it.
        std::mutex received_lock;
        std::vector<std::pair<uint32_t, uint32_t>> received;
        RingBufferConsumer consumer;
        ASSERT_TRUE(consumer.add(events, [&](const void* data, size_t size) {
            EXPECT_EQ(size, 8u);
            uint32_t rec[2];
            std::memcpy(rec, data, sizeof rec);
            const std::lock_guard lock(received_lock);
            received.emplace_back(rec[0], rec[1]);
            return 0;
        }));
        std::thread reader([&] {
            while (running.load() > 0)
                consumer.poll(5);
        });
        for (auto& t : workers)
            t.join();
        walker.join();
        mutator.join();
        reader.join();
        consumer.consume();

        uint64_t runs = 0;
        std::set<std::pair<uint32_t, uint32_t>> sent;
        for (const Outcome& out : outcomes) {
            EXPECT_TRUE(out.failure.empty()) << out.failure;
            runs += out.counted;
            sent.insert(out.sent.begin(), out.sent.end());
        }
        EXPECT_EQ(runs, uint64_t{kWorkers} * kIterations);

        // No lost update: the shared atomic counters and the per-CPU slots add up to the runs.
        uint64_t atomic_sum = 0, percpu_sum = 0;
        std::vector<uint64_t> slots(percpu.host_value_size() / 8);
        for (uint64_t k = 0; k < kCounters; ++k) {
            Pattern p;
            ASSERT_EQ(hash.lookup_elem(&k, &p), 0);
            atomic_sum += p.words[0];
            const uint32_t slot = static_cast<uint32_t>(k);
            ASSERT_EQ(percpu.lookup_elem(&slot, slots.data()), 0);
            for (uint64_t v : slots)
                percpu_sum += v;
        }
        EXPECT_EQ(atomic_sum, runs) << "lost updates on the shared hash counters";
        EXPECT_EQ(percpu_sum, runs) << "lost updates on the per-CPU counters";

        // No torn value, and the host really did read while the programs wrote.
        EXPECT_EQ(torn.load(), 0u) << "of " << checked.load() << " values copied";
        EXPECT_GT(walks.load(), 0u);
        EXPECT_GT(checked.load(), 0u);

        // Every record sent arrived exactly once; nothing arrived that was not sent.
        const std::set<std::pair<uint32_t, uint32_t>> unique(received.begin(), received.end());
        EXPECT_EQ(unique.size(), received.size()) << "records delivered twice";
        EXPECT_EQ(unique, sent);
        EXPECT_GT(received.size(), 0u);
    }
    // The maps' regions go with the last reference to the object.
    EXPECT_EQ(map_memory_in_use(), memory_before);
}

}  // namespace
}  // namespace xbpf
