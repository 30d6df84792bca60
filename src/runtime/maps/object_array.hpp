// The array kinds of object maps (prog_array, array_of_maps, perf_event_array): u32 index keys,
// u32 file descriptors as host values, slots in ObjectSlots. `Base` is the public interface the
// kind implements (ProgArrayMap, ObjectMap, PerfEventArrayMap).
#pragma once

#include <cstring>
#include <functional>

#include "runtime/maps/object_slots.hpp"
#include "xbpf/map_objects.hpp"

namespace xbpf::maps {

template <class Base>
class ObjectArray : public Base {
  public:
    ObjectArray(const MapSpec& spec, const MapOptions& options)
        : Base(spec), slots_(spec.max_entries), resolve_fd_(options.resolve_fd) {}

    int update_object(const void* key, std::shared_ptr<const MapValueObject> object,
                      uint32_t host_fd, uint64_t flags) override {
        if ((this->flags() & map_flags::kRdonly) || this->frozen()) return -EPERM;
        if (flags != update_flags::kAny) return -EINVAL;
        const uint32_t index = read_index(key);
        if (index >= this->max_entries()) return -E2BIG;
        if (object == nullptr) return -EBADF;
        const void* view = program_view(*object);
        if (view == nullptr) return -EINVAL;
        slots_.exchange(index, std::move(object), view, host_fd);
        return 0;
    }

    std::pair<std::shared_ptr<const MapValueObject>, uint32_t> object_at(
        const void* key) const override {
        const uint32_t index = read_index(key);
        if (index >= this->max_entries()) return {nullptr, 0};
        return slots_.get(index);
    }

  protected:
    // The pointer programs see for `object` (the object itself, or its Map), or nullptr if the
    // object does not belong in this kind of map.
    virtual const void* program_view(const MapValueObject& object) const = 0;
    // Whether BPF_MAP_LOOKUP_ELEM reports the slot's object id (not for perf event arrays).
    virtual bool reports_ids() const { return true; }

    static uint32_t read_index(const void* key) {
        uint32_t index;
        std::memcpy(&index, key, sizeof index);
        return index;
    }

    int sys_lookup(const void* key, void* value) override {
        if (!reports_ids()) return -kENOTSUPP;
        const uint32_t index = read_index(key);
        if (index >= this->max_entries()) return -ENOENT;
        auto [object, fd] = slots_.get(index);
        if (object == nullptr) return -ENOENT;
        const uint32_t id = object->object_id();
        std::memcpy(value, &id, sizeof id);
        return 0;
    }

    int sys_update(const void* key, const void* value, uint64_t flags) override {
        uint32_t fd;
        std::memcpy(&fd, value, sizeof fd);
        auto object = resolve_fd_ ? resolve_fd_(fd) : nullptr;
        if (object == nullptr) return -EBADF;
        return update_object(key, std::move(object), fd, flags);
    }

    int sys_delete(const void* key) override {
        const uint32_t index = read_index(key);
        if (index >= this->max_entries()) return -E2BIG;
        return slots_.exchange(index, nullptr, nullptr, 0) ? 0 : -ENOENT;
    }

    int sys_get_next_key(const void* key, void* next_key) override {
        uint32_t next = 0;
        if (key != nullptr) {
            const uint32_t index = read_index(key);
            if (index < this->max_entries()) {
                if (index == this->max_entries() - 1) return -ENOENT;
                next = index + 1;
            }
        }
        std::memcpy(next_key, &next, sizeof next);
        return 0;
    }

    ObjectSlots slots_;
    std::function<std::shared_ptr<const MapValueObject>(uint32_t)> resolve_fd_;
};

}  // namespace xbpf::maps
