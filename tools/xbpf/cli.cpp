#include "cli.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "xbpf/isa.hpp"

namespace xbpf::cli {

CommandRegistration::CommandRegistration(const char* name, CommandFactory factory) {
    command_factories().emplace_back(name, factory);
}

std::vector<std::pair<std::string, CommandFactory>>& command_factories() {
    static std::vector<std::pair<std::string, CommandFactory>> factories;
    return factories;
}

void OutputFlags::add_to(CLI::App& app) {
    app.add_flag("-j,--json", json, "Print JSON");
    app.add_flag("-p,--pretty", pretty, "Print indented JSON (implies -j)");
}

void OutputFlags::print(const nlohmann::json& doc) const {
    std::cout << (pretty ? doc.dump(2) : doc.dump()) << '\n';
}

int report(const Error& error) {
    const bool program_failed =
        error.kind() == ErrorKind::Rejected || error.kind() == ErrorKind::Fault;
    return report(error, program_failed ? kExitFailed : kExitUsage);
}

int report(const Error& error, int exit_code) {
    std::cerr << "xbpf: " << error.to_string() << '\n';
    return exit_code;
}

Result<std::vector<uint8_t>> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error(fmt::format("cannot open: {}", std::strerror(errno))).in(path);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (in.bad()) return Error(fmt::format("cannot read: {}", std::strerror(errno))).in(path);
    return bytes;
}

Status write_file(const std::string& path, std::span<const uint8_t> bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Error(fmt::format("cannot create: {}", std::strerror(errno))).in(path);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return Error(fmt::format("cannot write: {}", std::strerror(errno))).in(path);
    return {};
}

Result<std::vector<Insn>> read_raw_program(const std::string& path) {
    auto bytes = read_file(path);
    if (!bytes) return std::move(bytes).error();
    const bool assembly = path.ends_with(".s") || path.ends_with(".asm");
    if (assembly) {
        auto program =
            assemble(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
        if (!program) return std::move(program).error().in(path);
        return program;
    }
    if (bytes->size() >= 4 && std::memcmp(bytes->data(),
                                          "\x7f"
                                          "ELF",
                                          4) == 0) {
        return Error("this command takes raw instructions or assembly, not an ELF object").in(path);
    }
    auto program = decode(*bytes);
    if (!program) return std::move(program).error().in(path);
    return program;
}

Result<std::vector<uint8_t>> parse_hex(std::string_view text) {
    std::vector<uint8_t> out;
    int high = -1;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (std::isspace(static_cast<unsigned char>(c))) continue;
        int v;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
        } else {
            return Error(fmt::format("'{}' at position {} is not a hex digit", c, i));
        }
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<uint8_t>(high << 4 | v));
            high = -1;
        }
    }
    if (high >= 0) return Error("odd number of hex digits: the last byte is incomplete");
    return out;
}

std::string to_hex(std::span<const uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes)
        out += fmt::format("{:02x}", b);
    return out;
}

}  // namespace xbpf::cli
