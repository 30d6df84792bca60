// ProgramType's own rules: which field an access touches and whether the contract allows it.
#include <fmt/format.h>

#include <algorithm>

#include "xbpf/program_type.hpp"

namespace xbpf {

const ContextField* ProgramType::field_at(uint32_t offset, uint32_t size) const {
    // Fields are sorted by offset: the candidate is the last one starting at or before offset.
    auto it = std::upper_bound(fields.begin(), fields.end(), offset,
                               [](uint32_t off, const ContextField& f) { return off < f.offset; });
    if (it == fields.begin()) return nullptr;
    --it;
    if (size > it->size || offset - it->offset > it->size - size) return nullptr;
    return &*it;
}

bool ProgramType::allows_helper(int32_t id) const {
    return std::binary_search(helpers.begin(), helpers.end(), id);
}

namespace {

std::string widths_text(uint8_t mask) {
    std::string out;
    for (uint8_t w : {1, 2, 4, 8}) {
        if ((mask & w) == 0) continue;
        if (!out.empty()) out += ", ";
        out += std::to_string(w);
    }
    return out;
}

}  // namespace

std::string ProgramType::check_access(uint32_t offset, uint32_t size, bool write) const {
    const char* verb = write ? "write" : "read";
    if (size != 1 && size != 2 && size != 4 && size != 8)
        return fmt::format("a {}-byte context access is not a load or store width", size);
    if (offset >= context_size || size > context_size - offset) {
        return fmt::format("{} of {} bytes at offset {} is outside the {}-byte context of {}", verb,
                           size, offset, context_size, name);
    }
    if (offset % size != 0) {
        return fmt::format("{} of {} bytes at offset {} of the {} context is misaligned", verb,
                           size, offset, name);
    }
    if (context_is_plain_memory) {
        if (write && !plain_memory_writable)
            return fmt::format("the context of {} programs is read-only", name);
        return {};
    }
    const ContextField* field = field_at(offset, size);
    if (field == nullptr) {
        return fmt::format(
            "{} of {} bytes at offset {} of the {} context does not fall inside "
            "one field a program may access",
            verb, size, offset, name);
    }
    const uint8_t mask = write ? field->write_widths : field->read_widths;
    if (mask == 0) {
        return fmt::format("field {} of the {} context is {} for {} programs", field->name, name,
                           write ? "read-only" : "not readable", name);
    }
    if ((mask & size) == 0) {
        return fmt::format("field {} of the {} context may be {} only {} bytes at a time, not {}",
                           field->name, name, write ? "written" : "read", widths_text(mask), size);
    }
    if (field->is_pointer() && (offset != field->offset || size != field->size)) {
        return fmt::format("pointer field {} of the {} context must be read whole", field->name,
                           name);
    }
    return {};
}

}  // namespace xbpf
