// Shared pieces of the command line: subcommand registration, exit codes, output and input.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "xbpf/error.hpp"
#include "xbpf/insn.hpp"

namespace xbpf::cli {

// Exit codes every subcommand uses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // verification rejected, or a program failed or faulted
inline constexpr int kExitUsage = 2;   // bad arguments or unusable input

// A subcommand: its CLI11 app and what to do when it is chosen.
struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

// -j / -p, shared by every subcommand.
struct OutputFlags {
    bool json = false;
    bool pretty = false;
    void add_to(CLI::App& app);
    // Prints a JSON document per the flags (pretty implies JSON).
    void print(const nlohmann::json& doc) const;
    bool wants_json() const { return json || pretty; }
};

// Prints "xbpf: <error>" on stderr and returns the exit code: kExitFailed for a rejected or
// faulting program, kExitUsage otherwise.
int report(const Error& error);
// The same with an exit code the caller chooses (the bench protocol exits 1 on every failure).
int report(const Error& error, int exit_code);

Result<std::vector<uint8_t>> read_file(const std::string& path);
Status write_file(const std::string& path, std::span<const uint8_t> bytes);

// A program given on the command line: assembly (.s, .asm) or raw instruction bytes (anything
// else). ELF objects are read through the loader by the commands that take them.
Result<std::vector<Insn>> read_raw_program(const std::string& path);

// Parses hex bytes, ignoring whitespace ("00 01  ff", "0001ff").
Result<std::vector<uint8_t>> parse_hex(std::string_view text);
std::string to_hex(std::span<const uint8_t> bytes);

// Subcommands register a factory at start-up; main() builds them in name order.
using CommandFactory = Command (*)(CLI::App& app);
struct CommandRegistration {
    CommandRegistration(const char* name, CommandFactory factory);
};
std::vector<std::pair<std::string, CommandFactory>>& command_factories();

#define XBPF_REGISTER_COMMAND(name, factory)                                \
    static const ::xbpf::cli::CommandRegistration xbpf_register_##factory { \
        name, factory                                                       \
    }

}  // namespace xbpf::cli
