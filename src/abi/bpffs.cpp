// bpffs as tools see it: /sys/fs/bpf stands for the pin namespace's directory.
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>

#include "xbpf/bpf_abi.hpp"

namespace xbpf::abi {

std::optional<int> statfs_bpffs(const char* path, struct statfs* buf) {
    // Only /sys/fs/bpf paths: the pin root itself is an ordinary directory (and the shims'
    // statfs reaches the real one through here).
    auto target = redirect_path(path);
    if (!target) return std::nullopt;
    std::error_code ec;
    if (*target == pin_root()) std::filesystem::create_directories(*target, ec);
    if (::statfs(target->c_str(), buf) != 0) return -1;
    buf->f_type = BPF_FS_MAGIC;
    return 0;
}

bool is_bpffs_mount_target(const char* target, const char* fstype) {
    if (target == nullptr) return false;
    if (fstype != nullptr && std::strcmp(fstype, "bpf") != 0) return false;
    if (!redirect_path(target)) return false;
    std::error_code ec;
    std::filesystem::create_directories(pin_root(), ec);
    return true;
}

std::optional<std::string> redirect_path(const char* path) {
    if (path == nullptr || std::strncmp(path, "/sys/fs/bpf", 11) != 0) return std::nullopt;
    auto target = pin_path(path);
    if (!target) return std::nullopt;
    return target->string();
}

}  // namespace xbpf::abi
