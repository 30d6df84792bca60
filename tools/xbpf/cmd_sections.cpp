// xbpf sections: what an object holds, as the loader reads it (programs and maps).
#include <fmt/format.h>

#include <iostream>

#include "cli.hpp"
#include "xbpf/linux_names.hpp"
#include "xbpf/object.hpp"

namespace xbpf::cli {

namespace {

std::string type_name_or_unspec(ProgType type) {
    const std::string_view name = prog_type_name(type);
    return name.empty() ? fmt::format("{}", static_cast<uint32_t>(type)) : std::string(name);
}

std::string map_type_text(MapType type) {
    const std::string_view name = map_type_name(type);
    return name.empty() ? fmt::format("{}", static_cast<uint32_t>(type)) : std::string(name);
}

nlohmann::json to_json(const Object& object) {
    nlohmann::json programs = nlohmann::json::array();
    for (const auto& p : object.programs) {
        nlohmann::json attach = nullptr;
        if (p.expected_attach_type) attach = std::string(attach_type_name(*p.expected_attach_type));
        programs.push_back({{"section", p.section},
                            {"name", p.name},
                            {"type", type_name_or_unspec(p.prog_type)},
                            {"attach_type", attach},
                            {"instructions", p.instruction_count()}});
    }
    nlohmann::json maps = nlohmann::json::array();
    for (const auto& m : object.maps) {
        maps.push_back({{"name", m.name},
                        {"type", map_type_text(m.type)},
                        {"key_size", m.key_size},
                        {"value_size", m.value_size},
                        {"max_entries", m.max_entries},
                        {"flags", m.flags}});
    }
    return {{"programs", programs}, {"maps", maps}};
}

void print_text(const Object& object) {
    size_t section_width = 7, name_width = 4;
    for (const auto& p : object.programs) {
        section_width = std::max(section_width, p.section.size());
        name_width = std::max(name_width, p.name.size());
    }
    std::cout << "programs:\n";
    std::cout << fmt::format("  {:<{}}  {:<{}}  {:<16}  {}\n", "section", section_width, "name",
                             name_width, "type", "instructions");
    for (const auto& p : object.programs) {
        std::string type = type_name_or_unspec(p.prog_type);
        if (p.kind == ProgramKind::TextFunction) type = "(function)";
        std::cout << fmt::format("  {:<{}}  {:<{}}  {:<16}  {}\n", p.section, section_width, p.name,
                                 name_width, type, p.instruction_count());
    }
    size_t map_width = 4;
    for (const auto& m : object.maps)
        map_width = std::max(map_width, m.name.size());
    std::cout << "maps:\n";
    std::cout << fmt::format("  {:<{}}  {:<16}  {:>8}  {:>10}  {:>11}  {}\n", "name", map_width,
                             "type", "key_size", "value_size", "max_entries", "flags");
    for (const auto& m : object.maps) {
        std::cout << fmt::format("  {:<{}}  {:<16}  {:>8}  {:>10}  {:>11}  {:#x}\n", m.name,
                                 map_width, map_type_text(m.type), m.key_size, m.value_size,
                                 m.max_entries, m.flags);
    }
}

Command add_sections(CLI::App& app) {
    struct Args {
        std::string input;
        OutputFlags out;
    };
    auto args = std::make_shared<Args>();
    CLI::App* sub = app.add_subcommand(
        "sections", "List the programs and maps of an object file, as the loader reads them");
    sub->add_option("FILE", args->input, "eBPF ELF object (.o)")->required();
    args->out.add_to(*sub);

    return {sub, [args]() -> int {
                auto object = load_object_file(args->input);
                if (!object) return report(object.error());
                if (args->out.wants_json()) {
                    args->out.print(to_json(*object));
                } else {
                    print_text(*object);
                }
                return kExitOk;
            }};
}

}  // namespace

XBPF_REGISTER_COMMAND("sections", add_sections);

}  // namespace xbpf::cli
