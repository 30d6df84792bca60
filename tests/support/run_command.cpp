#include "support/run_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "support/shared_data.hpp"

namespace xbpf::test {

CommandResult run_xbpf(const std::vector<std::string>& args, const std::string& input) {
    return run_command((binary_dir() / "xbpf").string(), args, input);
}

CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          const std::string& input) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0 || pipe(err_pipe) != 0)
        throw std::runtime_error("pipe");
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
            close(fd);
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(binary.c_str()));
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(binary.c_str(), argv.data());
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    // Feed stdin and drain both outputs without deadlocking on full pipes.
    size_t written = 0;
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    if (input.empty()) {
        close(in_pipe[1]);
        in_pipe[1] = -1;
    }
    CommandResult result;
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        pollfd fds[3] = {
            {out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
        poll(fds, in_pipe[1] >= 0 ? 3 : 2, 10000);
        char buf[4096];
        if (out_open && (fds[0].revents & (POLLIN | POLLHUP))) {
            const ssize_t n = read(out_pipe[0], buf, sizeof buf);
            if (n <= 0)
                out_open = false;
            else
                result.out.append(buf, static_cast<size_t>(n));
        }
        if (err_open && (fds[1].revents & (POLLIN | POLLHUP))) {
            const ssize_t n = read(err_pipe[0], buf, sizeof buf);
            if (n <= 0)
                err_open = false;
            else
                result.err.append(buf, static_cast<size_t>(n));
        }
        if (in_pipe[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t n = write(in_pipe[1], input.data() + written, input.size() - written);
            if (n > 0) written += static_cast<size_t>(n);
            if (n < 0 || written == input.size()) {
                close(in_pipe[1]);
                in_pipe[1] = -1;
            }
        }
    }
    if (in_pipe[1] >= 0) close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xbpf-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& contents) const {
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << contents;
    return p;
}

}  // namespace xbpf::test
