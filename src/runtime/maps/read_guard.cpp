#include "runtime/maps/read_guard.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "xbpf/map.hpp"

namespace xbpf::maps {
namespace {

struct ReaderRecord {
    std::atomic<uint64_t> epoch{0};  // 0: outside any guard
    uint32_t depth = 0;              // nesting, touched only by the owning thread
};

struct Domain {
    std::atomic<uint64_t> epoch{1};
    std::mutex mutex;
    std::vector<ReaderRecord*> readers;
    std::vector<std::pair<uint64_t, std::shared_ptr<const void>>> retired;
    std::atomic<size_t> retired_count{0};
};

Domain& domain() {
    static Domain* d = new Domain;  // outlives every thread's record
    return *d;
}

struct ThreadReader {
    ReaderRecord record;
    ThreadReader() {
        Domain& d = domain();
        std::lock_guard lock(d.mutex);
        d.readers.push_back(&record);
    }
    ~ThreadReader() {
        Domain& d = domain();
        std::lock_guard lock(d.mutex);
        d.readers.erase(std::find(d.readers.begin(), d.readers.end(), &record));
    }
};

thread_local ThreadReader t_reader;

}  // namespace

void retire_object(std::shared_ptr<const void> object) {
    if (!object) return;
    Domain& d = domain();
    const uint64_t stamp = d.epoch.fetch_add(1, std::memory_order_seq_cst);
    {
        std::lock_guard lock(d.mutex);
        d.retired.emplace_back(stamp, std::move(object));
        d.retired_count.store(d.retired.size(), std::memory_order_relaxed);
    }
    reclaim_retired_objects();
}

void reclaim_retired_objects() {
    Domain& d = domain();
    if (d.retired_count.load(std::memory_order_relaxed) == 0) return;
    std::vector<std::shared_ptr<const void>> released;  // destroyed outside the lock
    {
        std::lock_guard lock(d.mutex);
        uint64_t oldest_active = UINT64_MAX;
        for (const ReaderRecord* r : d.readers) {
            uint64_t e = r->epoch.load(std::memory_order_seq_cst);
            if (e != 0) oldest_active = std::min(oldest_active, e);
        }
        auto keep = std::partition(d.retired.begin(), d.retired.end(),
                                   [&](const auto& item) { return item.first >= oldest_active; });
        for (auto it = keep; it != d.retired.end(); ++it)
            released.push_back(std::move(it->second));
        d.retired.erase(keep, d.retired.end());
        d.retired_count.store(d.retired.size(), std::memory_order_relaxed);
    }
}

}  // namespace xbpf::maps

namespace xbpf {

MapReadGuard::MapReadGuard() noexcept {
    maps::ReaderRecord& r = maps::t_reader.record;
    if (r.depth++ == 0) {
        // seq_cst: the store must be ordered before this thread's later loads of map slots.
        r.epoch.store(maps::domain().epoch.load(std::memory_order_seq_cst),
                      std::memory_order_seq_cst);
    }
}

MapReadGuard::~MapReadGuard() {
    maps::ReaderRecord& r = maps::t_reader.record;
    if (--r.depth == 0) r.epoch.store(0, std::memory_order_release);
}

}  // namespace xbpf
