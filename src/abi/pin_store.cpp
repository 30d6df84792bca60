#include "abi/pin_store.hpp"

#include <cerrno>

#include "abi/prog_common.hpp"
#include "xbpf/linux_names.hpp"

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

PinDescription describe_map(const MapObject& m) {
    (void)m;
    // Maps are shared between processes through their memory: not available yet.
    return PinDescription{{}, -EOPNOTSUPP};
}

PinDescription describe_program(const ProgObject& p) {
    nlohmann::json maps = nlohmann::json::array();
    for (const auto& m : p.maps) {
        auto map = describe_map(*m);
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
    auto object = std::make_shared<ProgObject>();
    object->prog_type = j.value("prog_type", 0u);
    object->expected_attach_type = j.value("expected_attach_type", 0u);
    object->name = j.value("name", std::string());
    object->license = j.value("license", std::string());
    object->gpl_compatible = j.value("gpl_compatible", false);
    auto bytes = unhex(j.value("insns", std::string()));
    if (!bytes || bytes->empty() || bytes->size() % 8 != 0) return {nullptr, -1, -EINVAL};
    if (j.contains("maps") && !j["maps"].empty()) return {nullptr, -1, -EOPNOTSUPP};
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

PinDescription describe_for_pin(const AbiObject& object) {
    switch (object.kind) {
        case ObjectKind::Program: return describe_program(static_cast<const ProgObject&>(object));
        case ObjectKind::Map: return describe_map(static_cast<const MapObject&>(object));
        default: {
            // Links and BTF objects are pinned for this process only.
            nlohmann::json j;
            j["xbpf_pin"] = kPinFormat;
            j["kind"] = kind_name(object.kind);
            return PinDescription{std::move(j), 0};
        }
    }
}

Rebuilt rebuild_from_pin(const nlohmann::json& description, const std::filesystem::path&) {
    if (!description.is_object() || description.value("xbpf_pin", 0) != kPinFormat) {
        return {nullptr, -1, -EINVAL};
    }
    const std::string kind = description.value("kind", std::string());
    if (kind == "program") return rebuild_program(description);
    return {nullptr, -1, -EOPNOTSUPP};
}

}  // namespace xbpf::abi
