// BPF_MAP_TYPE_BLOOM_FILTER: a bit array of a power-of-two size, sized as Linux sizes it
// (max_entries * hash functions / ln 2, approximated by 7/5), and k seeded hashes of the value.
// Bits are set with atomic ORs, so pushes and peeks need no lock. The region starts with a
// header holding the hash seed (chosen at creation, so every process mapping the filter hashes
// alike), then the bits.
#include <atomic>

#include "runtime/maps/hashing.hpp"
#include "runtime/maps/map_factories.hpp"

namespace xbpf::maps {
namespace {

constexpr uint32_t kDefaultHashFunctions = 5;
constexpr size_t kBitsOffset = 64;  // after the header

struct BloomHeader {
    std::atomic<uint64_t> seed;
};

class BloomFilterMap final : public Map {
  public:
    BloomFilterMap(const MapSpec& spec, std::unique_ptr<MapMemory> memory, uint64_t bits,
                   uint32_t hashes, bool attach)
        : Map(spec),
          memory_(std::move(memory)),
          words_(reinterpret_cast<std::atomic<uint64_t>*>(memory_->data() + kBitsOffset)),
          bit_mask_(bits - 1),
          hashes_(hashes) {
        auto& header = *reinterpret_cast<BloomHeader*>(memory_->data());
        if (!attach) {
            header.seed.store(new_hash_seed((spec.flags & map_flags::kZeroSeed) != 0),
                              std::memory_order_relaxed);
        }
        seed_ = header.seed.load(std::memory_order_relaxed);
    }

    const MapMemory* storage() const noexcept override { return memory_.get(); }

    long push(const void* value, uint64_t flags) noexcept override {
        if (flags != 0) return -EINVAL;
        for (uint32_t i = 0; i < hashes_; ++i) {
            const uint64_t bit = bit_of(value, i);
            words_[bit / 64].fetch_or(uint64_t{1} << (bit % 64), std::memory_order_relaxed);
        }
        return 0;
    }

    long peek(void* value) noexcept override {
        for (uint32_t i = 0; i < hashes_; ++i) {
            const uint64_t bit = bit_of(value, i);
            if (!(words_[bit / 64].load(std::memory_order_relaxed) & (uint64_t{1} << (bit % 64)))) {
                return -ENOENT;
            }
        }
        return 0;
    }

    long pop(void*) noexcept override { return -EOPNOTSUPP; }
    long erase(const void*) noexcept override { return -EOPNOTSUPP; }

    // The host "looks up" a value to test it and "updates" to add it.
    int sys_lookup(const void*, void* value) override { return static_cast<int>(peek(value)); }
    int sys_update(const void*, const void* value, uint64_t flags) override {
        return static_cast<int>(push(value, flags));
    }
    int sys_delete(const void*) override { return -EOPNOTSUPP; }
    int sys_get_next_key(const void*, void*) override { return -EOPNOTSUPP; }

  private:
    uint64_t bit_of(const void* value, uint32_t i) const {
        return hash_bytes(value, value_size(), seed_ + i) & bit_mask_;
    }

    std::unique_ptr<MapMemory> memory_;
    std::atomic<uint64_t>* words_;
    uint64_t bit_mask_;
    uint32_t hashes_;
    uint64_t seed_ = 0;
};

}  // namespace

MapResult make_bloom_filter(const MapSpec& spec, const MapBuild& build) {
    uint32_t hashes = static_cast<uint32_t>(spec.map_extra & 0xf);
    if (hashes == 0) hashes = kDefaultHashFunctions;
    uint64_t bits = uint64_t{spec.max_entries} * hashes / 5 * 7;
    if (bits > (uint64_t{1} << 31)) bits = uint64_t{1} << 31;
    uint64_t rounded = 64;
    while (rounded < bits)
        rounded <<= 1;
    auto memory = build.memory.allocate(kBitsOffset + rounded / 8, true);
    if (!memory.ok()) return std::move(memory).error();
    return std::shared_ptr<Map>(
        std::make_shared<BloomFilterMap>(spec, std::move(*memory), rounded, hashes, build.attach));
}

}  // namespace xbpf::maps
