// The bpf(2) commands, one function each: they take the caller's attr (already copied and
// checked for non-zero bytes past the command's fields) and return what the system call
// returns, or -errno.
#pragma once

#include <memory>

#include "abi/attr.hpp"
#include "abi/objects.hpp"

namespace xbpf::abi {

long map_create(const Call& call);
// Gives a map its descriptor: the map's file when it has one (shared maps), else an identity
// file. Shared by BPF_MAP_CREATE and BPF_OBJ_GET of a pinned map.
long install_map(std::shared_ptr<MapObject> object);
long map_lookup_elem(const Call& call);
long map_update_elem(const Call& call);
long map_delete_elem(const Call& call);
long map_get_next_key(const Call& call);
long map_lookup_and_delete_elem(const Call& call);
long map_freeze(const Call& call);
long map_batch(const Call& call, int cmd);
long prog_load(const Call& call);
long prog_test_run(const Call& call);
long btf_load(const Call& call);
long obj_pin(const Call& call);
long obj_get(const Call& call);
long obj_get_info_by_fd(const Call& call);
long get_next_id(const Call& call, int cmd);
long get_fd_by_id(const Call& call, int cmd);
long link_create(const Call& call);
long link_update(const Call& call);
long link_detach(const Call& call);
long prog_attach(const Call& call);
long prog_detach(const Call& call);
long prog_query(const Call& call);
long prog_bind_map(const Call& call);
long enable_stats(const Call& call);

}  // namespace xbpf::abi
