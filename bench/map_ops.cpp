// Map operations as programs call them (the program-side API): lookup, update of an existing
// key, and delete (+ re-insert, so the map keeps its size) per map type, with 1K and 1M
// entries, from one and two threads. Keys are drawn pseudo-randomly from the populated range.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "xbpf/map.hpp"
#include "xbpf/map_ringbuf.hpp"

namespace {

using xbpf::Map;
using xbpf::MapType;

struct LpmKey {
    uint32_t prefixlen;
    uint8_t addr[4];
};

// Maps are built once per (type, size) and shared by the benchmarks and their threads.
std::shared_ptr<Map> populated(MapType type, uint32_t entries) {
    static std::mutex mutex;
    static std::map<std::pair<MapType, uint32_t>, std::shared_ptr<Map>> cache;
    std::lock_guard lock(mutex);
    auto& slot = cache[{type, entries}];
    if (slot) return slot;
    xbpf::MapSpec spec;
    spec.type = type;
    spec.key_size = type == MapType::LpmTrie ? sizeof(LpmKey) : 4;
    spec.value_size = 8;
    spec.max_entries = entries;
    if (type == MapType::LpmTrie) spec.flags = xbpf::map_flags::kNoPrealloc;
    auto map = xbpf::create_map(spec);
    if (!map.ok()) return nullptr;
    for (uint32_t i = 0; i < entries; ++i) {
        uint64_t value = i;
        if (type == MapType::LpmTrie) {
            // /32 routes spread over the address space.
            LpmKey k{32, {}};
            uint32_t addr = htonl(i * 2654435761u);
            std::memcpy(k.addr, &addr, 4);
            (*map)->update(&k, &value, 0);
        } else {
            (*map)->update(&i, &value, 0);
        }
    }
    slot = *map;
    return slot;
}

// A cheap per-thread key sequence over [0, n).
struct KeyStream {
    uint32_t state;
    uint32_t n;
    uint32_t next() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state % n;
    }
};

void make_key(MapType type, uint32_t index, void* key) {
    if (type == MapType::LpmTrie) {
        LpmKey k{32, {}};
        uint32_t addr = htonl(index * 2654435761u);
        std::memcpy(k.addr, &addr, 4);
        std::memcpy(key, &k, sizeof k);
    } else {
        std::memcpy(key, &index, 4);
    }
}

void lookup(benchmark::State& state, MapType type, uint32_t entries) {
    auto map = populated(type, entries);
    if (!map) return state.SkipWithError("map creation failed");
    KeyStream keys{0x9e3779b9u + static_cast<uint32_t>(state.thread_index()) * 7919u, entries};
    alignas(8) uint8_t key[8];
    uint64_t hits = 0;
    for (auto _ : state) {
        make_key(type, keys.next(), key);
        void* v = map->lookup(key);
        hits += v != nullptr;
        benchmark::DoNotOptimize(v);
    }
    if (hits != static_cast<uint64_t>(state.iterations())) state.SkipWithError("lookup missed");
    state.SetItemsProcessed(state.iterations());
}

void update(benchmark::State& state, MapType type, uint32_t entries) {
    auto map = populated(type, entries);
    if (!map) return state.SkipWithError("map creation failed");
    KeyStream keys{0x12345u + static_cast<uint32_t>(state.thread_index()) * 7919u, entries};
    alignas(8) uint8_t key[8];
    uint64_t value = 1;
    for (auto _ : state) {
        make_key(type, keys.next(), key);
        long rc = map->update(key, &value, 0);
        if (rc != 0) return state.SkipWithError("update failed");
        ++value;
    }
    state.SetItemsProcessed(state.iterations());
}

// Delete an existing key and put it back (one delete and one insert per iteration). With two
// threads each thread works on its own half of the keys.
void delete_insert(benchmark::State& state, MapType type, uint32_t entries) {
    auto map = populated(type, entries);
    if (!map) return state.SkipWithError("map creation failed");
    const uint32_t threads = static_cast<uint32_t>(state.threads());
    const uint32_t me = static_cast<uint32_t>(state.thread_index());
    KeyStream keys{0xabcdefu + me * 7919u, entries / threads};
    alignas(8) uint8_t key[8];
    uint64_t value = 1;
    for (auto _ : state) {
        make_key(type, keys.next() * threads + me, key);
        long rc = map->erase(key);
        long rc2 = map->update(key, &value, 0);
        // An LRU map may have evicted the key (each update of a full LRU map evicts one).
        if (rc == -ENOENT && type == MapType::LruHash) rc = 0;
        if (rc != 0 || rc2 != 0) return state.SkipWithError("delete/insert failed");
    }
    state.SetItemsProcessed(state.iterations());
}

void ringbuf_output(benchmark::State& state) {
    static std::shared_ptr<Map> map = [] {
        xbpf::MapSpec spec;
        spec.type = MapType::Ringbuf;
        spec.max_entries = 1 << 20;
        return *xbpf::create_map(spec);
    }();
    static xbpf::RingBufferConsumer* consumer = [] {
        auto* c = new xbpf::RingBufferConsumer;
        (void)c->add(map, [](const void*, size_t) { return 0; });
        return c;
    }();
    auto* rb = static_cast<xbpf::RingBufMap*>(map.get());
    uint64_t record[2] = {1, 2};
    for (auto _ : state) {
        if (rb->output(record, sizeof record, xbpf::ringbuf::kNoWakeup) != 0) {
            state.PauseTiming();
            if (state.thread_index() == 0) consumer->consume();
            state.ResumeTiming();
        }
    }
    if (state.thread_index() == 0) consumer->consume();
    state.SetItemsProcessed(state.iterations());
}

void register_all() {
    struct Kind {
        const char* name;
        MapType type;
        bool deletes;
    };
    const Kind kinds[] = {
        {"array", MapType::Array, false},     {"percpu_array", MapType::PercpuArray, false},
        {"hash", MapType::Hash, true},        {"percpu_hash", MapType::PercpuHash, true},
        {"lru_hash", MapType::LruHash, true}, {"lpm_trie", MapType::LpmTrie, true},
    };
    for (const Kind& kind : kinds) {
        for (uint32_t entries : {1024u, 1u << 20}) {
            const std::string suffix = std::string(kind.name) + "/" + std::to_string(entries);
            const MapType type = kind.type;
            benchmark::RegisterBenchmark(("lookup/" + suffix).c_str(),
                                         [=](benchmark::State& s) { lookup(s, type, entries); })
                ->Threads(1)
                ->Threads(2)
                ->UseRealTime();
            benchmark::RegisterBenchmark(("update/" + suffix).c_str(),
                                         [=](benchmark::State& s) { update(s, type, entries); })
                ->Threads(1)
                ->Threads(2)
                ->UseRealTime();
            if (kind.deletes) {
                benchmark::RegisterBenchmark(
                    ("delete_insert/" + suffix).c_str(),
                    [=](benchmark::State& s) { delete_insert(s, type, entries); })
                    ->Threads(1)
                    ->Threads(2)
                    ->UseRealTime();
            }
        }
    }
    benchmark::RegisterBenchmark("ringbuf_output/16B", ringbuf_output)
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
