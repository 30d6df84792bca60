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

// Prints "xbpf: <error>" on stderr and returns the exit code.
int report(const Error& error, int exit_code = kExitUsage);

Result<std::vector<uint8_t>> read_file(const std::string& path);
Status write_file(const std::string& path, std::span<const uint8_t> bytes);

// A program given on the command line: assembly (.s, .asm) or raw instruction bytes (anything
// else). ELF objects are read through the loader by the commands that take them.
Result<std::vector<Insn>> read_raw_program(const std::string& path);

// Parses hex bytes, ignoring whitespace ("00 01  ff", "0001ff").
Result<std::vector<uint8_t>> parse_hex(std::string_view text);
std::string to_hex(std::span<const uint8_t> bytes);

// Subcommands.
Command add_asm(CLI::App& app);
Command add_disasm(CLI::App& app);
Command add_test_run(CLI::App& app);
Command add_bench(CLI::App& app);
Command add_conformance_plugin(CLI::App& app);

}  // namespace xbpf::cli
