#include "runtime/core/object_loader.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstring>

#include "runtime/core/registry.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/linux_names.hpp"
#include "xbpf/map_objects.hpp"

namespace xbpf {
namespace {

// LINUX_KERNEL_VERSION for `.kconfig` externs: the running kernel's, as libbpf fills it in.
// Objects read it to pick code paths; any value works for running in user space.
uint32_t running_kernel_version() {
    utsname u{};
    if (uname(&u) != 0) return 0;
    unsigned major = 0, minor = 0, patch = 0;
    if (std::sscanf(u.release, "%u.%u.%u", &major, &minor, &patch) < 2) return 0;
    return (major << 16) | (minor << 8) | std::min(patch, 255u);
}

}  // namespace

ObjectLoader::ObjectLoader(Object object, const LoadOptions& options)
    : result_(new LoadedObject()),
      options_(options),
      helpers_(options.helpers != nullptr ? *options.helpers : HelperCatalog::linux_helpers()) {
    result_->object_ = std::move(object);
}

Result<std::shared_ptr<LoadedObject>> ObjectLoader::run() {
    const Object& object = result_->object_;
    if (auto s = create_maps(); !s) return std::move(s).error().in(object.name);
    for (const auto& name : options_.programs) {
        if (object.find_program(name) == nullptr) {
            return Error(fmt::format("no program named '{}'", name)).in(object.name);
        }
    }
    for (const auto& spec : object.programs) {
        if (!selected(spec)) continue;
        if (auto s = load_program(spec); !s) return std::move(s).error().in(object.name);
    }
    if (auto s = fill_initial_slots(); !s) return std::move(s).error().in(object.name);
    return result_;
}

bool ObjectLoader::selected(const ProgramSpec& spec) const {
    if (options_.programs.empty()) return spec.kind == ProgramKind::Entry;
    return std::any_of(
        options_.programs.begin(), options_.programs.end(), [&](const std::string& name) {
            return name == spec.name || (spec.kind == ProgramKind::Entry && name == spec.section);
        });
}

Status ObjectLoader::create_maps() {
    const Object& object = result_->object_;
    for (const auto& spec : object.maps) {
        MapSpec effective = spec;
        if (spec.origin == MapOrigin::Kconfig) {
            // Fill the externs xbpf knows; the rest stay zero (weak externs' default).
            effective.initial_value.resize(spec.value_size, 0);
            for (const auto& ext : object.kconfig) {
                if (ext.name == "LINUX_KERNEL_VERSION" && ext.size == 4 &&
                    ext.offset + 4 <= effective.initial_value.size()) {
                    const uint32_t version = running_kernel_version();
                    std::memcpy(effective.initial_value.data() + ext.offset, &version, 4);
                }
            }
        }
        auto map = create_map(effective);
        if (!map) return std::move(map).error().in(fmt::format("map '{}'", spec.name));
        // Read-only global data is frozen after its contents are set, as libbpf does, so the
        // verifier may treat it as constant.
        if (spec.origin == MapOrigin::Rodata) (*map)->freeze();
        result_->maps_.push_back(std::move(*map));
    }
    return {};
}

Result<uint64_t> resolve_map_lddw(std::span<const std::shared_ptr<Map>> maps, const Insn& lo,
                                  const Insn& hi) {
    const auto index = static_cast<uint32_t>(lo.imm);
    switch (lo.src) {
        case op::kImmMapByIdx:
        case op::kImmMapValueByIdx: {
            if (index >= maps.size()) {
                return Error(fmt::format("lddw refers to map {} but the program has {} maps", index,
                                         maps.size()));
            }
            Map& map = *maps[index];
            // Convention shared with the helpers: a map is passed to them as its Map*.
            if (lo.src == op::kImmMapByIdx) return reinterpret_cast<uintptr_t>(&map);
            const auto offset = static_cast<uint32_t>(hi.imm);
            if (offset >= map.value_size()) {
                return Error(
                    fmt::format("lddw points {} bytes into map '{}', whose value has {} bytes",
                                offset, map.spec().name, map.value_size()));
            }
            const uint32_t key = 0;
            void* value = map.type() == MapType::Array ? map.lookup(&key) : nullptr;
            if (value == nullptr) {
                return Error(
                    fmt::format("lddw takes the address of a value of map '{}', which is not a "
                                "non-empty array",
                                map.spec().name));
            }
            return reinterpret_cast<uintptr_t>(value) + offset;
        }
        case op::kImmVarAddr:
            return Error(fmt::format(
                "lddw of kernel variable (BTF id {}) is not supported in user space", lo.imm));
        default:
            return Error(fmt::format(
                "lddw with pseudo source {} refers to a file descriptor; programs refer to "
                "maps by index",
                lo.src));
    }
}

Result<std::shared_ptr<Program>> ObjectLoader::build_program(const ProgramSpec& spec,
                                                             std::vector<std::shared_ptr<Map>> maps,
                                                             std::span<const MapSpec> map_specs,
                                                             const LoadOptions& options,
                                                             const HelperCatalog& helpers,
                                                             VerifierReport* report_out) {
    auto where = [&spec]() {
        return spec.section.empty()
                   ? fmt::format("program '{}'", spec.name)
                   : fmt::format("program '{}' (section {})", spec.name, spec.section);
    };

    // The type: from the section name, or the caller's when given.
    uint32_t type_id = static_cast<uint32_t>(spec.prog_type);
    if (options.prog_type) type_id = *options.prog_type;
    if (type_id == 0) {
        return Error(
                   "the section name does not say which program type this is; give one (e.g. "
                   "--type xdp)")
            .in(where());
    }
    auto type = ProgramTypeRegistry::global().find(type_id);
    if (!type) return Error(fmt::format("unknown program type {}", type_id)).in(where());

    if (auto s = validate_program(spec.insns); !s) return std::move(s).error().in(where());

    VerifierInput input = program_verifier_input(spec, map_specs, *type, helpers);
    input.options = options.verifier;
    VerifierReport report = verify(input);
    if (report_out != nullptr) *report_out = report;
    if (!report.accepted) return Error(report.message, ErrorKind::Rejected).in(where());

    std::shared_ptr<Program> program(new Program());
    program->spec_ = spec;
    program->type_ = type;
    program->translated_ = spec.insns;
    if (auto s = rewrite_context_accesses(program->translated_, *type, report.context_accesses);
        !s) {
        return std::move(s).error().in(where());
    }
    program->verification_ = std::move(report);
    program->maps_ = std::move(maps);
    program->helpers_ = &helpers;

    PrepareOptions prepare;
    prepare.checked = options.checked;
    const auto& program_maps = program->maps_;
    prepare.resolve_lddw = [&program_maps](const Insn& lo, const Insn& hi) {
        return resolve_map_lddw(program_maps, lo, hi);
    };
    const EngineKind engine =
        options.checked
            ? EngineKind::Interpreter
            : options.engine.value_or(jit_available() ? EngineKind::Jit : EngineKind::Interpreter);
    if (options.checked && options.engine == EngineKind::Jit) {
        return Error("checked runs use the interpreter; the JIT cannot check memory accesses")
            .in(where());
    }
    auto exe = engine == EngineKind::Jit
                   ? prepare_jit(program->translated_, helpers.table(), prepare)
                   : prepare_interpreter(program->translated_, helpers.table(), prepare);
    if (!exe) return std::move(exe).error().in(where());
    program->executable_ = std::move(*exe);
    program->id_ = runtime::next_program_id();
    program->loaded_at_ = std::chrono::system_clock::now();
    runtime::register_program(program);
    return program;
}

Status ObjectLoader::load_program(const ProgramSpec& spec) {
    const Object& object = result_->object_;
    auto program = build_program(spec, result_->maps_, object.maps, options_, helpers_, nullptr);
    if (!program) return std::move(program).error();
    result_->programs_.push_back(std::move(*program));
    return {};
}

Status ObjectLoader::fill_initial_slots() {
    const Object& object = result_->object_;
    for (size_t i = 0; i < object.maps.size(); ++i) {
        const MapSpec& spec = object.maps[i];
        if (spec.initial_slots.empty()) continue;
        auto* objects = dynamic_cast<ObjectMap*>(result_->maps_[i].get());
        if (objects == nullptr) {
            return Error("has `values` initialisers but is not a prog_array or a map of maps")
                .in(fmt::format("map '{}'", spec.name));
        }
        for (const auto& [slot, name] : spec.initial_slots) {
            std::shared_ptr<const MapValueObject> target;
            if (spec.type == MapType::ProgArray) {
                target = result_->find_program(name);
                // A program that was not selected for loading leaves its slot empty, as
                // libbpf leaves slots of programs with autoload off.
                if (!target) continue;
            } else {
                target = result_->find_map(name);
                if (!target) {
                    return Error(fmt::format(
                                     "slot {} names map '{}', which the object does not define",
                                     slot, name))
                        .in(fmt::format("map '{}'", spec.name));
                }
            }
            const uint32_t key = slot;
            if (int err = objects->update_object(&key, target, 0); err != 0) {
                return Error(fmt::format("cannot put '{}' in slot {}: {}", name, slot,
                                         std::strerror(-err)))
                    .in(fmt::format("map '{}'", spec.name));
            }
        }
    }
    return {};
}

const Executable* Program::executable(EngineKind engine) const {
    return executable_ && executable_->engine() == engine ? executable_.get() : nullptr;
}

std::vector<MemoryRegion> Program::global_data_regions() const {
    std::vector<MemoryRegion> regions;
    for (const auto& map : maps_) {
        const MapOrigin origin = map->spec().origin;
        if (origin != MapOrigin::Data && origin != MapOrigin::Rodata && origin != MapOrigin::Bss &&
            origin != MapOrigin::Kconfig) {
            continue;
        }
        const uint32_t key = 0;
        if (void* value = map->lookup(&key)) {
            regions.push_back(MemoryRegion{reinterpret_cast<uintptr_t>(value), map->value_size(),
                                           !map->read_only_for_programs(), map->spec().name});
        }
    }
    return regions;
}

std::shared_ptr<Program> LoadedObject::find_program(std::string_view name) const {
    for (const auto& p : programs_) {
        if (p->name() == name) return p;
    }
    for (const auto& p : programs_) {
        if (p->spec().section == name) return p;
    }
    return nullptr;
}

std::shared_ptr<Map> LoadedObject::find_map(std::string_view name) const {
    for (size_t i = 0; i < maps_.size(); ++i) {
        if (object_.maps[i].name == name) return maps_[i];
    }
    return nullptr;
}

Result<std::shared_ptr<Program>> load_program(ProgramSpec spec,
                                              std::vector<std::shared_ptr<Map>> maps,
                                              const LoadOptions& options, VerifierReport* report) {
    std::vector<MapSpec> specs;
    specs.reserve(maps.size());
    for (const auto& map : maps)
        specs.push_back(map->spec());
    const HelperCatalog& helpers =
        options.helpers != nullptr ? *options.helpers : HelperCatalog::linux_helpers();
    return ObjectLoader::build_program(spec, std::move(maps), specs, options, helpers, report);
}

Result<std::shared_ptr<LoadedObject>> load(Object object, const LoadOptions& options) {
    return ObjectLoader(std::move(object), options).run();
}

Result<std::shared_ptr<LoadedObject>> load_file(const std::filesystem::path& path,
                                                const LoadOptions& options) {
    auto object = load_object_file(path);
    if (!object) return std::move(object).error();
    return load(std::move(*object), options);
}

}  // namespace xbpf
