// bpf(2)'s entry: the attr is copied and checked as Linux checks it (size, tail beyond the
// union, bytes past the command's last field), then the command runs.
#include <unistd.h>

#include <cerrno>

#include "abi/commands.hpp"
#include "xbpf/bpf_abi.hpp"

namespace xbpf {
namespace abi {
namespace {

// The end of each command's fields in union bpf_attr (Linux's <CMD>_LAST_FIELD); 0 for
// commands xbpf does not have.
size_t attr_end(int cmd) {
    switch (cmd) {
        case BPF_MAP_CREATE: return XBPF_ATTR_END(map_extra);
        case BPF_MAP_LOOKUP_ELEM:
        case BPF_MAP_UPDATE_ELEM:
        case BPF_MAP_LOOKUP_AND_DELETE_ELEM: return XBPF_ATTR_END(flags);
        case BPF_MAP_DELETE_ELEM: return XBPF_ATTR_END(key);
        case BPF_MAP_GET_NEXT_KEY: return XBPF_ATTR_END(next_key);
        case BPF_MAP_FREEZE: return XBPF_ATTR_END(map_fd);
        case BPF_MAP_LOOKUP_BATCH:
        case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
        case BPF_MAP_UPDATE_BATCH:
        case BPF_MAP_DELETE_BATCH: return XBPF_ATTR_END(batch.flags);
        case BPF_PROG_LOAD: return XBPF_ATTR_END(core_relo_rec_size);
        case BPF_OBJ_PIN:
        case BPF_OBJ_GET: return XBPF_ATTR_END(file_flags);
        case BPF_PROG_ATTACH:
        case BPF_PROG_DETACH: return XBPF_ATTR_END(replace_bpf_fd);
        case BPF_PROG_TEST_RUN: return XBPF_ATTR_END(test.batch_size);
        case BPF_PROG_GET_NEXT_ID:
        case BPF_MAP_GET_NEXT_ID:
        case BPF_BTF_GET_NEXT_ID:
        case BPF_LINK_GET_NEXT_ID: return XBPF_ATTR_END(next_id);
        case BPF_PROG_GET_FD_BY_ID: return XBPF_ATTR_END(prog_id);
        case BPF_MAP_GET_FD_BY_ID:
        case BPF_LINK_GET_FD_BY_ID: return XBPF_ATTR_END(open_flags);
        case BPF_BTF_GET_FD_BY_ID: return XBPF_ATTR_END(btf_id);
        case BPF_OBJ_GET_INFO_BY_FD: return XBPF_ATTR_END(info.info);
        case BPF_PROG_QUERY: return XBPF_ATTR_END(query.prog_attach_flags);
        case BPF_BTF_LOAD: return XBPF_ATTR_END(btf_log_level);
        case BPF_LINK_CREATE: return XBPF_ATTR_END(link_create.kprobe_multi.cookies);
        case BPF_LINK_UPDATE: return XBPF_ATTR_END(link_update.old_prog_fd);
        case BPF_LINK_DETACH: return XBPF_ATTR_END(link_detach.link_fd);
        case BPF_ENABLE_STATS: return XBPF_ATTR_END(enable_stats.type);
        case BPF_PROG_BIND_MAP: return XBPF_ATTR_END(prog_bind_map.flags);
        default: return 0;
    }
}

long dispatch(int cmd, const Call& call) {
    switch (cmd) {
        case BPF_MAP_CREATE: return map_create(call);
        case BPF_MAP_LOOKUP_ELEM: return map_lookup_elem(call);
        case BPF_MAP_UPDATE_ELEM: return map_update_elem(call);
        case BPF_MAP_DELETE_ELEM: return map_delete_elem(call);
        case BPF_MAP_GET_NEXT_KEY: return map_get_next_key(call);
        case BPF_MAP_LOOKUP_AND_DELETE_ELEM: return map_lookup_and_delete_elem(call);
        case BPF_MAP_FREEZE: return map_freeze(call);
        case BPF_MAP_LOOKUP_BATCH:
        case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
        case BPF_MAP_UPDATE_BATCH:
        case BPF_MAP_DELETE_BATCH: return map_batch(call, cmd);
        case BPF_PROG_LOAD: return prog_load(call);
        case BPF_OBJ_PIN: return obj_pin(call);
        case BPF_OBJ_GET: return obj_get(call);
        case BPF_PROG_ATTACH: return prog_attach(call);
        case BPF_PROG_DETACH: return prog_detach(call);
        case BPF_PROG_TEST_RUN: return prog_test_run(call);
        case BPF_PROG_GET_NEXT_ID:
        case BPF_MAP_GET_NEXT_ID:
        case BPF_BTF_GET_NEXT_ID:
        case BPF_LINK_GET_NEXT_ID: return get_next_id(call, cmd);
        case BPF_PROG_GET_FD_BY_ID:
        case BPF_MAP_GET_FD_BY_ID:
        case BPF_BTF_GET_FD_BY_ID:
        case BPF_LINK_GET_FD_BY_ID: return get_fd_by_id(call, cmd);
        case BPF_OBJ_GET_INFO_BY_FD: return obj_get_info_by_fd(call);
        case BPF_PROG_QUERY: return prog_query(call);
        case BPF_BTF_LOAD: return btf_load(call);
        case BPF_LINK_CREATE: return link_create(call);
        case BPF_LINK_UPDATE: return link_update(call);
        case BPF_LINK_DETACH: return link_detach(call);
        case BPF_ENABLE_STATS: return enable_stats(call);
        case BPF_PROG_BIND_MAP: return prog_bind_map(call);
        default: return -EINVAL;
    }
}

}  // namespace
}  // namespace abi

long bpf_syscall(int cmd, void* attr, unsigned int size) {
    using namespace abi;
    auto fail = [](long err) {
        errno = static_cast<int>(-err);
        return -1L;
    };
    // Linux reads at most a page of attr, and requires what it does not know to be zero.
    const long page = sysconf(_SC_PAGESIZE);
    if (size > static_cast<unsigned long>(page)) return fail(-E2BIG);
    if (attr == nullptr && size > 0) return fail(-EFAULT);
    if (size > sizeof(union bpf_attr) && !all_zero(attr, sizeof(union bpf_attr), size)) {
        return fail(-E2BIG);
    }
    Call call{};
    call.user = attr;
    call.size = size;
    if (size > 0) std::memcpy(&call.attr, attr, std::min<size_t>(size, sizeof(union bpf_attr)));
    const size_t end = attr_end(cmd);
    if (end == 0) return fail(-EINVAL);
    if (!all_zero(&call.attr, end, sizeof(union bpf_attr))) return fail(-EINVAL);
    const long result = dispatch(cmd, call);
    return result < 0 ? fail(result) : result;
}

}  // namespace xbpf
