// Slots holding objects of other layers (programs, inner maps, perf buffers) for the object
// maps. Process-local by nature: the objects are C++ objects of this process. Programs read a
// slot with one atomic load; the host replaces slots under a mutex and hands the replaced
// object to the deferred-release scheme (read_guard.hpp), so a program that loaded the old
// pointer inside a MapReadGuard can keep using it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "runtime/maps/read_guard.hpp"
#include "xbpf/map.hpp"

namespace xbpf::maps {

class ObjectSlots {
  public:
    explicit ObjectSlots(uint32_t count)
        : view_(new std::atomic<const void*>[count]), owners_(count), fds_(count, 0) {
        for (uint32_t i = 0; i < count; ++i)
            view_[i].store(nullptr, std::memory_order_relaxed);
    }

    // What programs see in slot i (seq_cst: ordered after the reader's guard entry).
    const void* load(uint32_t i) const noexcept { return view_[i].load(std::memory_order_seq_cst); }

    // Puts `object` (seen by programs as `view`) in slot i; the previous object is retired.
    // Returns whether the slot held an object before.
    bool exchange(uint32_t i, std::shared_ptr<const MapValueObject> object, const void* view,
                  uint32_t fd) {
        std::shared_ptr<const MapValueObject> old;
        {
            std::lock_guard lock(mutex_);
            view_[i].store(view, std::memory_order_seq_cst);
            old = std::exchange(owners_[i], std::move(object));
            fds_[i] = view != nullptr ? fd : 0;
        }
        const bool had = old != nullptr;
        retire_object(std::move(old));
        reclaim_retired_objects();
        return had;
    }

    std::pair<std::shared_ptr<const MapValueObject>, uint32_t> get(uint32_t i) const {
        std::lock_guard lock(mutex_);
        return {owners_[i], fds_[i]};
    }

  private:
    mutable std::mutex mutex_;
    std::unique_ptr<std::atomic<const void*>[]> view_;
    std::vector<std::shared_ptr<const MapValueObject>> owners_;
    std::vector<uint32_t> fds_;
};

// Maps of maps: does `inner` match the definition every inner map must follow? Linux compares
// type, key and value size and flags, and max_entries for array inner maps unless the
// definition has BPF_F_INNER_MAP.
inline bool inner_map_matches(const MapSpec& def, const Map& inner) {
    if (inner.type() != def.type || inner.key_size() != def.key_size ||
        inner.value_size() != def.value_size || inner.flags() != def.flags) {
        return false;
    }
    const bool array = def.type == MapType::Array || def.type == MapType::PercpuArray;
    if (array && !(def.flags & map_flags::kInnerMap) && inner.max_entries() != def.max_entries) {
        return false;
    }
    return true;
}

}  // namespace xbpf::maps
