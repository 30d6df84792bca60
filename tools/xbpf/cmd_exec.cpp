// xbpf exec: runs an unmodified program (bpftool, a libbpf tool) with its bpf() calls served by
// xbpf: LD_PRELOAD gets libxbpf-preload.so (docs/bpf-abi.md), XBPF_PIN_ROOT the pin namespace
// that stands for /sys/fs/bpf. The command replaces xbpf (exec), so its exit code is the
// command's own.
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli.hpp"

namespace xbpf::cli {
namespace {

struct Args {
    std::string pin_root;
    std::string preload;
    std::vector<std::string> command;
};

// libxbpf-preload.so beside the xbpf executable (the build tree), or in ../lib (an install).
std::filesystem::path default_preload() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "libxbpf-preload.so";
    for (const auto& candidate : {exe.parent_path() / "libxbpf-preload.so",
                                  exe.parent_path() / "../lib/libxbpf-preload.so"}) {
        if (std::filesystem::exists(candidate)) return std::filesystem::canonical(candidate);
    }
    return exe.parent_path() / "libxbpf-preload.so";
}

int run(const Args& args, std::vector<std::string> command) {
    if (command.empty()) return report(Error("no command given (xbpf exec -- COMMAND ARGS...)"));
    const std::filesystem::path preload =
        args.preload.empty() ? default_preload() : std::filesystem::path(args.preload);
    if (!std::filesystem::exists(preload)) {
        return report(
            Error(fmt::format("the preload library {} does not exist", preload.string())));
    }
    std::string ld_preload = std::filesystem::absolute(preload).string();
    if (const char* existing = std::getenv("LD_PRELOAD"); existing != nullptr && *existing) {
        ld_preload += fmt::format(":{}", existing);
    }
    setenv("LD_PRELOAD", ld_preload.c_str(), 1);
    if (!args.pin_root.empty()) {
        std::error_code ec;
        const auto root = std::filesystem::absolute(args.pin_root);
        std::filesystem::create_directories(root, ec);
        if (ec) {
            return report(Error(
                fmt::format("cannot create the pin root {}: {}", root.string(), ec.message())));
        }
        setenv("XBPF_PIN_ROOT", root.c_str(), 1);
    }
    std::vector<char*> argv;
    for (auto& arg : command)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    return report(Error(fmt::format("cannot run {}: {}", command[0], std::strerror(errno))));
}

Command add_exec(CLI::App& app) {
    auto args = std::make_shared<Args>();
    CLI::App* sub = app.add_subcommand(
        "exec",
        "Run a command (bpftool, a libbpf tool) with its bpf() system calls served by xbpf "
        "(LD_PRELOAD); /sys/fs/bpf stands for the pin root");
    sub->add_option("--pin-root", args->pin_root,
                    "Directory of the pin namespace (default: $XBPF_PIN_ROOT, else /run/xbpf for "
                    "root, $XDG_RUNTIME_DIR/xbpf otherwise)");
    sub->add_option("--preload", args->preload,
                    "The preload library (default: libxbpf-preload.so beside xbpf)");
    sub->add_option("COMMAND", args->command, "The command and its arguments (after --)");
    // Everything after the options (or after --) is the command and its arguments.
    sub->prefix_command();
    return {sub, [args, sub]() -> int {
                auto command = args->command;
                for (auto& extra : sub->remaining())
                    command.push_back(extra);
                return run(*args, std::move(command));
            }};
}

}  // namespace

XBPF_REGISTER_COMMAND("exec", add_exec);

}  // namespace xbpf::cli
