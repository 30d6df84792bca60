// ProgramTypeRegistry: Linux's contracts, built on first use, and any an embedder adds.
#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "runtime/progtypes/linux_types.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf {

struct ProgramTypeRegistry::Impl {
    mutable std::shared_mutex mutex;
    std::unordered_map<uint32_t, std::shared_ptr<const ProgramType>> by_id;
    std::unordered_map<std::string, std::shared_ptr<const ProgramType>> by_name;
};

namespace {

// A contract the runtime can trust: fields in order, inside the context, not overlapping, and
// placed inside the native context.
Status check_contract(const ProgramType& type) {
    if (type.name.empty()) return Error("a program type needs a name");
    if (type.context_size == 0 && !type.fields.empty())
        return Error(fmt::format("program type {} has fields but no context size", type.name));
    uint32_t end = 0;
    for (const auto& f : type.fields) {
        if (f.size == 0 || f.offset < end || f.offset + f.size > type.context_size) {
            return Error(fmt::format(
                "program type {}: field {} at offset {} ({} bytes) overlaps the previous field or "
                "lies outside the {}-byte context",
                type.name, f.name, f.offset, f.size, type.context_size));
        }
        end = f.offset + f.size;
        const uint32_t native = f.is_pointer() ? 8 : f.size;
        if (f.native_size != native || f.native_offset + native > type.native_context_size) {
            return Error(fmt::format(
                "program type {}: field {} needs {} native bytes inside the {}-byte native "
                "context (has {} at {})",
                type.name, f.name, native, type.native_context_size, f.native_size,
                f.native_offset));
        }
        if (f.is_pointer() && (f.write_widths != 0 || f.read_widths != f.size)) {
            return Error(
                fmt::format("program type {}: pointer field {} must be read-only and read whole",
                            type.name, f.name));
        }
    }
    if (!std::is_sorted(type.helpers.begin(), type.helpers.end()))
        return Error(fmt::format("program type {}: helper ids must be sorted", type.name));
    return {};
}

}  // namespace

ProgramTypeRegistry::ProgramTypeRegistry() : impl_(std::make_shared<Impl>()) {}

ProgramTypeRegistry& ProgramTypeRegistry::global() {
    static ProgramTypeRegistry* registry = [] {
        auto* r = new ProgramTypeRegistry();
        for (auto& type : progtypes::linux_program_types()) {
            auto status = r->add(std::move(type));
            (void)status;  // Linux's contracts are checked by the tests
        }
        return r;
    }();
    return *registry;
}

Status ProgramTypeRegistry::add(std::shared_ptr<const ProgramType> type) {
    if (!type) return Error("no program type given");
    if (auto s = check_contract(*type); !s) return s;
    std::unique_lock lock(impl_->mutex);
    if (impl_->by_id.count(type->id) != 0)
        return Error(fmt::format("program type id {} is already registered", type->id));
    if (impl_->by_name.count(type->name) != 0)
        return Error(fmt::format("program type name '{}' is already registered", type->name));
    impl_->by_id.emplace(type->id, type);
    impl_->by_name.emplace(type->name, std::move(type));
    return {};
}

std::shared_ptr<const ProgramType> ProgramTypeRegistry::find(uint32_t id) const {
    std::shared_lock lock(impl_->mutex);
    auto it = impl_->by_id.find(id);
    return it == impl_->by_id.end() ? nullptr : it->second;
}

std::shared_ptr<const ProgramType> ProgramTypeRegistry::find(std::string_view name) const {
    std::shared_lock lock(impl_->mutex);
    auto it = impl_->by_name.find(std::string(name));
    return it == impl_->by_name.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const ProgramType>> ProgramTypeRegistry::all() const {
    std::vector<std::shared_ptr<const ProgramType>> out;
    {
        std::shared_lock lock(impl_->mutex);
        for (const auto& [id, type] : impl_->by_id)
            out.push_back(type);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
    return out;
}

}  // namespace xbpf
