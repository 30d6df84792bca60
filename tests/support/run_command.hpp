// Runs the xbpf command line (or another program of the build) as a child process, for tests of
// its behaviour from outside.
#pragma once

#include <string>
#include <vector>

namespace xbpf::test {

struct CommandResult {
    int exit_code = -1;  // -1: did not exit normally (crashed)
    std::string out;
    std::string err;
};

// Runs build/xbpf with the arguments, feeding `input` on stdin.
CommandResult run_xbpf(const std::vector<std::string>& args, const std::string& input = "");

// Runs the program at `binary` (a path) with the arguments, feeding `input` on stdin.
CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          const std::string& input = "");

// A fresh temporary directory, removed when the object goes away.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    // Writes a file in the directory and returns its path.
    std::string write(const std::string& name, const std::string& contents) const;

  private:
    std::string dir_;
};

}  // namespace xbpf::test
