// Test runs of an embedder's program type with fields: ctx_in fills the native context field
// by field, packet pointer fields point into a copy of data_in, and ctx_out reads the scalar
// fields back.
#include <fmt/format.h>

#include <cstring>

#include "runtime/test_run/run_loop.hpp"

namespace xbpf::test_run_detail {

Result<TestRunResult> run_generic(const Executable& program, const ProgramType& type,
                                  const TestRunOptions& options) {
    auto uapi = context_from(options.ctx_in, type.context_size);
    if (!uapi) return std::move(uapi).error();
    std::vector<uint8_t> packet(options.data_in.begin(), options.data_in.end());
    std::vector<uint8_t> native(type.native_context_size, 0);
    for (const auto& f : type.fields) {
        if (!f.is_pointer()) {
            std::memcpy(native.data() + f.native_offset, uapi->data() + f.offset, f.size);
            continue;
        }
        for (uint32_t i = 0; i < f.size; ++i) {
            if ((*uapi)[f.offset + i] != 0)
                return linux_error("EINVAL", fmt::format("ctx_in.{} must be 0", f.name));
        }
        uint8_t* value = nullptr;
        if (f.kind == ContextFieldKind::PacketStart || f.kind == ContextFieldKind::PacketMeta)
            value = packet.data();
        if (f.kind == ContextFieldKind::PacketEnd) value = packet.data() + packet.size();
        std::memcpy(native.data() + f.native_offset, &value, sizeof value);
    }

    helpers::RunEnvironment env;
    env.type = &type;
    env.context = native.data();
    env.trace = options.trace;
    const MemoryRegion regions[] = {
        {reinterpret_cast<uintptr_t>(native.data()), native.size(), true, "context"},
        {reinterpret_cast<uintptr_t>(packet.data()), packet.size(), true, "packet"},
    };
    auto loop = run_repeatedly(program, env, native.data(), regions, options);
    if (!loop) return std::move(loop).error();
    TestRunResult result;
    result.retval = static_cast<uint32_t>(loop->retval);
    result.duration_ns = loop->duration_ns;
    result.data_out = std::move(packet);
    result.ctx_out = std::move(*uapi);
    for (const auto& f : type.fields) {
        if (!f.is_pointer())
            std::memcpy(result.ctx_out.data() + f.offset, native.data() + f.native_offset, f.size);
    }
    return result;
}

}  // namespace xbpf::test_run_detail
