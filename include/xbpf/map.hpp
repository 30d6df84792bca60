// Maps: the state eBPF programs share with each other and with the host, with Linux's map types,
// flags, error codes and semantics (enum bpf_map_type, BPF_F_*, the bpf(2) map commands and the
// map helpers).
//
// A Map has two faces:
//  - the program side (lookup/update/erase/push/pop/peek), called by helpers while programs run:
//    cheap, never blocking for long, returning exactly what Linux's helpers return (a pointer or
//    nullptr; 0 or a negative errno);
//  - the host side (lookup_elem, update_elem, ..., the batch commands, freeze), with the
//    semantics of the bpf(BPF_MAP_*) commands: values are copied in and out, per-CPU maps
//    exchange one value per CPU each rounded up to 8 bytes, and permission flags apply. It
//    backs the Linux bpf() ABI layer.
//
// Every operation is thread-safe: many threads may run programs against a map while the host
// reads, writes, iterates and deletes. Type-specific interfaces live beside this header:
// map_ringbuf.hpp (ring buffer and its consumer), map_perf.hpp (perf event array),
// map_objects.hpp (prog arrays and maps of maps).
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "xbpf/error.hpp"
#include "xbpf/map_spec.hpp"
#include "xbpf/map_storage.hpp"

namespace xbpf {

// Linux's kernel-internal ENOTSUPP, which bpf(2) returns for operations a map type lacks.
inline constexpr int kENOTSUPP = 524;

// ---------------------------------------------------------------------------------------------
// CPUs. Per-CPU semantics map to per-thread slots: a per-CPU map holds nr_cpus() values per
// element, and a thread running a program uses the slot current_cpu() gives it.

// Number of per-CPU slots. Default: std::thread::hardware_concurrency() (at least 1).
uint32_t nr_cpus();

// Sets nr_cpus. Allowed only before the first map is created and before any thread has been
// given a slot (per-CPU storage is sized at creation); an Error says why otherwise.
Status set_nr_cpus(uint32_t n);

// The calling thread's slot in [0, nr_cpus()); this is also what bpf_get_smp_processor_id
// returns. A thread gets the lowest free slot on its first call and frees it when it exits, so
// two live threads never share a slot while at most nr_cpus threads use slots. Beyond that,
// further threads share the least used slot: their per-CPU values are then shared, as two
// programs preempting each other on one Linux CPU would share them.
uint32_t current_cpu();

// ---------------------------------------------------------------------------------------------
// Objects held by maps: the programs in a prog_array and the inner maps of a map of maps live in
// other layers; maps hold them by reference count through this base.
class MapValueObject {
  public:
    virtual ~MapValueObject() = default;
    // The object's id (program id, map id), what bpf(BPF_MAP_LOOKUP_ELEM) returns for its slot.
    virtual uint32_t object_id() const = 0;
};

// Programs reach objects held by maps (tail-call targets, inner maps) through raw pointers. An
// object removed from its map is released only after every MapReadGuard that existed at the
// time of removal has ended, the way RCU protects them in Linux. The runtime holds a guard while
// a program that uses tail calls or maps of maps runs; guards nest and are cheap (one atomic
// exchange), but are not free, so programs that use neither need none.
class MapReadGuard {
  public:
    MapReadGuard() noexcept;
    ~MapReadGuard();
    MapReadGuard(const MapReadGuard&) = delete;
    MapReadGuard& operator=(const MapReadGuard&) = delete;
};

// ---------------------------------------------------------------------------------------------

// How a map is created, beyond its spec.
struct MapOptions {
    // Where the map's region comes from; null: private_map_memory().
    std::shared_ptr<MapMemoryProvider> memory;
    // Maps of objects (prog_array, maps of maps, perf_event_array) receive file descriptors in
    // host updates (update_elem, update_batch); this turns one into the object it refers to (null
    // if it refers to nothing suitable). Without it those updates fail with -EBADF; the typed
    // ObjectMap::update_object (map_objects.hpp) needs no resolver.
    std::function<std::shared_ptr<const MapValueObject>(uint32_t fd)> resolve_fd;
};

// Why a spec cannot become a map: the errno bpf(BPF_MAP_CREATE) would fail with, and a message.
struct MapSpecProblem {
    int error = EINVAL;  // positive errno (EINVAL, E2BIG, kENOTSUPP, ...)
    std::string message;
};

// Checks a spec the way Linux's BPF_MAP_CREATE does (key and value sizes per type, max_entries,
// flags allowed per type, LPM key layout, ring buffer size, map_extra...).
std::optional<MapSpecProblem> check_map_spec(const MapSpec& spec);

class Map;

// Creates a map. The spec is checked first (check_map_spec); the Error then says what is wrong.
// The map's contents start zeroed (arrays) or empty; spec.initial_value, if any, becomes
// element 0 of an array. spec.initial_slots are not resolved here (the loader resolves names).
Result<std::shared_ptr<Map>> create_map(const MapSpec& spec, const MapOptions& options = {});

// A map. Created by create_map(); shared by the programs and the host that use it.
class Map : public MapValueObject {
  public:
    ~Map() override;
    Map(const Map&) = delete;
    Map& operator=(const Map&) = delete;

    // --- identity -------------------------------------------------------------------------------

    // Process-unique id, increasing from 1 like Linux's map ids.
    uint32_t id() const { return id_; }
    uint32_t object_id() const override { return id_; }
    const MapSpec& spec() const { return spec_; }
    MapType type() const { return spec_.type; }
    uint32_t key_size() const { return spec_.key_size; }
    uint32_t value_size() const { return spec_.value_size; }
    uint32_t max_entries() const { return spec_.max_entries; }
    uint32_t flags() const { return spec_.flags; }
    // True for per-CPU maps (percpu_array, percpu_hash, lru_percpu_hash).
    bool is_percpu() const { return percpu_; }
    // Bytes of one value in the host API: value_size, or nr_cpus() * round_up(value_size, 8)
    // for per-CPU maps (as bpf(2) exchanges them).
    uint32_t host_value_size() const { return host_value_size_; }
    // Programs may not write (BPF_F_RDONLY_PROG), for the verifier to reject stores and updates.
    bool read_only_for_programs() const { return (spec_.flags & map_flags::kRdonlyProg) != 0; }
    // Programs may not read (BPF_F_WRONLY_PROG), for the verifier to reject loads.
    bool write_only_for_programs() const { return (spec_.flags & map_flags::kWronlyProg) != 0; }
    // Frozen by freeze(): the host can no longer write it.
    bool frozen() const { return frozen_->load(std::memory_order_acquire) != 0; }
    // BPF_F_MMAPABLE arrays: the values, contiguous at round_up(value_size, 8) stride, starting
    // page-aligned; empty for other maps.
    virtual std::span<std::byte> mmapable_memory() { return {}; }
    // The region holding the map's state (map_storage.hpp): its file descriptor, if it has one,
    // maps it again. Null for maps without one region.
    virtual const MapMemory* storage() const noexcept { return nullptr; }
    // Keeps the frozen state in `word` (in shared memory) instead of in this object, so every
    // process that maps the map sees one state; `word` must outlive the map. For the
    // shared-memory layer (map_shared.hpp), before the map is handed out.
    void keep_frozen_state_in(std::atomic<uint32_t>& word) { frozen_ = &word; }

    // --- program side (what helpers call) ----------------------------------------------------

    // bpf_map_lookup_elem: the value in the map's storage, or nullptr. Per-CPU maps: the calling
    // thread's slot. Maps of maps: the inner Map* itself.
    virtual void* lookup(const void* key) noexcept;
    // bpf_map_lookup_percpu_elem: slot `cpu` of a per-CPU map (nullptr if cpu >= nr_cpus()).
    virtual void* lookup_percpu(const void* key, uint32_t cpu) noexcept;
    // bpf_map_update_elem (flags BPF_ANY/BPF_NOEXIST/BPF_EXIST). Per-CPU maps: this thread's
    // slot only (a new element's other slots start zeroed).
    virtual long update(const void* key, const void* value, uint64_t flags) noexcept;
    // bpf_map_delete_elem.
    virtual long erase(const void* key) noexcept;
    // bpf_map_push_elem / pop / peek: queue, stack; push and peek also for the bloom filter.
    virtual long push(const void* value, uint64_t flags) noexcept;
    virtual long pop(void* value) noexcept;
    virtual long peek(void* value) noexcept;

    // What for_each() calls per element: returns true to stop.
    class ElementVisitor {
      public:
        virtual bool visit(const void* key, void* value) = 0;

      protected:
        ~ElementVisitor() = default;
    };
    // bpf_for_each_map_elem: visits the elements in the map's order until the visitor stops;
    // returns how many it visited (the one that stopped included). Pointers are into the map's
    // storage (per-CPU maps: the calling thread's slot; arrays: the key is a u32 of the walk's).
    // The visitor may update and delete elements; as with Linux's RCU walk of a hash map, an
    // element changed meanwhile may be visited or not. Arrays and the hash maps (not maps of
    // maps) have it; other types return -kENOTSUPP, as Linux's verifier refuses them.
    virtual long for_each(ElementVisitor& visitor) noexcept;

    // --- host side (bpf(2) map commands); 0 or a negative errno ------------------------------

    // BPF_MAP_LOOKUP_ELEM: copies the value (host_value_size() bytes) to `value`. Queue/stack:
    // peek (key is null); bloom filter: `value` is the value to test (-ENOENT: absent).
    int lookup_elem(const void* key, void* value, uint64_t flags = 0);
    // BPF_MAP_UPDATE_ELEM. Queue/stack/bloom filter: push (key is null).
    int update_elem(const void* key, const void* value, uint64_t flags = 0);
    // BPF_MAP_DELETE_ELEM.
    int delete_elem(const void* key);
    // BPF_MAP_LOOKUP_AND_DELETE_ELEM (hash maps; queue/stack: pop).
    int lookup_and_delete_elem(const void* key, void* value, uint64_t flags = 0);
    // BPF_MAP_GET_NEXT_KEY: a null or missing key gives the first key; -ENOENT after the last.
    int get_next_key(const void* key, void* next_key);

    // The batch commands, with Linux's semantics: `in_batch` null starts at the beginning;
    // `out_batch` receives the token to pass as in_batch next time (batch_token_size() bytes:
    // 4 for hash maps, a key otherwise); `count` is the capacity of keys/values on input and the
    // number of elements processed on output. Lookup returns -ENOENT together with the last
    // elements when the map is exhausted, and -ENOSPC when the first hash bucket does not fit.
    int lookup_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                     uint32_t& count, uint64_t elem_flags = 0, uint64_t flags = 0);
    int lookup_and_delete_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                                uint32_t& count, uint64_t elem_flags = 0, uint64_t flags = 0);
    // Update or delete `count` elements in order, stopping at the first error (count then says
    // how many succeeded).
    int update_batch(const void* keys, const void* values, uint32_t& count, uint64_t elem_flags = 0,
                     uint64_t flags = 0);
    int delete_batch(const void* keys, uint32_t& count, uint64_t elem_flags = 0,
                     uint64_t flags = 0);
    uint32_t batch_token_size() const;

    // BPF_MAP_FREEZE: the host may no longer write the map (-EPERM); programs still may unless
    // BPF_F_RDONLY_PROG. -EBUSY if already frozen, -EPERM if the host cannot write it at all.
    int freeze();

  protected:
    explicit Map(const MapSpec& spec);

    // Type-specific host operations, called by the public wrappers after flags and permissions
    // are checked. Defaults return what Linux returns for a type that lacks the operation.
    virtual int sys_lookup(const void* key, void* value);
    virtual int sys_update(const void* key, const void* value, uint64_t flags);
    virtual int sys_delete(const void* key);
    virtual int sys_lookup_and_delete(const void* key, void* value);
    virtual int sys_get_next_key(const void* key, void* next_key);

    // Batch support. The defaults implement Linux's generic batch commands on top of the
    // operations above for the types flagged in batch_support(); hash maps override the
    // lookups with bucket-based iteration.
    enum BatchOp : uint32_t {
        kBatchLookup = 1,
        kBatchLookupAndDelete = 2,
        kBatchUpdate = 4,
        kBatchDelete = 8,
    };
    virtual uint32_t batch_support() const { return 0; }
    virtual int sys_lookup_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                                 uint32_t& count, bool and_delete);

  private:
    MapSpec spec_;
    uint32_t id_;
    bool percpu_;
    uint32_t host_value_size_;
    std::atomic<uint32_t> own_frozen_{0};
    std::atomic<uint32_t>* frozen_ = &own_frozen_;
};

}  // namespace xbpf
