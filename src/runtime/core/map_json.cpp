#include "xbpf/map_json.hpp"

#include <fmt/format.h>

#include <cstring>

namespace xbpf {
namespace {

nlohmann::json hex_bytes(const uint8_t* data, size_t size) {
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < size; ++i)
        out.push_back(fmt::format("{:#04x}", data[i]));
    return out;
}

Result<std::vector<uint8_t>> parse_bytes(const nlohmann::json& j, size_t expected,
                                         const char* what) {
    if (!j.is_array()) return Error(fmt::format("{} must be an array of bytes", what));
    if (j.size() != expected) {
        return Error(fmt::format("{} has {} bytes; the map's {} size is {}", what, j.size(), what,
                                 expected));
    }
    std::vector<uint8_t> out;
    out.reserve(expected);
    for (size_t i = 0; i < j.size(); ++i) {
        const auto& b = j[i];
        unsigned long v = 256;
        if (b.is_number_unsigned()) {
            v = b.get<unsigned long>();
        } else if (b.is_string()) {
            const std::string s = b.get<std::string>();
            char* end = nullptr;
            v = std::strtoul(s.c_str(), &end, 0);
            if (s.empty() || *end != '\0') v = 256;
        }
        if (v > 255) return Error(fmt::format("{} byte {} ({}) is not a byte", what, i, b.dump()));
        out.push_back(static_cast<uint8_t>(v));
    }
    return out;
}

}  // namespace

nlohmann::json dump_map_json(Map& map, const Btf* btf) {
    nlohmann::json entries = nlohmann::json::array();
    if (map.key_size() == 0) return entries;
    const bool percpu = map.is_percpu();
    const uint32_t value_size = map.value_size();
    const uint32_t stride = (value_size + 7) / 8 * 8;
    std::vector<uint8_t> key(map.key_size()), next(map.key_size()), value(map.host_value_size());
    const void* previous = nullptr;
    while (map.get_next_key(previous, next.data()) == 0) {
        key = next;
        previous = key.data();
        if (map.lookup_elem(key.data(), value.data()) != 0) continue;  // deleted meanwhile
        nlohmann::json entry;
        entry["key"] = hex_bytes(key.data(), key.size());
        if (percpu) {
            nlohmann::json values = nlohmann::json::array();
            for (uint32_t cpu = 0; cpu * stride < value.size(); ++cpu) {
                values.push_back(
                    {{"cpu", cpu}, {"value", hex_bytes(value.data() + cpu * stride, value_size)}});
            }
            entry["values"] = values;
        } else {
            entry["value"] = hex_bytes(value.data(), value.size());
        }
        const auto& spec = map.spec();
        if (btf != nullptr && spec.btf_key_type_id != 0 && spec.btf_value_type_id != 0 && !percpu) {
            auto k = btf->format_value(spec.btf_key_type_id, key);
            auto v = btf->format_value(spec.btf_value_type_id, value);
            if (k && v) entry["formatted"] = {{"key", *k}, {"value", *v}};
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

Status load_map_json(Map& map, const nlohmann::json& entries) {
    if (!entries.is_array())
        return Error("map contents must be a JSON array of {\"key\", \"value\"} entries");
    const uint32_t stride = (map.value_size() + 7) / 8 * 8;
    for (size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        auto where = fmt::format("entry {}", i);
        if (!e.is_object() || !e.contains("key")) return Error("needs a \"key\"").in(where);
        auto key = parse_bytes(e["key"], map.key_size(), "key");
        if (!key) return std::move(key).error().in(where);
        std::vector<uint8_t> value(map.host_value_size(), 0);
        if (map.is_percpu()) {
            if (!e.contains("values") || !e["values"].is_array()) {
                return Error("a per-CPU map entry needs \"values\": [{\"cpu\", \"value\"}]")
                    .in(where);
            }
            for (const auto& slot : e["values"]) {
                if (!slot.is_object() || !slot.contains("cpu") ||
                    !slot["cpu"].is_number_unsigned()) {
                    return Error("each of \"values\" needs a \"cpu\" number").in(where);
                }
                const auto cpu = slot["cpu"].get<uint64_t>();
                if ((cpu + 1) * stride > value.size()) {
                    return Error(fmt::format("cpu {} is beyond the {} CPUs of this runtime", cpu,
                                             value.size() / stride))
                        .in(where);
                }
                auto bytes =
                    parse_bytes(slot.value("value", nlohmann::json()), map.value_size(), "value");
                if (!bytes) return std::move(bytes).error().in(where);
                std::memcpy(value.data() + cpu * stride, bytes->data(), bytes->size());
            }
        } else {
            if (!e.contains("value")) return Error("needs a \"value\"").in(where);
            auto bytes = parse_bytes(e["value"], map.value_size(), "value");
            if (!bytes) return std::move(bytes).error().in(where);
            value = std::move(*bytes);
        }
        if (int err = map.update_elem(key->data(), value.data(), update_flags::kAny); err != 0) {
            return Error(fmt::format("the map refused the update: {}", std::strerror(-err)))
                .in(where);
        }
    }
    return {};
}

}  // namespace xbpf
