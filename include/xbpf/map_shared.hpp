// Maps in shared memory: a map whose whole state lives in a file mapped MAP_SHARED, which a pin
// names in a directory and another process (or this one) opens again, attaching a Map to the
// same storage. What one process changes, every other sees at once, with the map's usual
// thread-safety extended to threads of all those processes. This is what the bpf() layer's
// BPF_OBJ_PIN / BPF_OBJ_GET of maps rest on; creating a shared map costs one file creation more
// than a private one, so it can be every map's default there.
//
// The file (src/runtime/maps/README.md has the format): the map's region at offset 0 (so mmap of
// the file at offset 0 maps a BPF_F_MMAPABLE array's values, as mmap of a map fd does in Linux),
// then one header page saying what the region holds (magic, format version, the spec, the CPU
// slots the layout was made for, the region size) and the shared frozen flag. MapMemory::fd()
// of the map's storage() is that file. A ring buffer's region starts with its control page, so
// Linux's mmap layout of a ring (consumer page, producer page, data) starts at file offset one
// page.
//
// Shareable types: those whose whole state is their region: array, percpu_array, hash,
// percpu_hash, lru_hash, lru_percpu_hash, lpm_trie, queue, stack, bloom_filter, ringbuf. Maps
// holding process-local objects (prog_array, array_of_maps, hash_of_maps, perf_event_array)
// cannot be shared.
//
// Across processes:
//  - Map ids are process-local: a process that opens a pinned map gives it a new id of its own.
//  - Per-CPU values are per CPU slot, and slots are each process's own thread numbering, so
//    threads of two processes can use the same slot, as two programs preempting each other on
//    one Linux CPU would. Per-CPU maps open only in a process with the creator's nr_cpus().
//  - A process killed while it holds a map's lock (inside an update, a few hundred nanoseconds)
//    leaves that lock held for every other process, as a crashed kernel would.
//  - The file must not be written or truncated by other means while mapped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "xbpf/error.hpp"
#include "xbpf/map.hpp"

namespace xbpf {

struct SharedMapOptions {
    // Where the map's file is created, without a name (O_TMPFILE); it disappears with the last
    // process using it unless pinned. A pin names the file with a hard link, which cannot cross
    // file systems: pass a directory on the file system of the paths the map will be pinned at
    // (the pin directory itself will do). Empty: /dev/shm.
    std::filesystem::path directory;
    // Permission bits of the file, and so of its pins (0600, like Linux's pinned objects).
    uint32_t mode = 0600;
    // Allocate the whole file now even for maps that fill lazily (BPF_F_NO_PREALLOC hash maps,
    // LPM tries), so that running out of room in the file system fails here rather than as a
    // SIGBUS when a program first touches a new page. Preallocated maps are always reserved.
    bool reserve_all = false;
};

// Whether maps of `type` can live in shared memory.
bool shareable_map_type(MapType type);

// The functions below report failures as Errors; `error_number`, if given, also receives the
// positive errno Linux's bpf(2) would fail with (0 on success).

// Creates a map, as create_map() does, in a new shareable file. Errnos: the spec's
// (check_map_spec), EINVAL for a type that cannot be shared, the file system's (ENOENT for a
// missing directory, EOPNOTSUPP without O_TMPFILE, ENOSPC when the map does not fit), ENOMEM.
Result<std::shared_ptr<Map>> create_shared_map(const MapSpec& spec,
                                               const SharedMapOptions& options = {},
                                               int* error_number = nullptr);

// Whether `map` lives in a shared map file (made by create_shared_map or opened again).
bool is_shared_map(const Map& map);

// Gives the map's file the name `path` (BPF_OBJ_PIN): a hard link, so the map outlives this
// process and others can open it. A map may be pinned at several paths. Fails with EEXIST if
// `path` exists, ENOENT if its directory does not, EINVAL if the map is not shared, EXDEV if
// `path` is on another file system than the map's file (SharedMapOptions::directory), ENOENT
// if every name the file had was removed (Linux could pin it again; a file cannot be linked
// back once it had names and lost them all).
Status pin_map(const Map& map, const std::filesystem::path& path, int* error_number = nullptr);

// Attaches a new Map to the storage of the map file at `path` (BPF_OBJ_GET), without changing
// it. The file is checked first (magic, format version, size, page size, spec, and for per-CPU
// maps nr_cpus() against the slots it was made for); the Error says what does not match.
Result<std::shared_ptr<Map>> open_pinned_map(const std::filesystem::path& path,
                                             int* error_number = nullptr);

// The same for a map file already open as `fd` (it is not consumed: the map keeps a duplicate).
Result<std::shared_ptr<Map>> open_shared_map(int fd, int* error_number = nullptr);

}  // namespace xbpf
