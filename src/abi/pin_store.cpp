#include "abi/pin_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "abi/commands.hpp"
#include "abi/object_table.hpp"
#include "abi/prog_common.hpp"
#include "xbpf/bpf_abi.hpp"
#include "xbpf/linux_names.hpp"
#include "xbpf/map_shared.hpp"

namespace xbpf::abi {
namespace {

constexpr int kPinFormat = 1;

std::string hex(std::span<const uint8_t> bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

std::optional<std::vector<uint8_t>> unhex(const std::string& text) {
    if (text.size() % 2 != 0) return std::nullopt;
    std::vector<uint8_t> out;
    for (size_t i = 0; i < text.size(); i += 2) {
        auto nibble = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            return -1;
        };
        const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<uint8_t>(hi * 16 + lo));
    }
    return out;
}

// The map of a pinned program lives in the pin namespace under this hidden directory, linked by
// its file's inode, so another process can open it when it rebuilds the program.
constexpr const char* kProgramMaps = ".maps";

// Pins of objects other processes cannot have (maps holding this process's programs or maps,
// links, BTF, programs using such maps) keep them for this process only.
PinDescription process_local(const char* kind) {
    return PinDescription{
        nlohmann::json{{"xbpf_pin", kPinFormat}, {"kind", kind}, {"process_local", true}}, 0};
}

PinDescription describe_map(const MapObject& m) {
    if (!is_shared_map(*m.map)) return PinDescription{{}, -EOPNOTSUPP};
    struct stat st {};
    if (fstat(m.map->storage()->fd(), &st) != 0) return PinDescription{{}, -errno};
    const std::string name = fmt::format("{}/{}", kProgramMaps, st.st_ino);
    std::error_code ec;
    std::filesystem::create_directories(pin_root() / kProgramMaps, ec);
    int err = 0;
    if (!pin_map(*m.map, pin_root() / name, &err) && err != EEXIST) {
        return PinDescription{{}, -err};
    }
    return PinDescription{nlohmann::json{{"file", name}}, 0};
}

PinDescription describe_program(const ProgObject& p) {
    nlohmann::json maps = nlohmann::json::array();
    for (const auto& m : p.maps) {
        auto map = describe_map(*m);
        if (map.err == -EOPNOTSUPP) return process_local("program");  // e.g. a prog_array
        if (!map) return map;
        maps.push_back(map.json);
    }
    nlohmann::json j;
    j["xbpf_pin"] = kPinFormat;
    j["kind"] = "program";
    j["prog_type"] = p.prog_type;
    j["expected_attach_type"] = p.expected_attach_type;
    j["name"] = p.name;
    j["license"] = p.license;
    j["gpl_compatible"] = p.gpl_compatible;
    j["insns"] = hex({reinterpret_cast<const uint8_t*>(p.given.data()), p.given.size() * 8});
    j["maps"] = std::move(maps);
    return PinDescription{std::move(j), 0};
}

Rebuilt rebuild_program(const nlohmann::json& j) {
    // Programs use their maps by index: the order of "maps" is that of ProgObject::maps.
    auto object = std::make_shared<ProgObject>();
    object->prog_type = j.value("prog_type", 0u);
    object->expected_attach_type = j.value("expected_attach_type", 0u);
    object->name = j.value("name", std::string());
    object->license = j.value("license", std::string());
    object->gpl_compatible = j.value("gpl_compatible", false);
    auto bytes = unhex(j.value("insns", std::string()));
    if (!bytes || bytes->empty() || bytes->size() % 8 != 0) return {nullptr, -1, -EINVAL};
    if (j.contains("maps")) {
        for (const auto& m : j["maps"]) {
            long err = 0;
            auto map = map_from_file(pin_root() / m.value("file", std::string()), &err);
            if (!map) return {nullptr, -1, err};
            object->maps.push_back(std::move(map));
        }
    }
    ProgramSpec spec;
    spec.name = object->name;
    spec.prog_type = static_cast<ProgType>(object->prog_type);
    spec.expected_attach_type = static_cast<AttachType>(object->expected_attach_type);
    spec.insns.resize(bytes->size() / 8);
    std::memcpy(spec.insns.data(), bytes->data(), bytes->size());
    spec.own_insns = static_cast<uint32_t>(spec.insns.size());
    if (!build_program(*object, std::move(spec), false, nullptr)) return {nullptr, -1, -EINVAL};
    const long fd = install_program(object);
    if (fd < 0) return {nullptr, -1, fd};
    return {object, fd, 0};
}

}  // namespace

std::shared_ptr<MapObject> map_from_file(const std::filesystem::path& path, long* err) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        *err = -errno;
        return nullptr;
    }
    auto& table = ObjectTable::instance();
    // Already open in this process: the same object.
    if (auto [known, unknown] = table.get_as<MapObject>(fd, ObjectKind::Map); known) {
        close(fd);
        return known;
    }
    int error_number = 0;
    auto map = open_shared_map(fd, &error_number);
    close(fd);
    if (!map) {
        *err = -(error_number != 0 ? error_number : EINVAL);
        return nullptr;
    }
    auto object = std::make_shared<MapObject>();
    object->map = std::move(*map);
    const long descriptor = install_map(object);
    if (descriptor < 0) {
        *err = descriptor;
        return nullptr;
    }
    close(static_cast<int>(descriptor));  // whoever asked holds the object
    return object;
}

PinDescription describe_for_pin(const AbiObject& object) {
    switch (object.kind) {
        case ObjectKind::Program: return describe_program(static_cast<const ProgObject&>(object));
        default: return process_local(kind_name(object.kind));
    }
}

Rebuilt rebuild_from_pin(const nlohmann::json& description, const std::filesystem::path&) {
    // (Maps are pinned as their own shared file; see map_from_file.)
    if (!description.is_object() || description.value("xbpf_pin", 0) != kPinFormat) {
        return {nullptr, -1, -EINVAL};
    }
    if (description.value("process_local", false)) return {nullptr, -1, -EOPNOTSUPP};
    const std::string kind = description.value("kind", std::string());
    if (kind == "program") return rebuild_program(description);
    return {nullptr, -1, -EOPNOTSUPP};
}

}  // namespace xbpf::abi
