// The Map base: identity, the host-side wrappers that apply bpf(2)'s flag and permission rules,
// and Linux's generic batch commands built on the per-type operations.
#include <atomic>
#include <cstring>
#include <vector>

#include "runtime/maps/cpu_slots.hpp"
#include "runtime/maps/word_copy.hpp"
#include "xbpf/map.hpp"

namespace xbpf {
namespace {

namespace mf = map_flags;

std::atomic<uint32_t> g_next_map_id{1};

bool percpu_type(MapType t) {
    return t == MapType::PercpuArray || t == MapType::PercpuHash || t == MapType::LruPercpuHash;
}

bool hash_type(MapType t) {
    return t == MapType::Hash || t == MapType::PercpuHash || t == MapType::LruHash ||
           t == MapType::LruPercpuHash;
}

// How often a generic batch lookup retries an element deleted between get_next_key and lookup
// before giving up with -EINTR (Linux retries 3 times too).
constexpr int kBatchLookupRetries = 3;

}  // namespace

Map::Map(const MapSpec& spec)
    : spec_(spec),
      id_(g_next_map_id.fetch_add(1, std::memory_order_relaxed)),
      percpu_(percpu_type(spec.type)) {
    maps::fix_cpu_count();
    host_value_size_ = percpu_ ? nr_cpus() * static_cast<uint32_t>(maps::round_up8(spec.value_size))
                               : spec.value_size;
}

Map::~Map() = default;

void* Map::lookup(const void*) noexcept {
    return nullptr;
}
void* Map::lookup_percpu(const void*, uint32_t) noexcept {
    return nullptr;
}
long Map::update(const void*, const void*, uint64_t) noexcept {
    return -EINVAL;
}
long Map::erase(const void*) noexcept {
    return -EINVAL;
}
long Map::for_each(ElementVisitor&) noexcept {
    return -kENOTSUPP;
}
long Map::push(const void*, uint64_t) noexcept {
    return -EOPNOTSUPP;
}
long Map::pop(void*) noexcept {
    return -EOPNOTSUPP;
}
long Map::peek(void*) noexcept {
    return -EOPNOTSUPP;
}

int Map::sys_lookup(const void*, void*) {
    return -kENOTSUPP;
}
int Map::sys_update(const void*, const void*, uint64_t) {
    return -kENOTSUPP;
}
int Map::sys_delete(const void*) {
    return -kENOTSUPP;
}
int Map::sys_lookup_and_delete(const void*, void*) {
    return -kENOTSUPP;
}
int Map::sys_get_next_key(const void*, void*) {
    return -kENOTSUPP;
}

// --- host wrappers ------------------------------------------------------------------------------

namespace {
// Permissions of the host side, as bpf(2) derives them from the creating descriptor's mode:
// BPF_F_RDONLY / BPF_F_WRONLY at creation, and freezing, which takes write permission away.
bool host_can_read(const MapSpec& s) {
    return !(s.flags & mf::kWronly);
}
bool host_can_write(const MapSpec& s, bool frozen) {
    return !(s.flags & mf::kRdonly) && !frozen;
}
}  // namespace

int Map::lookup_elem(const void* key, void* value, uint64_t flags) {
    if (!host_can_read(spec_)) return -EPERM;
    // BPF_F_LOCK needs a bpf_spin_lock in the value (BTF), which xbpf maps do not describe.
    if (flags != 0) return -EINVAL;
    return sys_lookup(key, value);
}

int Map::update_elem(const void* key, const void* value, uint64_t flags) {
    if (!host_can_write(spec_, frozen())) return -EPERM;
    if (flags & update_flags::kLock) return -EINVAL;
    return sys_update(key, value, flags);
}

int Map::delete_elem(const void* key) {
    if (!host_can_write(spec_, frozen())) return -EPERM;
    return sys_delete(key);
}

int Map::lookup_and_delete_elem(const void* key, void* value, uint64_t flags) {
    if (!host_can_read(spec_) || !host_can_write(spec_, frozen())) return -EPERM;
    if (flags != 0) return -EINVAL;
    return sys_lookup_and_delete(key, value);
}

int Map::get_next_key(const void* key, void* next_key) {
    if (!host_can_read(spec_)) return -EPERM;
    return sys_get_next_key(key, next_key);
}

int Map::freeze() {
    if (!host_can_write(spec_, false)) return -EPERM;
    if (frozen_->exchange(1, std::memory_order_acq_rel) != 0) return -EBUSY;
    return 0;
}

uint32_t Map::batch_token_size() const {
    return hash_type(spec_.type) ? 4 : spec_.key_size;
}

// --- batch commands ---------------------------------------------------------------------------

int Map::lookup_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                      uint32_t& count, uint64_t elem_flags, uint64_t flags) {
    if (!host_can_read(spec_)) return -EPERM;
    if (!(batch_support() & kBatchLookup)) return -kENOTSUPP;
    if (elem_flags != 0 || flags != 0) return -EINVAL;
    if (count == 0) return 0;
    return sys_lookup_batch(in_batch, out_batch, keys, values, count, false);
}

int Map::lookup_and_delete_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                                 uint32_t& count, uint64_t elem_flags, uint64_t flags) {
    if (!host_can_read(spec_) || !host_can_write(spec_, frozen())) return -EPERM;
    if (!(batch_support() & kBatchLookupAndDelete)) return -kENOTSUPP;
    if (elem_flags != 0 || flags != 0) return -EINVAL;
    if (count == 0) return 0;
    return sys_lookup_batch(in_batch, out_batch, keys, values, count, true);
}

int Map::update_batch(const void* keys, const void* values, uint32_t& count, uint64_t elem_flags,
                      uint64_t flags) {
    if (!host_can_write(spec_, frozen())) return -EPERM;
    if (!(batch_support() & kBatchUpdate)) return -kENOTSUPP;
    if ((elem_flags & update_flags::kLock) || flags != 0) return -EINVAL;
    const auto* k = static_cast<const uint8_t*>(keys);
    const auto* v = static_cast<const uint8_t*>(values);
    uint32_t done = 0;
    int err = 0;
    for (; done < count; ++done) {
        err = sys_update(k + size_t{done} * key_size(), v + size_t{done} * host_value_size_,
                         elem_flags);
        if (err != 0) break;
    }
    count = done;
    return err;
}

int Map::delete_batch(const void* keys, uint32_t& count, uint64_t elem_flags, uint64_t flags) {
    if (!host_can_write(spec_, frozen())) return -EPERM;
    if (!(batch_support() & kBatchDelete)) return -kENOTSUPP;
    if (elem_flags != 0 || flags != 0) return -EINVAL;
    const auto* k = static_cast<const uint8_t*>(keys);
    uint32_t done = 0;
    int err = 0;
    for (; done < count; ++done) {
        err = sys_delete(k + size_t{done} * key_size());
        if (err != 0) break;
    }
    count = done;
    return err;
}

// Linux's generic batch lookup: walk with get_next_key from the token (a key), copying each
// element; the token returned is the last key copied.
int Map::sys_lookup_batch(const void* in_batch, void* out_batch, void* keys, void* values,
                          uint32_t& count, bool and_delete) {
    if (and_delete) return -kENOTSUPP;
    auto* k = static_cast<uint8_t*>(keys);
    auto* v = static_cast<uint8_t*>(values);
    const uint32_t ks = key_size();
    std::vector<uint8_t> prev;
    if (in_batch != nullptr) {
        prev.assign(static_cast<const uint8_t*>(in_batch),
                    static_cast<const uint8_t*>(in_batch) + ks);
    }
    uint32_t done = 0;
    int err = 0;
    int retries = kBatchLookupRetries;
    while (done < count) {
        uint8_t* key = k + size_t{done} * ks;
        err = sys_get_next_key(
            prev.empty() && in_batch == nullptr && done == 0 ? nullptr : prev.data(), key);
        if (err != 0) break;
        err = sys_lookup(key, v + size_t{done} * host_value_size_);
        if (err == -ENOENT) {
            // Deleted between the two calls: step past it.
            if (retries-- > 0) {
                prev.assign(key, key + ks);
                continue;
            }
            err = -EINTR;
            break;
        }
        if (err != 0) break;
        prev.assign(key, key + ks);
        retries = kBatchLookupRetries;
        ++done;
    }
    count = done;
    if (done > 0 && out_batch != nullptr) std::memcpy(out_batch, prev.data(), ks);
    return err;
}

}  // namespace xbpf
