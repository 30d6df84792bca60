// Describes a context struct field by field and lays out its native counterpart (internal).
//
// The native context keeps every scalar at its uapi offset, so the bytes of a ctx_in can be
// copied in as they are and copied back out after a run. Pointer fields that the uapi struct
// declares as 8 bytes (__bpf_md_ptr) stay in place too; the 4-byte ones (`__u32 data`) cannot
// hold a pointer, so they move to 8-byte slots after the struct.
#pragma once

#include <string>

#include "xbpf/program_type.hpp"

namespace xbpf::progtypes {

namespace w = access_width;

class ContextBuilder {
  public:
    explicit ContextBuilder(uint32_t uapi_size) : uapi_size_(uapi_size) {}

    // A scalar field: loads of `reads` widths and stores of `writes` widths.
    ContextBuilder& scalar(std::string name, uint32_t offset, uint32_t size, uint8_t reads,
                           uint8_t writes = 0);
    // A pointer field, read whole (`size` is 4 or 8 as the uapi struct declares it).
    ContextBuilder& pointer(std::string name, uint32_t offset, uint32_t size,
                            ContextFieldKind kind);

    // Sorts the fields and sets type.fields, context_size and native_context_size.
    void finish(ProgramType& type);

  private:
    uint32_t uapi_size_;
    std::vector<ContextField> fields_;
};

}  // namespace xbpf::progtypes
