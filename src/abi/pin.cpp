// BPF_OBJ_PIN and BPF_OBJ_GET in the pin namespace (a directory standing for bpffs).
//
// A pin is a file holding a description of the object (JSON): what another process needs to
// rebuild it. Within the pinning process the pin also keeps the object itself alive, and
// BPF_OBJ_GET there returns the same object; another process rebuilds a program from its
// instructions (verified again) and reaches maps through their shared memory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "abi/commands.hpp"
#include "abi/object_table.hpp"
#include "abi/pin_store.hpp"
#include "abi/prog_common.hpp"
#include "xbpf/bpf_abi.hpp"
#include "xbpf/map_shared.hpp"

namespace xbpf::abi {
namespace {

struct PinKey {
    dev_t dev;
    ino_t ino;
    auto operator<=>(const PinKey&) const = default;
};

std::optional<PinKey> pin_key(const std::filesystem::path& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return std::nullopt;
    return PinKey{st.st_dev, st.st_ino};
}

// Objects pinned or fetched by this process, by pin file.
std::mutex g_mutex;
std::map<PinKey, std::weak_ptr<AbiObject>> g_pinned;

std::optional<std::filesystem::path> caller_path(uint64_t pathname) {
    if (pathname == 0) return std::nullopt;
    return pin_path(user_ptr<const char>(pathname));
}

void remember(const PinKey& key, const std::shared_ptr<AbiObject>& object,
              const std::filesystem::path& path) {
    {
        std::lock_guard lock(g_mutex);
        g_pinned[key] = object;
    }
    // The pin keeps the object alive while the file it made is there.
    ObjectTable::instance().hold(*object, [path, key] { return pin_key(path) == key; });
}

// Writes the pin file of an object that is not a shared map.
long write_description(const AbiObject& object, const std::filesystem::path& path) {
    auto description = describe_for_pin(object);
    if (!description) return description.error();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    const std::string text = description.value().dump();
    const bool written = write(fd, text.data(), text.size()) == ssize_t(text.size());
    close(fd);
    if (!written) {
        unlink(path.c_str());
        return -EIO;
    }
    return 0;
}

// Rebuilds the object a pin file describes (its descriptor for the caller in `fd`), or -errno.
long rebuild(const std::filesystem::path& path, const PinKey& key,
             std::shared_ptr<AbiObject>* out) {
    // A shared map file, pinned by BPF_OBJ_PIN of a map?
    long map_err = 0;
    if (auto map = map_from_file(path, &map_err)) {
        remember(key, map, path);
        if (out != nullptr) *out = map;
        return ObjectTable::instance().open(*map);
    }
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto description = nlohmann::json::parse(text.str(), nullptr, false);
    if (description.is_discarded()) return -EINVAL;  // not a pin xbpf made
    auto rebuilt = rebuild_from_pin(description, path);
    if (!rebuilt.object) return rebuilt.error;
    remember(key, rebuilt.object, path);
    if (out != nullptr) *out = rebuilt.object;
    return rebuilt.fd;
}

long obj_get_path(const std::filesystem::path& path, const PinKey& key) {
    auto& table = ObjectTable::instance();
    {
        std::lock_guard lock(g_mutex);
        auto it = g_pinned.find(key);
        if (it != g_pinned.end()) {
            if (auto object = it->second.lock()) return table.open(*object);
            g_pinned.erase(it);
        }
    }
    return rebuild(path, key, nullptr);
}

}  // namespace

std::filesystem::path pin_root() {
    if (const char* root = std::getenv("XBPF_PIN_ROOT"); root != nullptr && *root != '\0') {
        return root;
    }
    if (geteuid() == 0) return "/run/xbpf";
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && *runtime) {
        return std::filesystem::path(runtime) / "xbpf";
    }
    return "/tmp/xbpf-" + std::to_string(geteuid());
}

std::optional<std::filesystem::path> pin_path(const std::filesystem::path& path) {
    const std::filesystem::path root = pin_root();
    const auto normal = path.lexically_normal();
    auto inside = [&normal](const std::filesystem::path& base) -> std::optional<std::string> {
        const auto rel = normal.lexically_relative(base);
        if (rel.empty() || *rel.begin() == "..") return std::nullopt;
        return rel == "." ? std::string() : rel.string();
    };
    if (auto rel = inside("/sys/fs/bpf")) return rel->empty() ? root : root / *rel;
    if (inside(root.lexically_normal())) return normal;
    return std::nullopt;
}

void adopt_pinned_objects() {
    static std::mutex mutex;
    static std::set<PinKey> unusable;  // pins that could not be rebuilt: not tried again
    std::lock_guard adopt(mutex);
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(pin_root(), ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        // Hidden entries (the maps of pinned programs) are not objects of their own.
        if (it->path().filename().string().starts_with(".")) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(ec)) continue;
        auto key = pin_key(it->path());
        if (!key || unusable.count(*key) != 0) continue;
        {
            std::lock_guard lock(g_mutex);
            auto known = g_pinned.find(*key);
            if (known != g_pinned.end() && !known->second.expired()) continue;
        }
        const long fd = rebuild(it->path(), *key, nullptr);
        if (fd < 0) {
            unusable.insert(*key);
        } else {
            close(static_cast<int>(fd));  // the pin holds the object
        }
    }
}

long obj_pin(const Call& call) {
    if (call.attr.file_flags != 0) return -EINVAL;
    if (call.attr.pathname == 0) return -EFAULT;
    auto [object, err] = ObjectTable::instance().get(static_cast<int>(call.attr.bpf_fd));
    if (err != 0) return err;
    auto path = caller_path(call.attr.pathname);
    if (!path) return -EPERM;  // not on bpffs
    std::error_code ec;
    std::filesystem::create_directories(pin_root(), ec);
    if (object->kind == ObjectKind::Map &&
        is_shared_map(*static_cast<const MapObject&>(*object).map)) {
        // The pin is the map's own file, which other processes open.
        int error_number = 0;
        if (!pin_map(*static_cast<const MapObject&>(*object).map, *path, &error_number)) {
            return -(error_number != 0 ? error_number : EINVAL);
        }
    } else if (long err = write_description(*object, *path); err != 0) {
        return err;
    }
    auto key = pin_key(*path);
    if (!key) return -errno;
    remember(*key, object, *path);
    return 0;
}

long obj_get(const Call& call) {
    if ((call.attr.file_flags & ~uint32_t(BPF_F_RDONLY | BPF_F_WRONLY)) != 0) return -EINVAL;
    if (call.attr.pathname == 0) return -EFAULT;
    auto path = caller_path(call.attr.pathname);
    if (!path) return -EPERM;
    auto key = pin_key(*path);
    if (!key) return -errno;
    return obj_get_path(*path, *key);
}

}  // namespace xbpf::abi
