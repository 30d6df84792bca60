// Map operations from programs, xbpf against the Linux kernel, side by side: the BPF C programs
// of bench/bpf/ (built by clang at build time) each perform 256 lookups, updates or
// delete + update pairs per run on one map. For every map type, operation and size (1K and 1M
// entries, filled from the host before the runs) the same object runs
//   - in xbpf, JIT and interpreter, through xbpf::test_run with a large repeat, and
//   - in the running Linux kernel, loaded with libbpf and run with bpf_prog_test_run_opts
//     (repeat), where bpf(2) allows it (root, or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN);
//     otherwise those runs are left out with a message.
// with one thread, and with two threads running the program at once (xbpf: two threads in
// test_run; Linux: BPF_PROG_TEST_RUN from two threads).
//
// The figure is `ns/op`: the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID, which counts
// the kernel's time in the system call too) divided by the operations performed, so time the
// thread spends descheduled on a shared machine does not count, for either side. `run_ns/op`
// is what each side's test run reports as duration (mean wall time per run, Linux's pauses at
// reschedules excluded) divided by the operations per run. A delete + update pair counts as one
// operation. After the table of Google Benchmark, a side-by-side summary is printed.
//
// The programs are `tc` (sched_cls) programs: Linux's XDP test run with repeat > 1 re-points
// the XDP dispatcher around every call, costing far more CPU than the runs being measured.
// docs/benchmarks.md describes the method and the results.
//
//   build/bench/map_from_programs [--benchmark_filter=hash/] [--benchmark_filter=-linux]
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xbpf/engine.hpp"
#include "xbpf/map.hpp"
#include "xbpf/runtime.hpp"
#include "xbpf/test_run.hpp"

#ifdef XBPF_BENCH_HAVE_LIBBPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#endif

#ifndef XBPF_BENCH_BPF_DIR
#error "XBPF_BENCH_BPF_DIR (where bench/bpf/*.c are compiled to) must be defined"
#endif

namespace {

constexpr uint32_t kOpsPerRun = 256;  // MAP_BENCH_OPS in bench/bpf/map_bench.h
// Runs per test run (one benchmark iteration): enough for a call's own cost (building the
// packet, Linux's system call) to vanish next to 512K operations.
constexpr uint32_t kRepeat = 2000;
constexpr uint32_t k1K = 1024;
constexpr uint32_t k1M = 1u << 20;

// What the programs leave in .bss after a run (struct map_bench_result).
struct LastRun {
    uint64_t sum;
    uint64_t expected;
    int64_t errors;
};

enum class Op { Keys, Helper, Lookup, Update, DeleteUpdate };
enum class Engine { XbpfJit, XbpfInterpreter, Linux };

struct MapKind {
    const char* name;    // in benchmark names: hash, percpu_array, ...
    const char* object;  // bench/bpf/<object>.c
    xbpf::MapType type;
    std::vector<Op> ops;
};

const std::vector<MapKind>& map_kinds() {
    using xbpf::MapType;
    static const std::vector<MapKind> kinds = {
        {"baseline", "baseline", MapType::Unspec, {Op::Keys, Op::Helper}},
        {"array", "map_array", MapType::Array, {Op::Lookup, Op::Update}},
        {"percpu_array", "map_percpu_array", MapType::PercpuArray, {Op::Lookup, Op::Update}},
        {"hash", "map_hash", MapType::Hash, {Op::Lookup, Op::Update, Op::DeleteUpdate}},
        {"percpu_hash",
         "map_percpu_hash",
         MapType::PercpuHash,
         {Op::Lookup, Op::Update, Op::DeleteUpdate}},
        {"lru_hash", "map_lru_hash", MapType::LruHash, {Op::Lookup, Op::Update, Op::DeleteUpdate}},
        {"lpm_trie", "map_lpm_trie", MapType::LpmTrie, {Op::Lookup}},
    };
    return kinds;
}

const char* program_name(Op op) {
    switch (op) {
        case Op::Keys: return "keys";
        case Op::Helper: return "helper";
        case Op::Lookup: return "lookup";
        case Op::Update: return "update";
        case Op::DeleteUpdate: return "delete_update";
    }
    return "?";
}

const char* engine_name(Engine engine) {
    switch (engine) {
        case Engine::XbpfJit: return "xbpf_jit";
        case Engine::XbpfInterpreter: return "xbpf_interp";
        case Engine::Linux: return "linux";
    }
    return "?";
}

std::string size_name(uint32_t entries) {
    return entries >= k1M ? fmt::format("{}M", entries / k1M) : fmt::format("{}K", entries / k1K);
}

std::filesystem::path object_path(const MapKind& kind) {
    return std::filesystem::path(XBPF_BENCH_BPF_DIR) / fmt::format("{}.o", kind.object);
}

double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// The host fills element i with value i (every CPU's slot for per-CPU maps). LPM keys are /32
// routes to address i * 2654435761, in host byte order, as map_lpm_trie.c computes them.
struct LpmKey {
    uint32_t prefixlen;
    uint32_t addr;
};
constexpr uint32_t kLpmSpread = 2654435761u;

// Keys and values for a fill, `value_slots` 8-byte values per key.
struct FillData {
    std::vector<uint8_t> keys;
    std::vector<uint64_t> values;
    uint32_t key_size = 0;
};

FillData fill_data(xbpf::MapType type, uint32_t entries, uint32_t value_slots) {
    FillData d;
    const bool lpm = type == xbpf::MapType::LpmTrie;
    d.key_size = lpm ? sizeof(LpmKey) : sizeof(uint32_t);
    d.keys.resize(size_t{entries} * d.key_size);
    d.values.resize(size_t{entries} * value_slots);
    for (uint32_t i = 0; i < entries; ++i) {
        if (lpm) {
            const LpmKey k{32, i * kLpmSpread};
            std::memcpy(&d.keys[size_t{i} * d.key_size], &k, sizeof k);
        } else {
            std::memcpy(&d.keys[size_t{i} * d.key_size], &i, sizeof i);
        }
        for (uint32_t s = 0; s < value_slots; ++s)
            d.values[size_t{i} * value_slots + s] = i;
    }
    return d;
}

// --- xbpf -------------------------------------------------------------------------------------

struct XbpfSetup {
    std::shared_ptr<xbpf::LoadedObject> object;
    std::shared_ptr<xbpf::Map> bss;
    // Per program: the loaded program (JIT) and an interpreter over the same maps.
    std::map<std::string, std::shared_ptr<xbpf::Program>> programs;
    std::map<std::string, std::unique_ptr<xbpf::Executable>> interpreters;
};

xbpf::Result<std::unique_ptr<XbpfSetup>> make_xbpf(const MapKind& kind, uint32_t entries) {
    auto object = xbpf::load_object_file(object_path(kind));
    if (!object) return std::move(object).error();
    for (auto& spec : object->maps) {
        if (spec.name == "m") spec.max_entries = entries;
        if (spec.origin == xbpf::MapOrigin::Rodata) {
            const uint32_t mask = entries - 1;
            if (spec.initial_value.size() < sizeof mask) spec.initial_value.resize(sizeof mask);
            std::memcpy(spec.initial_value.data(), &mask, sizeof mask);
        }
    }
    xbpf::LoadOptions options;
    options.engine = xbpf::EngineKind::Jit;
    auto loaded = xbpf::load(std::move(*object), options);
    if (!loaded) return std::move(loaded).error();
    auto setup = std::make_unique<XbpfSetup>();
    setup->object = *loaded;
    const auto& maps = setup->object->maps();
    const auto& specs = setup->object->object().maps;
    for (size_t i = 0; i < specs.size(); ++i) {
        if (specs[i].origin == xbpf::MapOrigin::Bss) setup->bss = maps[i];
    }
    if (!setup->bss) return xbpf::Error("the object has no .bss");
    // The interpreter runs the loader's translated instructions against the same maps,
    // resolving lddw the way the loader does (a map is its Map*, a global its value's address).
    xbpf::PrepareOptions prepare;
    prepare.resolve_lddw = [&maps](const xbpf::Insn& lo,
                                   const xbpf::Insn& hi) -> xbpf::Result<uint64_t> {
        const auto index = static_cast<size_t>(lo.imm);
        if (index >= maps.size()) return xbpf::Error("lddw of a map the object does not have");
        xbpf::Map& map = *maps[index];
        if (lo.src == xbpf::op::kImmMapByIdx) return reinterpret_cast<uintptr_t>(&map);
        const uint32_t zero = 0;
        return reinterpret_cast<uintptr_t>(map.lookup(&zero)) + static_cast<uint32_t>(hi.imm);
    };
    for (const auto& program : setup->object->programs()) {
        auto interp =
            xbpf::prepare_interpreter(program->translated(), program->helpers().table(), prepare);
        if (!interp) return std::move(interp).error().in(program->name());
        setup->interpreters[program->name()] = std::move(*interp);
        setup->programs[program->name()] = program;
    }
    if (kind.type != xbpf::MapType::Unspec) {
        auto map = setup->object->find_map("m");
        if (!map) return xbpf::Error("the object has no map 'm'");
        const uint32_t slots = map->is_percpu() ? xbpf::nr_cpus() : 1;
        const FillData d = fill_data(kind.type, entries, slots);
        for (uint32_t i = 0; i < entries; ++i) {
            if (int err =
                    map->update_elem(&d.keys[size_t{i} * d.key_size], &d.values[size_t{i} * slots]);
                err != 0) {
                return xbpf::Error(
                    fmt::format("filling the map: element {}: {}", i, std::strerror(-err)));
            }
        }
    }
    return setup;
}

// --- Linux ------------------------------------------------------------------------------------

#ifdef XBPF_BENCH_HAVE_LIBBPF

// libbpf's messages, kept to explain a failure instead of printed as they come.
std::mutex libbpf_log_mutex;
std::string libbpf_log;

int collect_libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG) return 0;
    char line[1024];
    const int n = std::vsnprintf(line, sizeof line, format, args);
    std::lock_guard lock(libbpf_log_mutex);
    libbpf_log += line;
    if (libbpf_log.size() > 8192) libbpf_log.erase(0, libbpf_log.size() - 8192);
    return n;
}

std::string take_libbpf_log() {
    std::lock_guard lock(libbpf_log_mutex);
    return std::exchange(libbpf_log, {});
}

struct LinuxSetup {
    bpf_object* object = nullptr;
    int bss_fd = -1;
    std::map<std::string, int> programs;  // name -> fd
    ~LinuxSetup() {
        if (object != nullptr) bpf_object__close(object);
    }
};

int fill_linux_map(int fd, xbpf::MapType type, uint32_t entries) {
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return cpus;
    const bool percpu = type == xbpf::MapType::PercpuArray || type == xbpf::MapType::PercpuHash;
    const uint32_t slots = percpu ? static_cast<uint32_t>(cpus) : 1;
    const FillData d = fill_data(type, entries, slots);
    // Batches where the map type has them; one element at a time otherwise (LPM trie).
    constexpr uint32_t kBatch = 4096;
    uint32_t done = 0;
    while (done < entries) {
        uint32_t count = std::min(kBatch, entries - done);
        if (bpf_map_update_batch(fd, &d.keys[size_t{done} * d.key_size],
                                 &d.values[size_t{done} * slots], &count, nullptr) != 0) {
            break;
        }
        done += count;
    }
    for (; done < entries; ++done) {
        if (bpf_map_update_elem(fd, &d.keys[size_t{done} * d.key_size],
                                &d.values[size_t{done} * slots], BPF_ANY) != 0) {
            return -errno;
        }
    }
    return 0;
}

xbpf::Result<std::unique_ptr<LinuxSetup>> make_linux(const MapKind& kind, uint32_t entries) {
    auto setup = std::make_unique<LinuxSetup>();
    const std::string path = object_path(kind).string();
    take_libbpf_log();
    setup->object = bpf_object__open_file(path.c_str(), nullptr);
    if (setup->object == nullptr) {
        return xbpf::Error(fmt::format("libbpf cannot open {}: {}", path, std::strerror(errno)));
    }
    if (bpf_map* m = bpf_object__find_map_by_name(setup->object, "m"); m != nullptr) {
        if (bpf_map__set_max_entries(m, entries) != 0)
            return xbpf::Error("cannot set max_entries of map 'm'");
    }
    bpf_map* rodata = bpf_object__find_map_by_name(setup->object, ".rodata");
    size_t rodata_size = 0;
    const void* rodata_value = rodata ? bpf_map__initial_value(rodata, &rodata_size) : nullptr;
    if (rodata_value == nullptr || rodata_size < sizeof(uint32_t))
        return xbpf::Error("the object has no .rodata holding key_mask");
    std::vector<uint8_t> rodata_bytes(static_cast<const uint8_t*>(rodata_value),
                                      static_cast<const uint8_t*>(rodata_value) + rodata_size);
    const uint32_t mask = entries - 1;
    std::memcpy(rodata_bytes.data(), &mask, sizeof mask);
    if (bpf_map__set_initial_value(rodata, rodata_bytes.data(), rodata_bytes.size()) != 0)
        return xbpf::Error("cannot set key_mask in .rodata");
    if (int err = bpf_object__load(setup->object); err != 0) {
        return xbpf::Error(fmt::format("the kernel did not load {}: {}\n{}", path,
                                       std::strerror(-err), take_libbpf_log()));
    }
    bpf_map* bss = bpf_object__find_map_by_name(setup->object, ".bss");
    if (bss == nullptr) return xbpf::Error("the object has no .bss");
    setup->bss_fd = bpf_map__fd(bss);
    bpf_program* program = nullptr;
    bpf_object__for_each_program(program, setup->object) {
        setup->programs[bpf_program__name(program)] = bpf_program__fd(program);
    }
    if (kind.type != xbpf::MapType::Unspec) {
        const int fd = bpf_map__fd(bpf_object__find_map_by_name(setup->object, "m"));
        if (int err = fill_linux_map(fd, kind.type, entries); err != 0) {
            return xbpf::Error(fmt::format("filling the kernel's map: {}", std::strerror(-err)));
        }
    }
    return setup;
}

// Whether the kernel runs can happen: loading the baseline object answers it (bpf(2) needs
// root, or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN, and may be disabled). Empty: yes; otherwise
// why not.
std::string linux_unavailable_reason() {
    libbpf_set_print(collect_libbpf_log);
    auto setup = make_linux(map_kinds().front(), k1K);
    if (setup) return {};
    return setup.error().to_string();
}

#else

struct LinuxSetup {
    int bss_fd = -1;
    std::map<std::string, int> programs;
};

xbpf::Result<std::unique_ptr<LinuxSetup>> make_linux(const MapKind&, uint32_t) {
    return xbpf::Error("built without libbpf");
}

std::string linux_unavailable_reason() {
    return "this benchmark was built without libbpf (libbpf-dev not found)";
}

#endif

// --- the benchmarks ---------------------------------------------------------------------------

// Objects are loaded and their maps filled once per (kind, size, side), shared by the
// benchmarks and their threads, and kept until the end (a 1M-entry fill takes a while).
struct Setups {
    std::mutex mutex;
    std::map<std::pair<std::string, uint32_t>, xbpf::Result<std::unique_ptr<XbpfSetup>>> xbpf;
    std::map<std::pair<std::string, uint32_t>, xbpf::Result<std::unique_ptr<LinuxSetup>>> kernel;
};

Setups& setups() {
    static Setups* s = new Setups;  // never destroyed: benchmarks may run until exit
    return *s;
}

const xbpf::Result<std::unique_ptr<XbpfSetup>>& xbpf_setup(const MapKind& kind, uint32_t entries) {
    std::lock_guard lock(setups().mutex);
    auto key = std::make_pair(std::string(kind.name), entries);
    auto it = setups().xbpf.find(key);
    if (it == setups().xbpf.end()) it = setups().xbpf.emplace(key, make_xbpf(kind, entries)).first;
    return it->second;
}

const xbpf::Result<std::unique_ptr<LinuxSetup>>& linux_setup(const MapKind& kind,
                                                             uint32_t entries) {
    std::lock_guard lock(setups().mutex);
    auto key = std::make_pair(std::string(kind.name), entries);
    auto it = setups().kernel.find(key);
    if (it == setups().kernel.end())
        it = setups().kernel.emplace(key, make_linux(kind, entries)).first;
    return it->second;
}

// Checks the last run's results (one thread only: with two, the runs race on .bss and delete
// each other's keys). Empty: fine.
std::string check_last_run(const MapKind& kind, Op op, const LastRun& last) {
    if (op == Op::Lookup && last.sum != last.expected) {
        // An LRU map may evict before it is full (its free lists are per CPU), in xbpf and in
        // Linux alike; any other map must find every key.
        if (kind.type == xbpf::MapType::LruHash) return {};
        return fmt::format("lookups missed keys (sum {} instead of {})", last.sum, last.expected);
    }
    // Likewise a delete in an LRU map may find its key evicted (-ENOENT).
    if (kind.type == xbpf::MapType::LruHash && last.errors == -ENOENT) return {};
    if ((op == Op::Update || op == Op::DeleteUpdate) && last.errors != 0)
        return fmt::format("an operation failed (OR of the return values: {})", last.errors);
    return {};
}

void set_counters(benchmark::State& state, double cpu_ns, double run_ns, uint64_t runs) {
    const double ops = static_cast<double>(runs) * kOpsPerRun;
    state.counters["ns/op"] = benchmark::Counter(cpu_ns / ops, benchmark::Counter::kAvgThreads);
    state.counters["run_ns/op"] = benchmark::Counter(run_ns / ops, benchmark::Counter::kAvgThreads);
    state.SetItemsProcessed(static_cast<int64_t>(ops));
}

std::vector<uint8_t> frame() {
    std::vector<uint8_t> f(64, 0);
    f[12] = 0x08;  // IPv4, for form's sake
    return f;
}

void run_xbpf(benchmark::State& state, const MapKind& kind, Op op, uint32_t entries,
              Engine engine) {
    const auto& setup = xbpf_setup(kind, entries);
    if (!setup) return state.SkipWithError(setup.error().to_string().c_str());
    const auto& program = (*setup)->programs.at(program_name(op));
    const xbpf::Executable& exe = engine == Engine::XbpfJit
                                      ? program->executable()
                                      : *(*setup)->interpreters.at(program_name(op));
    const std::vector<uint8_t> data = frame();
    xbpf::TestRunOptions options;
    options.data_in = data;
    options.repeat = kRepeat;
    double cpu_ns = 0, run_ns = 0;
    uint64_t runs = 0;
    for (auto _ : state) {
        const double start = thread_cpu_ns();
        auto result = xbpf::test_run(exe, program->type(), options);
        cpu_ns += thread_cpu_ns() - start;
        if (!result) return state.SkipWithError(result.error().to_string().c_str());
        run_ns += static_cast<double>(result->duration_ns) * kRepeat;
        runs += kRepeat;
    }
    if (state.threads() == 1) {
        LastRun last{};
        const uint32_t zero = 0;
        (*setup)->bss->lookup_elem(&zero, &last);
        if (auto problem = check_last_run(kind, op, last); !problem.empty())
            return state.SkipWithError(problem.c_str());
    }
    set_counters(state, cpu_ns, run_ns, runs);
}

void run_linux(benchmark::State& state, const MapKind& kind, Op op, uint32_t entries) {
#ifdef XBPF_BENCH_HAVE_LIBBPF
    const auto& setup = linux_setup(kind, entries);
    if (!setup) return state.SkipWithError(setup.error().to_string().c_str());
    const int fd = (*setup)->programs.at(program_name(op));
    std::vector<uint8_t> data = frame();
    double cpu_ns = 0, run_ns = 0;
    uint64_t runs = 0;
    for (auto _ : state) {
        bpf_test_run_opts opts{};
        opts.sz = sizeof opts;
        opts.data_in = data.data();
        opts.data_size_in = static_cast<uint32_t>(data.size());
        opts.repeat = kRepeat;
        const double start = thread_cpu_ns();
        const int err = bpf_prog_test_run_opts(fd, &opts);
        cpu_ns += thread_cpu_ns() - start;
        if (err != 0) {
            return state.SkipWithError(
                fmt::format("BPF_PROG_TEST_RUN: {}", std::strerror(errno)).c_str());
        }
        run_ns += static_cast<double>(opts.duration) * kRepeat;
        runs += kRepeat;
    }
    if (state.threads() == 1) {
        LastRun last{};
        const uint32_t zero = 0;
        bpf_map_lookup_elem((*setup)->bss_fd, &zero, &last);
        if (auto problem = check_last_run(kind, op, last); !problem.empty())
            return state.SkipWithError(problem.c_str());
    }
    set_counters(state, cpu_ns, run_ns, runs);
#else
    (void)kind;
    (void)op;
    (void)entries;
    state.SkipWithError("built without libbpf");
#endif
}

// --- the side-by-side summary -----------------------------------------------------------------

// Collects ns/op per benchmark while the console reporter prints as usual, then prints one
// line per (map, operation, size) with every engine and thread count side by side.
class SummaryReporter : public benchmark::ConsoleReporter {
  public:
    // Colours only on a terminal (a custom reporter does not get --benchmark_color's choice).
    SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
            auto it = run.counters.find("ns/op");
            if (it == run.counters.end()) continue;
            // function_name is "<map>/<op>/<size>/<engine>".
            const std::string& name = run.run_name.function_name;
            const auto cut = name.rfind('/');
            results_[name.substr(0, cut)][{name.substr(cut + 1), run.threads}] = it->second.value;
        }
        ConsoleReporter::ReportRuns(runs);
    }

    void print_summary() const {
        if (results_.empty()) return;
        std::string out = "\nns per operation (thread CPU time; delete_update: per pair)\n\n";
        out +=
            "| map / operation / size | xbpf JIT | xbpf interp | Linux | JIT / Linux "
            "| xbpf JIT 2T | xbpf interp 2T | Linux 2T | JIT / Linux 2T |\n";
        out += "|---|--:|--:|--:|--:|--:|--:|--:|--:|\n";
        for (const auto& [row, cells] : results_) {
            out += fmt::format("| {} ", row);
            for (int threads : {1, 2}) {
                auto value = [&](const char* engine) -> std::optional<double> {
                    auto it = cells.find({engine, threads});
                    if (it == cells.end()) return std::nullopt;
                    return it->second;
                };
                auto cell = [](std::optional<double> v) {
                    return v ? fmt::format("{:.1f}", *v) : std::string("—");
                };
                const auto jit = value("xbpf_jit");
                const auto kernel = value("linux");
                out += fmt::format(
                    "| {} | {} | {} | {} ", cell(jit), cell(value("xbpf_interp")), cell(kernel),
                    jit && kernel ? fmt::format("{:.2f}", *jit / *kernel) : std::string("—"));
            }
            out += "|\n";
        }
        std::fputs(out.c_str(), stdout);
    }

  private:
    std::map<std::string, std::map<std::pair<std::string, int>, double>> results_;
};

void register_all(bool with_linux) {
    for (const MapKind& kind : map_kinds()) {
        // The baselines do not depend on a map's size.
        const std::vector<uint32_t> sizes = kind.type == xbpf::MapType::Unspec
                                                ? std::vector<uint32_t>{k1K}
                                                : std::vector<uint32_t>{k1K, k1M};
        for (Op op : kind.ops) {
            for (uint32_t entries : sizes) {
                for (Engine engine : {Engine::XbpfJit, Engine::XbpfInterpreter, Engine::Linux}) {
                    if (engine == Engine::Linux && !with_linux) continue;
                    if (engine == Engine::XbpfJit && !xbpf::jit_available()) continue;
                    const std::string size =
                        kind.type == xbpf::MapType::Unspec ? std::string("-") : size_name(entries);
                    const std::string name = fmt::format("{}/{}/{}/{}", kind.name, program_name(op),
                                                         size, engine_name(engine));
                    const MapKind* k = &kind;
                    benchmark::RegisterBenchmark(name.c_str(),
                                                 [=](benchmark::State& state) {
                                                     if (engine == Engine::Linux)
                                                         run_linux(state, *k, op, entries);
                                                     else
                                                         run_xbpf(state, *k, op, entries, engine);
                                                 })
                        ->Threads(1)
                        ->Threads(2);
                }
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    const std::string why_not = linux_unavailable_reason();
    if (!why_not.empty()) {
        std::fprintf(stderr,
                     "map_from_programs: the Linux kernel runs are skipped: %s\n"
                     "(they need bpf(2) with root, or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN; "
                     "the xbpf runs happen as usual)\n",
                     why_not.c_str());
    }
    register_all(why_not.empty());
    SummaryReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_summary();
    benchmark::Shutdown();
    return 0;
}
