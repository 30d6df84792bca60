#include "runtime/progtypes/context_builder.hpp"

#include <algorithm>

namespace xbpf::progtypes {

ContextBuilder& ContextBuilder::scalar(std::string name, uint32_t offset, uint32_t size,
                                       uint8_t reads, uint8_t writes) {
    ContextField f;
    f.name = std::move(name);
    f.offset = offset;
    f.size = size;
    f.read_widths = reads;
    f.write_widths = writes;
    f.native_offset = offset;
    f.native_size = size;
    fields_.push_back(std::move(f));
    return *this;
}

ContextBuilder& ContextBuilder::pointer(std::string name, uint32_t offset, uint32_t size,
                                        ContextFieldKind kind) {
    ContextField f;
    f.name = std::move(name);
    f.offset = offset;
    f.size = size;
    f.kind = kind;
    f.read_widths = static_cast<uint8_t>(size);
    f.native_offset = offset;  // placed in finish() when the uapi slot is too narrow
    f.native_size = 8;
    fields_.push_back(std::move(f));
    return *this;
}

void ContextBuilder::finish(ProgramType& type) {
    std::sort(fields_.begin(), fields_.end(),
              [](const ContextField& a, const ContextField& b) { return a.offset < b.offset; });
    uint32_t native_end = (uapi_size_ + 7) & ~7u;
    for (auto& f : fields_) {
        if (f.is_pointer() && f.size < 8) {
            f.native_offset = native_end;
            native_end += 8;
        }
    }
    type.fields = std::move(fields_);
    type.context_size = uapi_size_;
    type.native_context_size = native_end;
}

}  // namespace xbpf::progtypes
