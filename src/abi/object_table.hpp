// The process's bpf objects by the file behind their descriptors.
//
// Each object owns one private descriptor (its anchor) on a file that identifies it — a memfd,
// or the file holding a map's memory. Descriptors handed to the caller are duplicates of the
// anchor (or of descriptors the caller made from them with dup, fork, SCM_RIGHTS...), and are
// recognised by the file's device and inode. An object stays alive while any descriptor other
// than its anchor refers to its file, while it is pinned, or while another object holds it (a
// program its maps, a link its program); sweep() finds out which are still referred to by
// scanning /proc/self/fd, so nothing needs to intercept close().
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "abi/objects.hpp"

namespace xbpf::abi {

class ObjectTable {
  public:
    static ObjectTable& instance();

    // Registers `object` with `file` (an open descriptor, which the table then owns as the
    // anchor) and returns a new descriptor (close-on-exec) for the caller, or -errno.
    int install(std::shared_ptr<AbiObject> object, int file);
    // The object `fd` refers to: -EBADF if fd is not open, -EINVAL if it is not a bpf object
    // (or not of `kind`, when given).
    std::pair<std::shared_ptr<AbiObject>, int> get(int fd,
                                                   std::optional<ObjectKind> kind = {}) const;
    template <typename T>
    std::pair<std::shared_ptr<T>, int> get_as(int fd, ObjectKind kind) const {
        auto [object, err] = get(fd, kind);
        return {std::static_pointer_cast<T>(object), err};
    }
    // A new descriptor for a live object (BPF_*_GET_FD_BY_ID, BPF_OBJ_GET), or -errno.
    int open(const AbiObject& object);
    // The object with this id, or nullptr (-ENOENT for GET_FD_BY_ID).
    std::shared_ptr<AbiObject> find(ObjectKind kind, uint32_t id) const;
    // The smallest id of `kind` greater than `id`, or 0 when none.
    uint32_t next_id(ObjectKind kind, uint32_t id) const;
    // The object a map update names by descriptor (prog arrays, maps of maps).
    std::shared_ptr<AbiObject> find_by_fd(int fd) const { return get(fd).first; }

    // Keeps an object alive while a pin refers to it; `still_pinned` is asked at each sweep.
    void hold(const AbiObject& object, std::function<bool()> still_pinned);

    // Releases objects nothing refers to any more (see above).
    void sweep();

  private:
    struct Key {
        dev_t dev;
        ino_t ino;
        auto operator<=>(const Key&) const = default;
    };
    struct Entry {
        std::shared_ptr<AbiObject> strong;  // while referred to from outside
        std::weak_ptr<AbiObject> weak;      // while another object holds it
        int anchor = -1;
        ObjectKind kind;
        uint32_t id = 0;
        std::vector<std::function<bool()>> pins;
    };
    static std::optional<Key> key_of(int fd, int* err);
    const Entry* entry_of(int fd, int* err) const;

    mutable std::mutex mutex_;
    std::map<Key, Entry> entries_;
    std::map<std::pair<ObjectKind, uint32_t>, Key> by_id_;
};

}  // namespace xbpf::abi
