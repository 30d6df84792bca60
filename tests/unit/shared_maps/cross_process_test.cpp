// Shared maps between processes: a forked child opens the pinned file and both processes work on
// the map at once with several threads each. Counters updated with atomic adds come out exact,
// hash maps churned from both sides end with exactly the expected elements and no torn values,
// records produced in one process are consumed in the other (with futex wakeups across
// processes). Children report through exit codes (non-zero: which check failed).
#include <array>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "shared_map_test_util.hpp"
#include "xbpf/map_ringbuf.hpp"

namespace xbpf {
namespace {

using test::make_shared;
using test::ScratchDir;
using test::spec_of;

constexpr auto kPatience = std::chrono::seconds(60);

// The one 64-bit word of a one-entry array (pin_word): how the processes signal each other.
uint64_t* word_of(Map& map) {
    const uint32_t zero = 0;
    return static_cast<uint64_t*>(map.lookup(&zero));
}

// Every party adds one to the word of `sync` and waits until all have: both processes start
// their threads together. False if the others never came.
bool rendezvous(Map& sync, uint64_t parties) {
    uint64_t* word = word_of(sync);
    __atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (__atomic_load_n(word, __ATOMIC_SEQ_CST) < parties) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

// Runs `threads` threads of `body(thread index)` and returns how many reported failure.
int run_threads(int threads, const std::function<bool(int)>& body) {
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            if (!body(t)) failures.fetch_add(1);
        });
    }
    for (auto& th : pool)
        th.join();
    return failures.load();
}

class CrossProcess : public ::testing::Test {
  protected:
    void SetUp() override {
        sync_ = pin_word("sync");
        ASSERT_NE(sync_, nullptr);
    }

    // A shared one-entry array holding one 64-bit word (word_of), pinned as `name`; nullptr if
    // it could not be made.
    std::shared_ptr<Map> pin_word(const char* name) const {
        auto map = make_shared(spec_of(MapType::Array, 4, 8, 1), dir_);
        if (map != nullptr && !pin_map(*map, dir_ / name).ok()) map = nullptr;
        return map;
    }

    // In the child: opens the pinned maps `names` (nullptr entries for failures).
    std::vector<std::shared_ptr<Map>> open_all(std::initializer_list<const char*> names) const {
        std::vector<std::shared_ptr<Map>> maps;
        for (const char* name : names) {
            auto m = open_pinned_map(dir_ / name);
            maps.push_back(m.ok() ? *m : nullptr);
        }
        return maps;
    }

    // In the child: opens the pinned maps `names` ("sync" first) into `maps` and meets the
    // parent. 0, or the child's exit code: 1 when a map would not open, 2 when the parent never
    // came.
    int join(std::initializer_list<const char*> names,
             std::vector<std::shared_ptr<Map>>& maps) const {
        maps = open_all(names);
        for (const auto& m : maps)
            if (m == nullptr) return 1;
        return rendezvous(*maps[0], 2) ? 0 : 2;
    }

    ScratchDir dir_;
    std::shared_ptr<Map> sync_;
};

// The usual life of a pin: one process creates, fills and pins a map and exits; another opens
// it later and finds everything, and its own changes are there for the next one.
TEST_F(CrossProcess, PinnedMapOutlivesTheProcessThatMadeIt) {
    const auto path = dir_ / "left-behind";
    ASSERT_EQ(test::in_child([&] {
                  auto map = create_shared_map(spec_of(MapType::Hash, 4, 8, 128), dir_.options());
                  if (!map.ok()) return 1;
                  for (uint32_t k = 0; k < 100; ++k) {
                      const uint64_t v = uint64_t{k} * k;
                      if ((*map)->update_elem(&k, &v) != 0) return 2;
                  }
                  return pin_map(**map, path).ok() ? 0 : 3;
              }),
              0);
    auto map = test::open_pinned(path);
    ASSERT_NE(map, nullptr);
    for (uint32_t k = 0; k < 100; ++k) {
        uint64_t v = 0;
        ASSERT_EQ(map->lookup_elem(&k, &v), 0);
        EXPECT_EQ(v, uint64_t{k} * k);
    }
    const uint32_t key = 1000;
    const uint64_t value = 7;
    ASSERT_EQ(map->update_elem(&key, &value), 0);
    map.reset();
    EXPECT_EQ(test::in_child([&] {
                  auto again = open_pinned_map(path);
                  uint64_t v = 0;
                  if (!again.ok() || (*again)->lookup_elem(&key, &v) != 0) return 1;
                  return v == 7 ? 0 : 2;
              }),
              0);
}

// --- counters -----------------------------------------------------------------------------------

constexpr int kThreads = 4;
constexpr uint64_t kAdds = 100000;

// Each thread adds 1 to keys 1..3 of `counters` and to its CPU slot of key 0 of `percpu`.
bool add_counters(Map& counters, Map& percpu) {
    for (uint64_t i = 0; i < kAdds; ++i) {
        for (uint32_t key = 1; key <= 3; ++key) {
            __atomic_fetch_add(static_cast<uint64_t*>(counters.lookup(&key)), 1, __ATOMIC_RELAXED);
        }
        const uint32_t zero = 0;
        __atomic_fetch_add(static_cast<uint64_t*>(percpu.lookup(&zero)), 1, __ATOMIC_RELAXED);
    }
    return true;
}

TEST_F(CrossProcess, AtomicCountersAddUpExactly) {
    auto counters = make_shared(spec_of(MapType::Array, 4, 8, 4), dir_);
    auto percpu = make_shared(spec_of(MapType::PercpuArray, 4, 8, 1), dir_);
    ASSERT_NE(counters, nullptr);
    ASSERT_NE(percpu, nullptr);
    ASSERT_TRUE(pin_map(*counters, dir_ / "counters").ok());
    ASSERT_TRUE(pin_map(*percpu, dir_ / "percpu").ok());

    const pid_t child = test::start_child([&] {
        std::vector<std::shared_ptr<Map>> maps;
        if (const int failed = join({"sync", "counters", "percpu"}, maps); failed != 0)
            return failed;
        return run_threads(kThreads, [&](int) { return add_counters(*maps[1], *maps[2]); }) == 0
                   ? 0
                   : 3;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(rendezvous(*sync_, 2));
    EXPECT_EQ(run_threads(kThreads, [&](int) { return add_counters(*counters, *percpu); }), 0);
    ASSERT_EQ(test::wait_child(child), 0);

    for (uint32_t key = 1; key <= 3; ++key) {
        uint64_t v = 0;
        ASSERT_EQ(counters->lookup_elem(&key, &v), 0);
        EXPECT_EQ(v, 2 * kThreads * kAdds) << "key " << key;
    }
    // Per-CPU: the slots of both processes' threads hold everything between them.
    std::vector<uint64_t> slots(nr_cpus());
    const uint32_t zero = 0;
    ASSERT_EQ(percpu->lookup_elem(&zero, slots.data()), 0);
    uint64_t sum = 0;
    for (uint64_t s : slots)
        sum += s;
    EXPECT_EQ(sum, 2 * kThreads * kAdds);
}

// --- hash maps ----------------------------------------------------------------------------------

struct Value {
    uint64_t key;
    uint64_t check;  // ~key: a torn or misplaced value shows
};

constexpr uint64_t kCounterKey = ~uint64_t{0};
constexpr uint64_t kKeysPerThread = 200;
constexpr int kRounds = 20;

uint64_t key_of(int process, int thread, uint64_t i) {
    return (uint64_t(process) << 32) | (uint64_t(thread) << 16) | i;
}

// One thread's churn: inserts its keys, checks them, deletes them, again and again; leaves the
// keys with i % 3 == 0. Also adds 1 to the shared counter element per round and key.
bool churn(Map& hash, int process, int thread) {
    for (int round = 0; round < kRounds; ++round) {
        for (uint64_t i = 0; i < kKeysPerThread; ++i) {
            const uint64_t k = key_of(process, thread, i);
            const Value v{k, ~k};
            // Half through the program side, half through the host side.
            const long err = (i % 2) ? hash.update(&k, &v, update_flags::kNoExist)
                                     : hash.update_elem(&k, &v, update_flags::kNoExist);
            if (err != 0) return false;
            auto* counter = static_cast<uint64_t*>(hash.lookup(&kCounterKey));
            if (counter == nullptr) return false;
            __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
        }
        for (uint64_t i = 0; i < kKeysPerThread; ++i) {
            const uint64_t k = key_of(process, thread, i);
            Value v{};
            if (hash.lookup_elem(&k, &v) != 0 || v.key != k || v.check != ~k) return false;
            const bool last = round == kRounds - 1;
            if (last && i % 3 == 0) continue;
            if (((i % 2) ? hash.erase(&k) : hash.delete_elem(&k)) != 0) return false;
        }
    }
    return true;
}

void expect_churn_result(Map& hash) {
    uint64_t counter[2] = {};
    ASSERT_EQ(hash.lookup_elem(&kCounterKey, counter), 0);
    EXPECT_EQ(counter[0], 2 * kThreads * kRounds * kKeysPerThread);
    std::set<uint64_t> expected{kCounterKey};
    for (int process = 0; process < 2; ++process)
        for (int t = 0; t < kThreads; ++t)
            for (uint64_t i = 0; i < kKeysPerThread; i += 3)
                expected.insert(key_of(process, t, i));
    std::set<uint64_t> found;
    uint64_t key = 0, next = 0;
    for (bool first = true; hash.get_next_key(first ? nullptr : &key, &next) == 0; first = false) {
        key = next;
        EXPECT_TRUE(found.insert(key).second) << "key " << key << " twice";
        if (key == kCounterKey) continue;
        Value v{};
        ASSERT_EQ(hash.lookup_elem(&key, &v), 0);
        EXPECT_EQ(v.key, key);
        EXPECT_EQ(v.check, ~key);
    }
    EXPECT_EQ(found, expected);
}

TEST_F(CrossProcess, HashChurnFromBothProcessesEndsExact) {
    const uint32_t capacity = 2 * kThreads * kKeysPerThread + 16;
    auto hash = make_shared(spec_of(MapType::Hash, 8, sizeof(Value), capacity), dir_);
    ASSERT_NE(hash, nullptr);
    const Value zero{};
    ASSERT_EQ(hash->update_elem(&kCounterKey, &zero), 0);
    ASSERT_TRUE(pin_map(*hash, dir_ / "hash").ok());

    const pid_t child = test::start_child([&] {
        std::vector<std::shared_ptr<Map>> maps;
        if (const int failed = join({"sync", "hash"}, maps); failed != 0) return failed;
        return run_threads(kThreads, [&](int t) { return churn(*maps[1], 1, t); }) == 0 ? 0 : 3;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(rendezvous(*sync_, 2));
    EXPECT_EQ(run_threads(kThreads, [&](int t) { return churn(*hash, 0, t); }), 0);
    ASSERT_EQ(test::wait_child(child), 0);
    expect_churn_result(*hash);
    // A third process sees the same end state.
    EXPECT_EQ(test::in_child([&] {
                  auto m = open_pinned_map(dir_ / "hash");
                  uint64_t counter[2] = {};
                  if (!m.ok() || (*m)->lookup_elem(&kCounterKey, counter) != 0) return 1;
                  return counter[0] == 2 * kThreads * kRounds * kKeysPerThread ? 0 : 2;
              }),
              0);
}

// Values replaced whole in one process are never seen half-written, nor missing, in the other.
TEST_F(CrossProcess, ReplacedHashValuesAreNeverTorn) {
    constexpr uint32_t kKeys = 16;
    constexpr int kWords = 8;
    constexpr uint64_t kReads = 200000;
    using Wide = std::array<uint64_t, kWords>;
    auto hash = make_shared(spec_of(MapType::Hash, 4, sizeof(Wide), kKeys), dir_);
    ASSERT_NE(hash, nullptr);
    for (uint32_t k = 0; k < kKeys; ++k) {
        Wide w{};
        ASSERT_EQ(hash->update_elem(&k, w.data()), 0);
    }
    ASSERT_TRUE(pin_map(*hash, dir_ / "wide").ok());
    // The readers (here) tell the writers (in the child) when they have read enough.
    auto done = pin_word("done");
    ASSERT_NE(done, nullptr);

    const pid_t child = test::start_child([&] {
        std::vector<std::shared_ptr<Map>> maps;
        if (const int failed = join({"sync", "wide", "done"}, maps); failed != 0) return failed;
        const uint64_t* finished = word_of(*maps[2]);
        const auto deadline = std::chrono::steady_clock::now() + kPatience;
        const int failures = run_threads(2, [&](int t) {
            for (uint64_t gen = 1; __atomic_load_n(finished, __ATOMIC_SEQ_CST) == 0; ++gen) {
                if (std::chrono::steady_clock::now() > deadline) return false;
                const uint32_t k = static_cast<uint32_t>((gen * 7 + t) % kKeys);
                Wide w;
                w.fill(gen * 2 + static_cast<uint64_t>(t));
                if (maps[1]->update_elem(&k, w.data(), update_flags::kExist) != 0) return false;
            }
            return true;
        });
        return failures == 0 ? 0 : 3;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(rendezvous(*sync_, 2));
    std::atomic<uint64_t> missing{0}, torn{0};
    run_threads(2, [&](int) {
        for (uint64_t i = 0; i < kReads; ++i) {
            const uint32_t k = static_cast<uint32_t>(i % kKeys);
            Wide w{};
            if (hash->lookup_elem(&k, w.data()) != 0 || hash->lookup(&k) == nullptr) {
                missing.fetch_add(1);
                continue;
            }
            for (uint64_t word : w) {
                if (word != w[0]) {
                    torn.fetch_add(1);
                    break;
                }
            }
        }
        return true;
    });
    __atomic_store_n(word_of(*done), 1, __ATOMIC_SEQ_CST);
    ASSERT_EQ(test::wait_child(child), 0);
    EXPECT_EQ(missing.load(), 0u);
    EXPECT_EQ(torn.load(), 0u);
    // The writers did replace values meanwhile.
    Wide w{};
    const uint32_t k = 1;
    ASSERT_EQ(hash->lookup_elem(&k, w.data()), 0);
    EXPECT_NE(w[0], 0u);
}

// LRU tables evicting from both processes stay consistent: within max_entries, every element
// holding its own key's value, iteration finite and without duplicates.
TEST_F(CrossProcess, LruEvictionFromBothProcessesStaysConsistent) {
    constexpr uint32_t kMax = 256;
    auto lru = make_shared(spec_of(MapType::LruHash, 8, sizeof(Value), kMax), dir_);
    ASSERT_NE(lru, nullptr);
    ASSERT_TRUE(pin_map(*lru, dir_ / "lru").ok());
    auto hammer = [](Map& m, int process) {
        return run_threads(kThreads, [&](int t) {
            for (uint64_t i = 0; i < 20000; ++i) {
                const uint64_t k = key_of(process, t, i % 1000);
                const Value v{k, ~k};
                if (m.update(&k, &v, update_flags::kAny) != 0) return false;
                const auto* got = static_cast<const Value*>(m.lookup(&k));
                // Just inserted; may already be evicted by another thread, never wrong.
                if (got != nullptr && __atomic_load_n(&got->key, __ATOMIC_RELAXED) != k &&
                    __atomic_load_n(&got->key, __ATOMIC_RELAXED) == 0) {
                    return false;
                }
            }
            return true;
        });
    };
    const pid_t child = test::start_child([&] {
        std::vector<std::shared_ptr<Map>> maps;
        if (const int failed = join({"sync", "lru"}, maps); failed != 0) return failed;
        return hammer(*maps[1], 1) == 0 ? 0 : 3;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(rendezvous(*sync_, 2));
    EXPECT_EQ(hammer(*lru, 0), 0);
    ASSERT_EQ(test::wait_child(child), 0);
    std::set<uint64_t> found;
    uint64_t key = 0, next = 0;
    for (bool first = true; lru->get_next_key(first ? nullptr : &key, &next) == 0; first = false) {
        key = next;
        ASSERT_TRUE(found.insert(key).second) << "key " << key << " twice";
        ASSERT_LE(found.size(), kMax);
        Value v{};
        if (lru->lookup_elem(&key, &v) == 0) {
            EXPECT_EQ(v.key, key);
            EXPECT_EQ(v.check, ~key);
        }
    }
    EXPECT_GT(found.size(), 0u);
}

// LPM lookups in one process while the other changes routes: every answer is one the table
// could have given (the trie's seqlock validates readers across processes).
TEST_F(CrossProcess, LpmLookupsWhileAnotherProcessChangesRoutes) {
    struct Key {
        uint32_t prefixlen;
        uint8_t addr[4];
    };
    auto trie =
        make_shared(spec_of(MapType::LpmTrie, sizeof(Key), 8, 64, map_flags::kNoPrealloc), dir_);
    ASSERT_NE(trie, nullptr);
    const Key wide{8, {10, 0, 0, 0}};
    const uint64_t wide_value = 8;
    ASSERT_EQ(trie->update_elem(&wide, &wide_value), 0);
    ASSERT_TRUE(pin_map(*trie, dir_ / "trie").ok());
    auto done = pin_word("done");
    ASSERT_NE(done, nullptr);

    // The child adds and removes 10.1.0.0/16 and 10.1.2.0/24 over and over.
    const pid_t child = test::start_child([&] {
        std::vector<std::shared_ptr<Map>> maps;
        if (const int failed = join({"sync", "trie", "done"}, maps); failed != 0) return failed;
        const uint64_t* finished = word_of(*maps[2]);
        const auto deadline = std::chrono::steady_clock::now() + kPatience;
        const Key k16{16, {10, 1, 0, 0}}, k24{24, {10, 1, 2, 0}};
        const uint64_t v16 = 16, v24 = 24;
        while (__atomic_load_n(finished, __ATOMIC_SEQ_CST) == 0) {
            if (std::chrono::steady_clock::now() > deadline) return 3;
            if (maps[1]->update(&k16, &v16, 0) != 0 || maps[1]->update(&k24, &v24, 0) != 0 ||
                maps[1]->erase(&k24) != 0 || maps[1]->erase(&k16) != 0) {
                return 4;
            }
        }
        return 0;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(rendezvous(*sync_, 2));
    uint64_t wrong = 0;
    std::set<uint64_t> answers;
    const Key host{32, {10, 1, 2, 3}};
    // At least 300000 lookups, and on until the child's routes were seen besides the /8.
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    for (int i = 0; (i < 300000 || answers.size() < 2 || !answers.count(8)) &&
                    std::chrono::steady_clock::now() < deadline;
         ++i) {
        const auto* v = static_cast<const uint64_t*>(trie->lookup(&host));
        const uint64_t got = v == nullptr ? 0 : __atomic_load_n(v, __ATOMIC_RELAXED);
        if (got != 8 && got != 16 && got != 24) ++wrong;
        answers.insert(got);
    }
    __atomic_store_n(word_of(*done), 1, __ATOMIC_SEQ_CST);
    ASSERT_EQ(test::wait_child(child), 0);
    EXPECT_EQ(wrong, 0u);
    EXPECT_TRUE(answers.count(8));  // the /8 alone was seen, and so were the child's routes
    EXPECT_GT(answers.size(), 1u);
}

// Per-CPU hash elements updated in place from both processes through the program side: every
// thread adds to its slot's value atomically; the host sees the exact total over the slots.
TEST_F(CrossProcess, PercpuHashSlotsAddUpAcrossProcesses) {
    auto hash = make_shared(spec_of(MapType::PercpuHash, 4, 8, 8), dir_);
    ASSERT_NE(hash, nullptr);
    const uint32_t key = 5;
    std::vector<uint64_t> zeros(nr_cpus(), 0);
    ASSERT_EQ(hash->update_elem(&key, zeros.data()), 0);
    ASSERT_TRUE(pin_map(*hash, dir_ / "pch").ok());
    auto add = [&](Map& m) {
        return run_threads(kThreads, [&](int) {
            for (uint64_t i = 0; i < kAdds; ++i) {
                auto* v = static_cast<uint64_t*>(m.lookup(&key));
                if (v == nullptr) return false;
                __atomic_fetch_add(v, 1, __ATOMIC_RELAXED);
            }
            return true;
        });
    };
    const pid_t child = test::start_child([&] {
        std::vector<std::shared_ptr<Map>> maps;
        if (const int failed = join({"sync", "pch"}, maps); failed != 0) return failed;
        return add(*maps[1]) == 0 ? 0 : 3;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(rendezvous(*sync_, 2));
    EXPECT_EQ(add(*hash), 0);
    ASSERT_EQ(test::wait_child(child), 0);
    std::vector<uint64_t> slots(nr_cpus());
    ASSERT_EQ(hash->lookup_elem(&key, slots.data()), 0);
    uint64_t sum = 0;
    for (uint64_t s : slots)
        sum += s;
    EXPECT_EQ(sum, 2 * kThreads * kAdds);
}

// --- ring buffer and queue ----------------------------------------------------------------------

TEST_F(CrossProcess, RingBufferProducedInChildConsumedInParent) {
    constexpr uint64_t kPerProducer = 20000;
    constexpr int kProducers = 2;
    auto ring = make_shared(spec_of(MapType::Ringbuf, 0, 0, 16 * map_page_size()), dir_);
    ASSERT_NE(ring, nullptr);
    ASSERT_TRUE(pin_map(*ring, dir_ / "ring").ok());

    const pid_t child = test::start_child([&] {
        auto maps = open_all({"sync", "ring"});
        if (maps[0] == nullptr || maps[1] == nullptr) return 1;
        auto* rb = dynamic_cast<RingBufMap*>(maps[1].get());
        if (rb == nullptr) return 2;
        if (!rendezvous(*maps[0], 2)) return 3;
        const int failures = run_threads(kProducers, [&](int t) {
            const auto deadline = std::chrono::steady_clock::now() + kPatience;
            for (uint64_t i = 0; i < kPerProducer; ++i) {
                const uint64_t record[2] = {uint64_t(t), i};
                // Every 8th record through reserve/submit, the rest through output.
                for (;;) {
                    long err = 0;
                    if (i % 8 == 0) {
                        void* r = rb->reserve(sizeof record, 0);
                        if (r != nullptr) {
                            std::memcpy(r, record, sizeof record);
                            RingBufMap::submit(r, 0);
                        } else {
                            err = -EAGAIN;
                        }
                    } else {
                        err = rb->output(record, sizeof record, 0);
                    }
                    if (err == 0) break;
                    if (err != -EAGAIN || std::chrono::steady_clock::now() > deadline) return false;
                    std::this_thread::yield();
                }
            }
            return true;
        });
        return failures == 0 ? 0 : 4;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(rendezvous(*sync_, 2));
    std::vector<uint64_t> next(kProducers, 0);
    uint64_t received = 0, out_of_order = 0, malformed = 0;
    RingBufferConsumer consumer;
    ASSERT_TRUE(consumer
                    .add(ring,
                         [&](const void* data, size_t size) {
                             uint64_t record[2];
                             if (size != sizeof record) {
                                 ++malformed;
                                 return 0;
                             }
                             std::memcpy(record, data, sizeof record);
                             if (record[0] >= kProducers || record[1] != next[record[0]]) {
                                 ++out_of_order;
                             } else {
                                 ++next[record[0]];
                             }
                             ++received;
                             return 0;
                         })
                    .ok());
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (received < kProducers * kPerProducer && std::chrono::steady_clock::now() < deadline) {
        // Sleeps on the ring's futex word until the other process's producers wake it.
        ASSERT_GE(consumer.poll(200), 0);
    }
    EXPECT_EQ(received, kProducers * kPerProducer);
    EXPECT_EQ(out_of_order, 0u);  // each producer's records arrive in its order
    EXPECT_EQ(malformed, 0u);
    ASSERT_EQ(test::wait_child(child), 0);
}

// A consumer asleep in poll() is woken by a producer in another process (the futex word is
// shared, not process-private): poll returns with the record long before its timeout.
TEST_F(CrossProcess, ConsumerSleepingInPollIsWokenByAnotherProcess) {
    auto ring = make_shared(spec_of(MapType::Ringbuf, 0, 0, 4 * map_page_size()), dir_);
    ASSERT_NE(ring, nullptr);
    ASSERT_TRUE(pin_map(*ring, dir_ / "ring").ok());
    const pid_t child = test::start_child([&] {
        auto maps = open_all({"sync", "ring"});
        auto* rb = maps[1] == nullptr ? nullptr : dynamic_cast<RingBufMap*>(maps[1].get());
        if (maps[0] == nullptr || rb == nullptr) return 1;
        if (!rendezvous(*maps[0], 2)) return 2;
        // Give the parent time to fall asleep; it is woken whenever the record comes.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return rb->output("wake", 4, 0) == 0 ? 0 : 3;
    });
    ASSERT_GT(child, 0);
    RingBufferConsumer consumer;
    std::string got;
    ASSERT_TRUE(consumer
                    .add(ring,
                         [&](const void* data, size_t size) {
                             got.assign(static_cast<const char*>(data), size);
                             return 0;
                         })
                    .ok());
    ASSERT_TRUE(rendezvous(*sync_, 2));
    constexpr int kTimeoutMs = 60000;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(consumer.poll(kTimeoutMs), 1);
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(got, "wake");
    EXPECT_LT(waited, std::chrono::milliseconds(kTimeoutMs / 2)) << "woken by the timeout only";
    ASSERT_EQ(test::wait_child(child), 0);
}

TEST_F(CrossProcess, QueueValuesPushedInOneProcessArePoppedOnceInTheOther) {
    constexpr uint64_t kValues = 50000;
    auto queue = make_shared(spec_of(MapType::Queue, 0, 8, 64), dir_);
    ASSERT_NE(queue, nullptr);
    ASSERT_TRUE(pin_map(*queue, dir_ / "queue").ok());
    const pid_t child = test::start_child([&] {
        std::vector<std::shared_ptr<Map>> maps;
        if (const int failed = join({"sync", "queue"}, maps); failed != 0) return failed;
        const auto deadline = std::chrono::steady_clock::now() + kPatience;
        for (uint64_t v = 1; v <= kValues; ++v) {
            while (maps[1]->push(&v, 0) == -E2BIG) {
                if (std::chrono::steady_clock::now() > deadline) return 3;
                std::this_thread::yield();
            }
        }
        return 0;
    });
    ASSERT_GT(child, 0);
    ASSERT_TRUE(rendezvous(*sync_, 2));
    uint64_t expected = 1;
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (expected <= kValues && std::chrono::steady_clock::now() < deadline) {
        uint64_t v = 0;
        if (queue->pop(&v) == 0) {
            ASSERT_EQ(v, expected);  // FIFO across processes, nothing lost or repeated
            ++expected;
        } else {
            std::this_thread::yield();
        }
    }
    EXPECT_EQ(expected, kValues + 1);
    ASSERT_EQ(test::wait_child(child), 0);
}

}  // namespace
}  // namespace xbpf
