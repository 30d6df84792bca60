#include "abi/object_table.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <set>

namespace xbpf::abi {

const char* kind_name(ObjectKind kind) {
    switch (kind) {
        case ObjectKind::Map: return "map";
        case ObjectKind::Program: return "program";
        case ObjectKind::Link: return "link";
        case ObjectKind::Btf: return "btf";
    }
    return "object";
}

ObjectTable& ObjectTable::instance() {
    // Never destroyed: descriptors and pins may be used from exit handlers.
    static auto* table = new ObjectTable();
    return *table;
}

std::optional<ObjectTable::Key> ObjectTable::key_of(int fd, int* err) {
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) {
        *err = -EBADF;
        return std::nullopt;
    }
    return Key{st.st_dev, st.st_ino};
}

const ObjectTable::Entry* ObjectTable::entry_of(int fd, int* err) const {
    auto key = key_of(fd, err);
    if (!key) return nullptr;
    auto it = entries_.find(*key);
    if (it == entries_.end()) {
        *err = -EINVAL;
        return nullptr;
    }
    return &it->second;
}

int ObjectTable::install(std::shared_ptr<AbiObject> object, int file) {
    sweep();
    int err = 0;
    auto key = key_of(file, &err);
    if (!key) return err;
    // The anchor must not be inherited by programs the process executes.
    fcntl(file, F_SETFD, FD_CLOEXEC);
    const int fd = fcntl(file, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        const int e = errno;
        close(file);
        return -e;
    }
    std::lock_guard lock(mutex_);
    Entry entry;
    entry.kind = object->kind;
    entry.id = object->id();
    entry.weak = object;
    entry.strong = std::move(object);
    entry.anchor = file;
    by_id_[{entry.kind, entry.id}] = *key;
    entries_[*key] = std::move(entry);
    return fd;
}

std::pair<std::shared_ptr<AbiObject>, int> ObjectTable::get(int fd,
                                                            std::optional<ObjectKind> kind) const {
    std::lock_guard lock(mutex_);
    int err = 0;
    const Entry* entry = entry_of(fd, &err);
    if (entry == nullptr) return {nullptr, err};
    auto object = entry->weak.lock();
    if (!object || (kind && entry->kind != *kind)) return {nullptr, -EINVAL};
    return {std::move(object), 0};
}

int ObjectTable::open(const AbiObject& object) {
    std::lock_guard lock(mutex_);
    auto id = by_id_.find({object.kind, object.id()});
    if (id == by_id_.end()) return -ENOENT;
    Entry& entry = entries_.at(id->second);
    auto alive = entry.weak.lock();
    if (!alive) return -ENOENT;
    const int fd = fcntl(entry.anchor, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return -errno;
    entry.strong = std::move(alive);
    return fd;
}

std::shared_ptr<AbiObject> ObjectTable::find(ObjectKind kind, uint32_t id) const {
    std::lock_guard lock(mutex_);
    auto it = by_id_.find({kind, id});
    if (it == by_id_.end()) return nullptr;
    return entries_.at(it->second).weak.lock();
}

uint32_t ObjectTable::next_id(ObjectKind kind, uint32_t id) const {
    std::lock_guard lock(mutex_);
    for (auto it = by_id_.upper_bound({kind, id}); it != by_id_.end() && it->first.first == kind;
         ++it) {
        if (!entries_.at(it->second).weak.expired()) return it->first.second;
    }
    return 0;
}

void ObjectTable::hold(const AbiObject& object, std::function<bool()> still_pinned) {
    std::lock_guard lock(mutex_);
    auto id = by_id_.find({object.kind, object.id()});
    if (id == by_id_.end()) return;
    Entry& entry = entries_.at(id->second);
    entry.pins.push_back(std::move(still_pinned));
    if (!entry.strong) entry.strong = entry.weak.lock();
}

void ObjectTable::sweep() {
    // Files the process's descriptors refer to, the objects' own (anchors, storage) aside.
    std::set<Key> referred;
    std::set<int> anchors;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [key, entry] : entries_) {
            anchors.insert(entry.anchor);
            if (auto object = entry.weak.lock(); object && object->own_fd() >= 0) {
                anchors.insert(object->own_fd());
            }
        }
    }
    if (DIR* dir = opendir("/proc/self/fd")) {
        const int own = dirfd(dir);
        while (dirent* d = readdir(dir)) {
            char* end = nullptr;
            const long fd = std::strtol(d->d_name, &end, 10);
            if (end == d->d_name || *end != '\0' || fd == own || anchors.count(int(fd)) != 0) {
                continue;
            }
            struct stat st {};
            if (fstat(int(fd), &st) == 0) referred.insert(Key{st.st_dev, st.st_ino});
        }
        closedir(dir);
    } else {
        return;  // without /proc nothing can be proven unreferenced
    }

    // Dropping a strong reference can release other objects (a program its maps), so repeat
    // until nothing changes. Destructors of runtime objects never come back to the table.
    std::vector<int> closing;
    {
        std::lock_guard lock(mutex_);
        bool changed = true;
        while (changed) {
            changed = false;
            for (auto it = entries_.begin(); it != entries_.end();) {
                Entry& entry = it->second;
                std::erase_if(entry.pins, [](const auto& pinned) { return !pinned(); });
                if (entry.strong && entry.pins.empty() && referred.count(it->first) == 0) {
                    entry.strong.reset();
                    changed = true;
                }
                if (!entry.strong && entry.weak.expired()) {
                    closing.push_back(entry.anchor);
                    by_id_.erase({entry.kind, entry.id});
                    it = entries_.erase(it);
                    changed = true;
                } else {
                    ++it;
                }
            }
        }
    }
    for (int fd : closing)
        close(fd);
}

}  // namespace xbpf::abi
