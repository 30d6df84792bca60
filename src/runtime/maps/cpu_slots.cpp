// Thread -> CPU slot assignment. Slots are handed out lowest-free-first and returned when the
// thread exits, so up to nr_cpus() live threads each own a slot exclusively.
#include "runtime/maps/cpu_slots.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "xbpf/map.hpp"

namespace xbpf::maps {
namespace {

struct SlotTable {
    std::mutex mutex;
    std::atomic<uint32_t> count{std::max(1u, std::thread::hardware_concurrency())};
    bool fixed = false;           // maps exist or slots were handed out
    std::vector<uint32_t> users;  // live threads per slot
};

SlotTable& table() {
    static SlotTable* t = new SlotTable;  // never destroyed: threads may exit during shutdown
    return *t;
}

// Gives the slot back when its thread exits.
struct SlotRelease {
    uint32_t slot = kNoSlot;
    ~SlotRelease() {
        if (slot == kNoSlot) return;
        SlotTable& t = table();
        std::lock_guard lock(t.mutex);
        --t.users[slot];
        t_cpu_slot = kNoSlot;
    }
};

}  // namespace

thread_local uint32_t t_cpu_slot = kNoSlot;

uint32_t assign_cpu_slot() {
    SlotTable& t = table();
    uint32_t slot;
    {
        std::lock_guard lock(t.mutex);
        t.fixed = true;
        if (t.users.size() != t.count.load()) t.users.assign(t.count.load(), 0);
        // The lowest free slot; when every slot is in use, the least used one.
        slot = static_cast<uint32_t>(std::min_element(t.users.begin(), t.users.end()) -
                                     t.users.begin());
        ++t.users[slot];
    }
    thread_local SlotRelease release;
    release.slot = slot;
    t_cpu_slot = slot;
    return slot;
}

void fix_cpu_count() {
    SlotTable& t = table();
    std::lock_guard lock(t.mutex);
    t.fixed = true;
}

}  // namespace xbpf::maps

namespace xbpf {

uint32_t nr_cpus() {
    return maps::table().count.load(std::memory_order_relaxed);
}

Status set_nr_cpus(uint32_t n) {
    if (n == 0) return Error("nr_cpus must be at least 1");
    maps::SlotTable& t = maps::table();
    std::lock_guard lock(t.mutex);
    if (t.fixed && n != t.count.load()) {
        return Error("nr_cpus cannot change once maps exist or threads have CPU slots");
    }
    t.count.store(n);
    return {};
}

uint32_t current_cpu() {
    return maps::this_cpu();
}

}  // namespace xbpf
