// Helpers shared by the shared-map tests: a scratch directory for map files and pins, specs, and
// running a function in a forked child process.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "xbpf/map.hpp"
#include "xbpf/map_shared.hpp"

namespace xbpf::test {

// nr_cpus of every shared-map test (set before any map exists; see cpu_setup.cpp).
inline constexpr uint32_t kTestCpus = 4;

// A fresh directory for map files and pins, removed afterwards: in /dev/shm (tmpfs, where maps
// normally live) when it exists, else the temporary directory.
class ScratchDir {
  public:
    ScratchDir() {
        const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                               ? std::filesystem::path("/dev/shm")
                                               : std::filesystem::temp_directory_path();
        std::string pattern = (base / "xbpf-shared-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    SharedMapOptions options() const {
        SharedMapOptions o;
        o.directory = path_;
        return o;
    }

  private:
    std::filesystem::path path_;
};

inline MapSpec spec_of(MapType type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                       uint32_t flags = 0, std::string name = "shared") {
    MapSpec s;
    s.name = std::move(name);
    s.type = type;
    s.key_size = key_size;
    s.value_size = value_size;
    s.max_entries = max_entries;
    s.flags = flags;
    return s;
}

inline std::shared_ptr<Map> make_shared(const MapSpec& spec, const ScratchDir& dir) {
    auto map = create_shared_map(spec, dir.options());
    EXPECT_TRUE(map.ok()) << (map.ok() ? "" : map.error().to_string());
    return map.ok() ? *map : nullptr;
}

inline std::shared_ptr<Map> open_pinned(const std::filesystem::path& path) {
    auto map = open_pinned_map(path);
    EXPECT_TRUE(map.ok()) << (map.ok() ? "" : map.error().to_string());
    return map.ok() ? *map : nullptr;
}

// Runs `body` in a forked child and returns its exit code (128 + signal if it was killed). The
// child reports failures through its exit code only: no GoogleTest assertions there.
inline int in_child(const std::function<int()>& body) {
    const pid_t pid = fork();
    if (pid == 0) _exit(body());
    if (pid < 0) return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

// Starts `body` in a forked child without waiting; wait_child() collects its exit code.
inline pid_t start_child(const std::function<int()>& body) {
    const pid_t pid = fork();
    if (pid == 0) _exit(body());
    return pid;
}

inline int wait_child(pid_t pid) {
    int status = 0;
    if (pid <= 0 || waitpid(pid, &status, 0) != pid) return -1;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

template <typename T>
T read_as(const void* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

}  // namespace xbpf::test
