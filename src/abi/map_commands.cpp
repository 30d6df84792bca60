// The map commands: BPF_MAP_CREATE and the element, batch and freeze commands, over the map
// layer's host-side API (which already has bpf(2)'s semantics and errnos).
#include <cerrno>

#include <fcntl.h>
#include "abi/commands.hpp"

#include <filesystem>

#include "abi/map_files.hpp"
#include "abi/names.hpp"
#include "abi/object_table.hpp"
#include "xbpf/bpf_abi.hpp"
#include "xbpf/map_objects.hpp"
#include "xbpf/map_ringbuf.hpp"
#include "xbpf/map_shared.hpp"

namespace xbpf::abi {
namespace {

// What a map update given a descriptor stores: a program (prog arrays) or a map (maps of maps).
std::shared_ptr<const MapValueObject> resolve_value_fd(uint32_t fd) {
    auto object = ObjectTable::instance().find_by_fd(static_cast<int>(fd));
    if (!object) return nullptr;
    switch (object->kind) {
        case ObjectKind::Map: return static_cast<MapObject&>(*object).map;
        case ObjectKind::Program: return static_cast<ProgObject&>(*object).program;
        default: return nullptr;
    }
}

// The BTF a map was created with: the key and value types must exist and have the map's sizes.
int check_map_btf(const union bpf_attr& a, std::shared_ptr<BtfObject>& out) {
    auto [btf, err] =
        ObjectTable::instance().get_as<BtfObject>(static_cast<int>(a.btf_fd), ObjectKind::Btf);
    if (err != 0) return err;
    if (a.btf_value_type_id == 0) return -EINVAL;
    // `btf` captured by name: clang 14 cannot capture a structured binding.
    auto size_is = [&btf = btf](uint32_t id, uint32_t expected) {
        if (id > btf->btf->type_count()) return false;
        auto size = btf->btf->resolve_size(id);
        return size && *size == expected;
    };
    if (a.btf_key_type_id != 0 && !size_is(a.btf_key_type_id, a.key_size)) return -EINVAL;
    if (!size_is(a.btf_value_type_id, a.value_size)) return -EINVAL;
    out = std::move(btf);
    return 0;
}

std::pair<std::shared_ptr<MapObject>, int> map_of(uint32_t fd) {
    return ObjectTable::instance().get_as<MapObject>(static_cast<int>(fd), ObjectKind::Map);
}

}  // namespace

long map_create(const Call& call) {
    const union bpf_attr& a = call.attr;
    MapSpec spec;
    spec.type = static_cast<MapType>(a.map_type);
    spec.key_size = a.key_size;
    spec.value_size = a.value_size;
    spec.max_entries = a.max_entries;
    spec.flags = a.map_flags;
    spec.map_extra = a.map_extra;
    spec.numa_node = a.numa_node;
    auto name = object_name(a.map_name);
    if (!name) return -EINVAL;
    spec.name = *name;
    // No offload devices and no kernel structs (struct_ops) in user space.
    if (a.map_ifindex != 0 || a.btf_vmlinux_value_type_id != 0) return -EINVAL;

    auto object = std::make_shared<MapObject>();
    if (a.btf_key_type_id != 0 || a.btf_value_type_id != 0) {
        if (int err = check_map_btf(a, object->btf); err != 0) return err;
        spec.btf_key_type_id = object->btf_key_type_id = a.btf_key_type_id;
        spec.btf_value_type_id = object->btf_value_type_id = a.btf_value_type_id;
    }
    if (spec.type == MapType::ArrayOfMaps || spec.type == MapType::HashOfMaps) {
        auto [inner, err] = map_of(a.inner_map_fd);
        if (err != 0) return err;
        spec.inner = std::make_shared<MapSpec>(inner->map->spec());
    }
    if (auto problem = check_map_spec(spec)) return -problem->error;

    if (shareable_map_type(spec.type)) {
        // In shared memory, so that a pin can hand the map to other processes. The file lives
        // in the pin namespace because a pin is a hard link to it.
        std::error_code ec;
        std::filesystem::create_directories(pin_root(), ec);
        SharedMapOptions shared;
        shared.directory = pin_root();
        auto map = create_shared_map(spec, shared);
        if (!map) {
            shared.directory.clear();  // a pin root without O_TMPFILE: /dev/shm
            map = create_shared_map(spec, shared);
        }
        if (!map) return -ENOMEM;
        object->map = std::move(*map);
    } else {
        MapOptions options;
        options.resolve_fd = resolve_value_fd;
        auto map = create_map(spec, options);
        if (!map) return -ENOMEM;
        object->map = std::move(*map);
    }
    return install_map(std::move(object));
}

long install_map(std::shared_ptr<MapObject> object) {
    const Map& map = *object->map;
    const MapMemory* storage = map.storage();
    int file = -1;
    if (storage != nullptr && storage->fd() >= 0) {
        // The map's own file: mmap of the descriptor maps the map's memory.
        file = fcntl(storage->fd(), F_DUPFD_CLOEXEC, 0);
        if (file < 0) return -errno;
        object->ring = map.type() == MapType::Ringbuf;
        object->mmapable = object->ring || (map.flags() & map_flags::kMmapable) != 0;
        if (object->ring) {
            // Linux's offset 0 is the consumer page: page 1 of the ring's region.
            object->mmap_file_offset = map_page_size();
        } else if (object->mmapable) {
            object->mmap_file_offset =
                static_cast<size_t>(object->map->mmapable_memory().data() - storage->data());
        }
    } else {
        file = identity_file("xbpf-map");
        if (file < 0) return file;
    }
    return ObjectTable::instance().install(std::move(object), file);
}

long map_lookup_elem(const Call& call) {
    auto [m, err] = map_of(call.attr.map_fd);
    if (err != 0) return err;
    if (call.attr.value == 0) return -EFAULT;
    return m->map->lookup_elem(user_ptr(call.attr.key), user_ptr(call.attr.value), call.attr.flags);
}

long map_update_elem(const Call& call) {
    auto [m, err] = map_of(call.attr.map_fd);
    if (err != 0) return err;
    if (call.attr.value == 0) return -EFAULT;
    return m->map->update_elem(user_ptr(call.attr.key), user_ptr(call.attr.value), call.attr.flags);
}

long map_delete_elem(const Call& call) {
    auto [m, err] = map_of(call.attr.map_fd);
    if (err != 0) return err;
    return m->map->delete_elem(user_ptr(call.attr.key));
}

long map_get_next_key(const Call& call) {
    auto [m, err] = map_of(call.attr.map_fd);
    if (err != 0) return err;
    if (call.attr.next_key == 0) return -EFAULT;
    return m->map->get_next_key(user_ptr(call.attr.key), user_ptr(call.attr.next_key));
}

long map_lookup_and_delete_elem(const Call& call) {
    auto [m, err] = map_of(call.attr.map_fd);
    if (err != 0) return err;
    if (call.attr.value == 0) return -EFAULT;
    return m->map->lookup_and_delete_elem(user_ptr(call.attr.key), user_ptr(call.attr.value),
                                          call.attr.flags);
}

long map_freeze(const Call& call) {
    auto [m, err] = map_of(call.attr.map_fd);
    if (err != 0) return err;
    // A frozen map is no longer writable from the host, which Linux checks first: EPERM.
    if (m->map->frozen()) return -EPERM;
    return m->map->freeze();
}

long map_batch(const Call& call, int cmd) {
    const auto& b = call.attr.batch;
    auto [m, err] = map_of(b.map_fd);
    if (err != 0) return err;
    Map& map = *m->map;
    uint32_t count = b.count;
    int result = 0;
    switch (cmd) {
        case BPF_MAP_LOOKUP_BATCH:
            result = map.lookup_batch(user_ptr(b.in_batch), user_ptr(b.out_batch), user_ptr(b.keys),
                                      user_ptr(b.values), count, b.elem_flags, b.flags);
            break;
        case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
            result = map.lookup_and_delete_batch(user_ptr(b.in_batch), user_ptr(b.out_batch),
                                                 user_ptr(b.keys), user_ptr(b.values), count,
                                                 b.elem_flags, b.flags);
            break;
        case BPF_MAP_UPDATE_BATCH:
            result = map.update_batch(user_ptr(b.keys), user_ptr(b.values), count, b.elem_flags,
                                      b.flags);
            break;
        default: result = map.delete_batch(user_ptr(b.keys), count, b.elem_flags, b.flags); break;
    }
    // Linux reports how far it got even when the command fails.
    call.put(offsetof(union bpf_attr, batch.count), count);
    return result;
}

}  // namespace xbpf::abi
