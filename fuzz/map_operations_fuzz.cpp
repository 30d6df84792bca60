// libFuzzer target: the host map API (bpf(2) map commands) and the program-side operations
// (what helpers call) on every map type the runtime creates, with fuzzed specs and fuzzed
// sequences of operations. Nothing may crash, leak or trip a sanitizer; every return code must
// be 0 or an errno bpf(2) can give. Where the semantics are simple — arrays, hash maps, queues,
// stacks, bloom filters and ring buffers — a reference model says exactly what each operation
// must return and what lookups, iteration and consumption must see.
//
// Input: byte 0 picks the map type, bytes 1..8 the spec (key/value size, max_entries, flags);
// the rest is a sequence of operations, one opcode byte and its operand bytes each.
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "xbpf/map.hpp"
#include "xbpf/map_ringbuf.hpp"

namespace {

using namespace xbpf;
using Bytes = std::vector<uint8_t>;

[[noreturn]] void fail(const char* what, long got, long want) {
    std::fprintf(stderr, "map model disagrees: %s: got %ld, expected %ld\n", what, got, want);
    __builtin_trap();
}

void expect(const char* what, long got, long want) {
    if (got != want) fail(what, got, want);
}

// Every errno the bpf(2) map commands and map helpers return.
void expect_errno(const char* what, long rc) {
    static const std::set<long> known = {0,       -EINVAL, -ENOENT,    -EEXIST,    -E2BIG,
                                         -ENOSPC, -EPERM,  -EBADF,     -ENOMEM,    -EBUSY,
                                         -EAGAIN, -EFAULT, -kENOTSUPP, -EOPNOTSUPP};
    if (!known.contains(rc)) fail(what, rc, 0);
}

class Input {
  public:
    Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool empty() const { return pos_ >= size_; }
    uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    uint32_t u16() { return byte() | (uint32_t{byte()} << 8); }

  private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

constexpr MapType kTypes[] = {
    MapType::Hash,        MapType::Array,         MapType::PercpuHash,     MapType::PercpuArray,
    MapType::LruHash,     MapType::LruPercpuHash, MapType::LpmTrie,        MapType::Queue,
    MapType::Stack,       MapType::BloomFilter,   MapType::Ringbuf,        MapType::ProgArray,
    MapType::ArrayOfMaps, MapType::HashOfMaps,    MapType::PerfEventArray,
};

constexpr uint32_t kFlagChoices[] = {
    0,
    map_flags::kNoPrealloc,
    map_flags::kNoCommonLru,
    map_flags::kRdonly,
    map_flags::kWronly,
    map_flags::kZeroSeed,
    map_flags::kRdonlyProg,
    map_flags::kWronlyProg,
    map_flags::kMmapable,
    map_flags::kNoPrealloc | map_flags::kZeroSeed,
};

MapSpec fuzzed_spec(Input& in) {
    MapSpec spec;
    spec.name = "fuzz";
    spec.type = kTypes[in.byte() % std::size(kTypes)];
    spec.key_size = in.byte() % 72;
    spec.value_size = in.byte() % 72;
    spec.max_entries = in.byte() % 40;
    const uint8_t shape = in.byte();
    spec.flags = kFlagChoices[shape % std::size(kFlagChoices)];
    if (shape & 0x80) spec.flags |= 1u << (in.byte() % 16);  // any flag, valid or not
    spec.map_extra = in.byte() % 12;
    if (spec.type == MapType::Ringbuf) spec.max_entries = 4096u << (in.byte() % 3);
    if (spec.type == MapType::ArrayOfMaps || spec.type == MapType::HashOfMaps) {
        auto inner = std::make_shared<MapSpec>();
        inner->type = MapType::Array;
        inner->key_size = 4;
        inner->value_size = 8;
        inner->max_entries = 4;
        spec.inner = inner;
    }
    return spec;
}

// The reference model of arrays and hash maps: key -> host value (all CPUs' slots).
struct KeyValueModel {
    bool is_array = false;
    uint32_t max_entries = 0;
    std::map<Bytes, Bytes> elements;

    bool in_range(const Bytes& key) const {
        uint32_t index = 0;
        std::memcpy(&index, key.data(), 4);
        return index < max_entries;
    }
};

class MapExerciser {
  public:
    explicit MapExerciser(std::shared_ptr<Map> map) : map_(std::move(map)), spec_(map_->spec()) {
        const MapType t = spec_.type;
        modelled_ = t == MapType::Array || t == MapType::PercpuArray || t == MapType::Hash ||
                    t == MapType::PercpuHash;
        model_.is_array = t == MapType::Array || t == MapType::PercpuArray;
        model_.max_entries = spec_.max_entries;
        if (model_.is_array) {
            // Arrays start with every element present and zeroed.
            for (uint32_t i = 0; i < spec_.max_entries; ++i)
                model_.elements[key_of(i)] = Bytes(map_->host_value_size(), 0);
        }
        host_writable_ = (spec_.flags & map_flags::kRdonly) == 0;
        host_readable_ = (spec_.flags & map_flags::kWronly) == 0;
    }

    void run(Input& in) {
        while (!in.empty()) {
            switch (in.byte() % 14) {
                case 0: host_update(in); break;
                case 1: host_lookup(in); break;
                case 2: host_delete(in); break;
                case 3: host_lookup_and_delete(in); break;
                case 4: iterate(); break;
                case 5: lookup_batch(in, false); break;
                case 6: lookup_batch(in, true); break;
                case 7: update_batch(in); break;
                case 8: delete_batch(in); break;
                case 9: program_update(in); break;
                case 10: program_lookup_erase(in); break;
                case 11: push_pop(in); break;
                case 12: ring(in); break;
                case 13: freeze(); break;
            }
        }
        if (modelled_ && host_readable_) iterate();
        if (ring_ != nullptr) consume_ring();
    }

  private:
    Bytes key_of(uint32_t index) const {
        Bytes key(spec_.key_size, 0);
        if (!key.empty()) std::memcpy(key.data(), &index, std::min<size_t>(4, key.size()));
        return key;
    }
    // Keys collide often: an index below max_entries + 3, the rest filled with a small pattern.
    Bytes fuzzed_key(Input& in) {
        Bytes key = key_of(in.byte() % (spec_.max_entries + 3));
        const uint8_t fill = in.byte() % 3;
        for (size_t i = 4; i < key.size(); ++i)
            key[i] = fill;
        return key;
    }
    Bytes fuzzed_value(Input& in, size_t size) {
        Bytes value(size);
        const uint8_t seed = in.byte();
        for (size_t i = 0; i < size; ++i)
            value[i] = static_cast<uint8_t>(seed + i);
        return value;
    }
    uint64_t fuzzed_update_flags(Input& in) {
        const uint8_t b = in.byte();
        return b < 200 ? b % 3 : uint64_t{1} << (b % 5);  // mostly ANY/NOEXIST/EXIST
    }
    const void* key_ptr(const Bytes& key) const { return key.empty() ? nullptr : key.data(); }
    void* key_ptr(Bytes& key) const { return key.empty() ? nullptr : key.data(); }

    // What a host lookup returns for a value written by the host: per-CPU maps return each
    // slot's bytes past value_size (up to the 8-byte stride) zeroed. (Linux returns them as
    // written; programs never see them either way.)
    Bytes as_stored(Bytes value) const {
        if (!map_->is_percpu()) return value;
        const size_t stride = (spec_.value_size + 7) / 8 * 8;
        for (size_t slot = 0; slot + stride <= value.size(); slot += stride)
            std::fill(value.begin() + slot + spec_.value_size, value.begin() + slot + stride, 0);
        return value;
    }

    // The result a host or program update must give, applying it to the model on success.
    long model_update(const Bytes& key, const Bytes& given, uint64_t flags) {
        const Bytes value = as_stored(given);
        if (flags > update_flags::kExist) return -EINVAL;
        auto it = model_.elements.find(key);
        if (model_.is_array) {
            if (!model_.in_range(key)) return -E2BIG;
            if (flags == update_flags::kNoExist) return -EEXIST;
            it->second = value;
            return 0;
        }
        if (it != model_.elements.end()) {
            if (flags == update_flags::kNoExist) return -EEXIST;
            it->second = value;
            return 0;
        }
        if (flags == update_flags::kExist) return -ENOENT;
        if (model_.elements.size() >= spec_.max_entries) return -E2BIG;
        model_.elements.emplace(key, value);
        return 0;
    }

    void host_update(Input& in) {
        const Bytes key = fuzzed_key(in);
        const Bytes value = fuzzed_value(in, map_->host_value_size());
        const uint64_t flags = fuzzed_update_flags(in);
        const int rc = map_->update_elem(key_ptr(key), value.data(), flags);
        expect_errno("update_elem", rc);
        if (is_queue()) {
            if (!host_writable_) return expect("push (host) to a read-only map", rc, -EPERM);
            return expect("push (host)", rc, model_push(value, flags));
        }
        if (!modelled_) return;
        if (!host_writable_) return expect("update_elem of a read-only map", rc, -EPERM);
        expect("update_elem", rc, model_update(key, value, flags));
    }

    void host_lookup(Input& in) {
        const Bytes key = fuzzed_key(in);
        Bytes value(map_->host_value_size() + 8, 0xee);
        const int rc = map_->lookup_elem(key_ptr(key), value.data());
        expect_errno("lookup_elem", rc);
        if (is_queue() && host_readable_) {
            value.resize(spec_.value_size);
            return check_pop("peek (host)", rc, value, false);
        }
        if (!modelled_) return;
        if (!host_readable_) return expect("lookup_elem of a write-only map", rc, -EPERM);
        auto it = model_.elements.find(key);
        expect("lookup_elem", rc, it == model_.elements.end() ? -ENOENT : 0);
        if (rc == 0) {
            expect("lookup_elem value",
                   std::memcmp(value.data(), it->second.data(), it->second.size()) == 0, 1);
            expect("lookup_elem wrote past the value", value[it->second.size()], 0xee);
        }
    }

    void host_delete(Input& in) {
        const Bytes key = fuzzed_key(in);
        const int rc = map_->delete_elem(key_ptr(key));
        expect_errno("delete_elem", rc);
        if (!modelled_) return;
        if (!host_writable_) return expect("delete_elem of a read-only map", rc, -EPERM);
        if (model_.is_array) return expect("delete_elem of an array", rc, -EINVAL);
        const bool present = model_.elements.erase(key) != 0;
        expect("delete_elem", rc, present ? 0 : -ENOENT);
    }

    void host_lookup_and_delete(Input& in) {
        const Bytes key = fuzzed_key(in);
        Bytes value(map_->host_value_size(), 0);
        const int rc = map_->lookup_and_delete_elem(key_ptr(key), value.data());
        expect_errno("lookup_and_delete_elem", rc);
        if (is_queue()) {
            if ((!host_writable_ || !host_readable_) && rc == -EPERM) return;
            return check_pop("pop (host)", rc, value, true);
        }
        if (!modelled_ || model_.is_array || !host_writable_ || !host_readable_) return;
        auto it = model_.elements.find(key);
        expect("lookup_and_delete_elem", rc, it == model_.elements.end() ? -ENOENT : 0);
        if (rc == 0) {
            expect("lookup_and_delete_elem value",
                   std::memcmp(value.data(), it->second.data(), value.size()) == 0, 1);
            model_.elements.erase(it);
        }
    }

    // get_next_key from the start to the end: every key exactly once (the map is not modified
    // meanwhile), the model's keys exactly.
    void iterate() {
        Bytes key(spec_.key_size), next(spec_.key_size);
        std::set<Bytes> seen;
        const void* prev = nullptr;
        for (uint32_t steps = 0;; ++steps) {
            const int rc = map_->get_next_key(prev, key_ptr(next));
            expect_errno("get_next_key", rc);
            if (rc != 0) {
                if (modelled_ && host_readable_) expect("get_next_key at the end", rc, -ENOENT);
                break;
            }
            if (modelled_ && !seen.insert(next).second) fail("get_next_key repeated a key", 0, 1);
            if (steps > spec_.max_entries + 1) fail("get_next_key did not end", steps, 0);
            key = next;
            prev = key_ptr(key);
        }
        if (!modelled_ || !host_readable_) return;
        std::set<Bytes> want;
        for (const auto& [k, v] : model_.elements)
            want.insert(k);
        expect("get_next_key visited the model's keys", seen == want, 1);
    }

    void lookup_batch(Input& in, bool and_delete) {
        uint32_t count = in.byte() % 12;
        const uint32_t capacity = count;
        const size_t token_size = std::max<size_t>(map_->batch_token_size(), 1);
        Bytes in_token(token_size, 0), out_token(token_size, 0);
        Bytes keys(capacity * spec_.key_size + 1), values(capacity * map_->host_value_size() + 1);
        const bool start = in.byte() & 1;
        const int rc =
            and_delete
                ? map_->lookup_and_delete_batch(start ? nullptr : in_token.data(), out_token.data(),
                                                keys.data(), values.data(), count)
                : map_->lookup_batch(start ? nullptr : in_token.data(), out_token.data(),
                                     keys.data(), values.data(), count);
        expect_errno(and_delete ? "lookup_and_delete_batch" : "lookup_batch", rc);
        if (count > capacity) fail("batch count grew past the capacity", count, capacity);
        if (!modelled_ || (rc != 0 && rc != -ENOENT)) return;
        const size_t vs = map_->host_value_size();
        for (uint32_t i = 0; i < count; ++i) {
            const Bytes key(keys.begin() + i * spec_.key_size,
                            keys.begin() + (i + 1) * spec_.key_size);
            auto it = model_.elements.find(key);
            if (it == model_.elements.end()) fail("batch returned a key not in the map", i, 0);
            expect("batch value", std::memcmp(values.data() + i * vs, it->second.data(), vs), 0);
            if (and_delete) model_.elements.erase(it);
        }
    }

    void update_batch(Input& in) {
        uint32_t count = in.byte() % 6;
        const uint32_t requested = count;
        std::vector<Bytes> key_list, value_list;
        Bytes keys, values;
        for (uint32_t i = 0; i < count; ++i) {
            key_list.push_back(fuzzed_key(in));
            value_list.push_back(fuzzed_value(in, map_->host_value_size()));
            keys.insert(keys.end(), key_list.back().begin(), key_list.back().end());
            values.insert(values.end(), value_list.back().begin(), value_list.back().end());
        }
        keys.resize(keys.size() + 1);
        values.resize(values.size() + 1);
        const uint64_t flags = in.byte() % 3;
        const int rc = map_->update_batch(keys.data(), values.data(), count, flags);
        expect_errno("update_batch", rc);
        if (count > requested) fail("update_batch count grew", count, requested);
        if (!modelled_) return;
        if (!host_writable_) return expect("update_batch of a read-only map", rc, -EPERM);
        // The batch is the updates in order, stopping at the first failure.
        for (uint32_t i = 0; i < requested; ++i) {
            const long want = model_update(key_list[i], value_list[i], flags);
            if (want != 0) {
                expect("update_batch stopped at", count, i);
                return expect("update_batch error", rc, want);
            }
        }
        expect("update_batch", rc, 0);
        expect("update_batch count", count, requested);
    }

    void delete_batch(Input& in) {
        uint32_t count = in.byte() % 6;
        const uint32_t requested = count;
        std::vector<Bytes> key_list;
        Bytes keys;
        for (uint32_t i = 0; i < count; ++i) {
            key_list.push_back(fuzzed_key(in));
            keys.insert(keys.end(), key_list.back().begin(), key_list.back().end());
        }
        keys.resize(keys.size() + 1);
        const int rc = map_->delete_batch(keys.data(), count);
        expect_errno("delete_batch", rc);
        if (count > requested) fail("delete_batch count grew", count, requested);
        if (!modelled_ || model_.is_array || !host_writable_) return;
        for (uint32_t i = 0; i < requested; ++i) {
            if (model_.elements.erase(key_list[i]) == 0) {
                expect("delete_batch stopped at", count, i);
                return expect("delete_batch error", rc, -ENOENT);
            }
        }
        expect("delete_batch", rc, 0);
    }

    // What helpers call: bpf_map_update_elem / lookup / delete on this thread's slot.
    void program_update(Input& in) {
        if (spec_.type == MapType::Ringbuf || spec_.type == MapType::PerfEventArray ||
            spec_.type == MapType::ProgArray || spec_.type == MapType::ArrayOfMaps ||
            spec_.type == MapType::HashOfMaps || spec_.type == MapType::Queue ||
            spec_.type == MapType::Stack || spec_.type == MapType::BloomFilter) {
            return;  // their program-side updates take objects or go through push
        }
        const Bytes key = fuzzed_key(in);
        const Bytes value = fuzzed_value(in, spec_.value_size);
        const uint64_t flags = fuzzed_update_flags(in);
        const long rc = map_->update(key_ptr(key), value.data(), flags);
        expect_errno("update (program side)", rc);
        if (modelled_ && !map_->is_percpu()) expect("update", rc, model_update(key, value, flags));
        if (modelled_ && map_->is_percpu()) modelled_ = false;  // one slot changed: stop modelling
    }

    void program_lookup_erase(Input& in) {
        if (spec_.type == MapType::Ringbuf || spec_.type == MapType::PerfEventArray ||
            spec_.type == MapType::Queue || spec_.type == MapType::Stack ||
            spec_.type == MapType::BloomFilter) {
            return;
        }
        const Bytes key = fuzzed_key(in);
        if (in.byte() & 1) {
            const long rc = map_->erase(key_ptr(key));
            expect_errno("erase (program side)", rc);
            if (!modelled_) return;
            if (model_.is_array) return expect("erase of an array element", rc, -EINVAL);
            expect("erase", rc, model_.elements.erase(key) != 0 ? 0 : -ENOENT);
            return;
        }
        void* p = map_->lookup(key_ptr(key));
        if (!modelled_) return;
        auto it = model_.elements.find(key);
        expect("lookup (program side) found", p != nullptr, it != model_.elements.end());
        if (p != nullptr && !map_->is_percpu()) {
            expect("lookup (program side) value",
                   std::memcmp(p, it->second.data(), spec_.value_size), 0);
        }
    }

    // Queue, stack (a deque model; pushing into a full one with BPF_EXIST drops the oldest) and
    // bloom filter (no false negatives).
    void push_pop(Input& in) {
        const MapType t = spec_.type;
        const bool fifo = t == MapType::Queue, lifo = t == MapType::Stack;
        if (!fifo && !lifo && t != MapType::BloomFilter) return;
        const uint8_t what = in.byte() % 4;
        Bytes value = fuzzed_value(in, spec_.value_size);
        if (t == MapType::BloomFilter) {
            if (what < 2) {
                const long rc = map_->push(value.data(), 0);
                expect_errno("bloom push", rc);
                if (rc == 0) bloom_.insert(value);
            } else if (bloom_.contains(value)) {
                expect("bloom peek of a pushed value", map_->peek(value.data()), 0);
            }
            return;
        }
        if (what < 2) {
            const uint64_t flags = what == 1 ? update_flags::kExist : 0;
            expect("push", map_->push(value.data(), flags), model_push(value, flags));
            return;
        }
        Bytes got(spec_.value_size, 0);
        const long rc = what == 2 ? map_->pop(got.data()) : map_->peek(got.data());
        check_pop("pop/peek", rc, got, what == 2);
    }

    bool is_queue() const { return spec_.type == MapType::Queue || spec_.type == MapType::Stack; }

    // The result a push must give, applied to the model on success. A full queue or stack takes
    // a push with BPF_EXIST by dropping its oldest element.
    long model_push(const Bytes& value, uint64_t flags) {
        if (flags == update_flags::kNoExist || flags > update_flags::kExist) return -EINVAL;
        if (queue_.size() >= spec_.max_entries) {
            if (flags != update_flags::kExist) return -E2BIG;
            queue_.pop_front();
        }
        queue_.push_back(value);
        return 0;
    }

    // Checks a pop or peek against the model (queue: oldest first; stack: newest first).
    void check_pop(const char* what, long rc, const Bytes& got, bool remove) {
        if (queue_.empty()) return expect(what, rc, -ENOENT);
        expect(what, rc, 0);
        const bool fifo = spec_.type == MapType::Queue;
        expect(what, (fifo ? queue_.front() : queue_.back()) == got, 1);
        if (remove) fifo ? queue_.pop_front() : queue_.pop_back();
    }

    // Ring buffer: records are consumed in reservation order, discarded ones skipped,
    // consumption stopping at the first record still reserved.
    void ring(Input& in) {
        auto* ring = dynamic_cast<RingBufMap*>(map_.get());
        if (ring == nullptr) return;
        ring_ = ring;
        const uint8_t what = in.byte() % 5;
        if (what == 0 || what == 1) {
            const uint64_t size = what == 0 ? in.byte() : in.u16();
            Bytes data = fuzzed_value(in, size);
            if (what == 0) {
                void* p = ring->reserve(size, 0);
                if (p == nullptr) return;
                if (size != 0) std::memcpy(p, data.data(), size);
                records_.push_back(Record{p, std::move(data), Record::kReserved});
            } else {
                const long rc = ring->output(data.data(), size, 0);
                expect_errno("ringbuf output", rc);
                if (rc == 0) records_.push_back(Record{nullptr, std::move(data), Record::kDone});
            }
        } else if (what == 2 || what == 3) {
            // Commit the n-th record still reserved.
            std::vector<Record*> open;
            for (auto& r : records_)
                if (r.state == Record::kReserved) open.push_back(&r);
            if (open.empty()) return;
            Record* r = open[in.byte() % open.size()];
            if (what == 2) {
                RingBufMap::submit(r->sample, 0);
                r->state = Record::kDone;
            } else {
                RingBufMap::discard(r->sample, 0);
                r->state = Record::kDiscarded;
            }
        } else {
            consume_ring();
        }
    }

    void consume_ring() {
        RingBufferConsumer consumer;
        std::vector<Bytes> got;
        if (!consumer.add(map_, [&](const void* data, size_t size) {
                const auto* p = static_cast<const uint8_t*>(data);
                got.emplace_back(p, p + size);
                return 0;
            })) {
            fail("a ring buffer consumer refused the ring", 0, 1);
        }
        const int64_t n = consumer.consume();
        expect("consume count", n, static_cast<long>(got.size()));
        size_t i = 0;
        while (!records_.empty() && records_.front().state != Record::kReserved) {
            if (records_.front().state == Record::kDone) {
                if (i >= got.size()) fail("a submitted record was not consumed", i, 0);
                expect("consumed record", got[i] == records_.front().data, 1);
                ++i;
            }
            records_.pop_front();
        }
        expect("records consumed", static_cast<long>(got.size()), static_cast<long>(i));
    }

    void freeze() {
        const int rc = map_->freeze();
        expect_errno("freeze", rc);
        if (rc == 0) host_writable_ = false;
    }

    struct Record {
        void* sample;
        Bytes data;
        enum { kReserved, kDone, kDiscarded } state;
    };

    std::shared_ptr<Map> map_;
    const MapSpec spec_;
    bool modelled_ = false;
    bool host_writable_ = true;
    bool host_readable_ = true;
    KeyValueModel model_;
    std::deque<Bytes> queue_;
    std::set<Bytes> bloom_;
    RingBufMap* ring_ = nullptr;
    std::deque<Record> records_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Two per-CPU slots keep per-CPU values small; this thread uses one of them.
    if (!xbpf::set_nr_cpus(2)) __builtin_trap();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input in(data, size);
    const MapSpec spec = fuzzed_spec(in);
    auto map = create_map(spec);
    if (!map) {
        if (map.error().message().empty()) __builtin_trap();
        return 0;
    }
    MapExerciser(*map).run(in);
    return 0;
}
