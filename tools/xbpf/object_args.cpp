#include "object_args.hpp"

#include <fmt/format.h>

#include <fstream>

#include "xbpf/linux_names.hpp"
#include "xbpf/map_json.hpp"

namespace xbpf::cli {

void ObjectArgs::add_to(CLI::App& app) {
    app.add_option("--program", program, "Program to run: its function name or section name");
    app.add_option("--type", type,
                   "Program type when the section name does not say (e.g. xdp, sched_cls)");
    app.add_option("--engine", engine, "Engine: jit (the default where available) or interp")
        ->check(CLI::IsMember({"jit", "interp"}));
    app.add_flag("--checked", checked,
                 "Run in the checked interpreter (every memory access bounds-checked)");
    app.add_option("--map-init", map_init,
                   "Fill maps from this JSON file before running ({\"MAP\": [entries]})");
    app.add_option("--map-dump", map_dump,
                   "Write every map's contents to this JSON file after running");
}

Result<ObjectArgs::Loaded> ObjectArgs::load(const std::string& file) const {
    auto object = load_object_file(file);
    if (!object) return std::move(object).error();
    LoadOptions options;
    if (!type.empty()) {
        auto id = prog_type_from_name(type);
        if (!id) return Error(fmt::format("unknown program type '{}'", type)).in("--type");
        options.prog_type = static_cast<uint32_t>(*id);
    }
    if (!engine.empty())
        options.engine = engine == "jit" ? EngineKind::Jit : EngineKind::Interpreter;
    options.checked = checked;
    std::string selected = program;
    if (selected.empty()) {
        std::vector<std::string> entries;
        for (const auto& p : object->programs) {
            if (p.kind == ProgramKind::Entry) entries.push_back(p.name);
        }
        if (entries.size() != 1) {
            return Error(fmt::format("the object has {} programs ({}); choose one with --program",
                                     entries.size(), fmt::join(entries, ", ")))
                .in(file);
        }
        selected = entries.front();
    }
    options.programs = {selected};
    auto loaded = xbpf::load(std::move(*object), options);
    if (!loaded) return std::move(loaded).error();
    Loaded result{*loaded, (*loaded)->find_program(selected)};
    if (!map_init.empty()) {
        std::ifstream in(map_init);
        if (!in) return Error("cannot open").in(map_init);
        nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
        if (doc.is_discarded() || !doc.is_object()) {
            return Error("not a JSON object of map names to entries").in(map_init);
        }
        // Also accept the whole output of `xbpf run -j`, whose maps are under "maps".
        if (doc.contains("maps") && doc["maps"].is_object()) doc = doc["maps"];
        for (const auto& [name, entries] : doc.items()) {
            auto map = result.object->find_map(name);
            if (!map)
                return Error(fmt::format("the object has no map named '{}'", name)).in(map_init);
            if (auto s = load_map_json(*map, entries); !s) {
                return std::move(s).error().in(fmt::format("map '{}'", name)).in(map_init);
            }
        }
    }
    return result;
}

Status ObjectArgs::dump_maps(const LoadedObject& object) const {
    if (map_dump.empty()) return {};
    const std::string text = maps_json(object).dump(2) + "\n";
    return write_file(map_dump,
                      std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

nlohmann::json maps_json(const LoadedObject& object) {
    nlohmann::json maps = nlohmann::json::object();
    const Btf* btf = object.object().btf.get();
    for (size_t i = 0; i < object.maps().size(); ++i) {
        maps[object.object().maps[i].name] = dump_map_json(*object.maps()[i], btf);
    }
    return maps;
}

std::string maps_text(const LoadedObject& object, size_t limit) {
    std::string out;
    auto bytes = [](const nlohmann::json& hex) {
        std::string s;
        for (const auto& b : hex)
            s += fmt::format("{}{}", s.empty() ? "" : " ", b.get<std::string>().substr(2));
        return s;
    };
    for (size_t i = 0; i < object.maps().size(); ++i) {
        Map& map = *object.maps()[i];
        const auto entries = dump_map_json(map, nullptr);
        out += fmt::format("  {} ({}, {} entr{})\n", object.object().maps[i].name,
                           map_type_name(map.type()), entries.size(),
                           entries.size() == 1 ? "y" : "ies");
        size_t shown = 0;
        for (const auto& e : entries) {
            if (shown++ == limit) {
                out += fmt::format("    ... {} more (--map-dump or -j shows all)\n",
                                   entries.size() - limit);
                break;
            }
            if (e.contains("values")) {
                out += fmt::format("    key: {}\n", bytes(e["key"]));
                for (const auto& v : e["values"]) {
                    out += fmt::format("      cpu {}: {}\n", v["cpu"].template get<int>(),
                                       bytes(v["value"]));
                }
            } else {
                out += fmt::format("    key: {}  value: {}\n", bytes(e["key"]), bytes(e["value"]));
            }
        }
    }
    return out;
}

bool is_elf_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
           magic[3] == 'F';
}

}  // namespace xbpf::cli
