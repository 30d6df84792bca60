// BPF_MAP_TYPE_PROG_ARRAY (tail-call targets) and BPF_MAP_TYPE_ARRAY_OF_MAPS.
#include "runtime/maps/object_array.hpp"

#include "runtime/maps/map_factories.hpp"

namespace xbpf::maps {
namespace {

class ProgArray final : public ObjectArray<ProgArrayMap> {
  public:
    using ObjectArray::ObjectArray;

    const MapValueObject* tail_call_target(uint32_t index) const noexcept override {
        if (index >= max_entries()) return nullptr;
        return static_cast<const MapValueObject*>(slots_.load(index));
    }

  protected:
    const void* program_view(const MapValueObject& object) const override {
        // Programs only: a map is not something a tail call can continue in.
        return dynamic_cast<const Map*>(&object) != nullptr ? nullptr : &object;
    }
};

class ArrayOfMaps final : public ObjectArray<ObjectMap> {
  public:
    using ObjectArray::ObjectArray;

    // A program's lookup yields the inner map itself.
    void* lookup(const void* key) noexcept override {
        const uint32_t index = read_index(key);
        if (index >= max_entries()) return nullptr;
        return const_cast<void*>(slots_.load(index));
    }

  protected:
    const void* program_view(const MapValueObject& object) const override {
        const auto* inner = dynamic_cast<const Map*>(&object);
        if (inner == nullptr || !inner_map_matches(*spec().inner, *inner)) return nullptr;
        return inner;
    }
};

}  // namespace

MapResult make_object_array(const MapSpec& spec, const MapOptions& options) {
    if (spec.type == MapType::ProgArray) {
        return std::shared_ptr<Map>(std::make_shared<ProgArray>(spec, options));
    }
    return std::shared_ptr<Map>(std::make_shared<ArrayOfMaps>(spec, options));
}

}  // namespace xbpf::maps
