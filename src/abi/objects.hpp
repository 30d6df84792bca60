// The objects bpf(2) hands out descriptors for, with what the ABI keeps beside the runtime's
// own object (names, BTF, the attributes they were created with).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "xbpf/btf.hpp"
#include "xbpf/map.hpp"
#include "xbpf/runtime.hpp"

namespace xbpf::abi {

class RingEvents;

enum class ObjectKind : uint8_t { Map, Program, Link, Btf };

// "map", "program", ... for messages.
const char* kind_name(ObjectKind kind);

struct AbiObject {
    explicit AbiObject(ObjectKind k) : kind(k) {}
    virtual ~AbiObject() = default;
    virtual uint32_t id() const = 0;
    // A descriptor the object itself keeps open on its own file (a shared map's storage), which
    // does not count as a reference from outside; -1 if none.
    virtual int own_fd() const { return -1; }
    const ObjectKind kind;
};

struct BtfObject final : AbiObject {
    BtfObject() : AbiObject(ObjectKind::Btf) {}
    uint32_t id() const override { return btf_id; }
    uint32_t btf_id = 0;
    std::vector<uint8_t> bytes;  // as loaded, what BPF_OBJ_GET_INFO_BY_FD returns
    std::shared_ptr<Btf> btf;
    std::string name;  // empty: BTF_LOAD gives none
};

struct MapObject final : AbiObject {
    MapObject() : AbiObject(ObjectKind::Map) {}
    uint32_t id() const override { return map->id(); }
    int own_fd() const override { return map->storage() != nullptr ? map->storage()->fd() : -1; }
    std::shared_ptr<Map> map;
    std::shared_ptr<BtfObject> btf;
    uint32_t btf_key_type_id = 0;
    uint32_t btf_value_type_id = 0;
    // Where the memory mmap() hands out starts in the file of the descriptor.
    size_t mmap_file_offset = 0;
    bool mmapable = false;
    bool ring = false;  // ring buffer: Linux's two-part mapping
    // Ring buffers watched with epoll: their readiness (ring_events.hpp), made on first use.
    std::once_flag events_once;
    std::shared_ptr<RingEvents> events;
};

struct ProgObject final : AbiObject {
    ProgObject() : AbiObject(ObjectKind::Program) {}
    uint32_t id() const override { return program->id(); }
    std::shared_ptr<Program> program;
    uint32_t prog_type = 0;
    uint32_t expected_attach_type = 0;
    std::string name;
    std::string license;
    bool gpl_compatible = false;
    uint8_t tag[8] = {};
    uint32_t created_by_uid = 0;
    uint64_t load_time_ns = 0;  // CLOCK_BOOTTIME, as Linux reports it
    std::shared_ptr<BtfObject> btf;
    // Maps the program uses (its lddw references) and maps bound to it (BPF_PROG_BIND_MAP).
    std::vector<std::shared_ptr<MapObject>> maps;
    std::mutex mutex;  // guards `maps` against PROG_BIND_MAP
    // The instructions as given (map references as map indexes), for xlated dumps and pins.
    std::vector<Insn> given;
    std::atomic<uint64_t> run_cnt{0};
    std::atomic<uint64_t> run_time_ns{0};
};

struct LinkObject final : AbiObject {
    LinkObject() : AbiObject(ObjectKind::Link) {}
    uint32_t id() const override { return link_id; }
    uint32_t link_id = 0;
    uint32_t link_type = 0;  // enum bpf_link_type
    uint32_t attach_type = 0;
    uint32_t target = 0;  // target_fd's meaning: ifindex (xdp), cgroup inode ...
    std::mutex mutex;
    std::shared_ptr<ProgObject> prog;  // null once detached
};

}  // namespace xbpf::abi
