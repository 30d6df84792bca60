// `verifier_oracle types-doc`: the "The types" section of docs/program-types.md, printed from
// the registry so the page says exactly what the contracts hold (no kernel needed).
#include <fmt/format.h>

#include <iostream>
#include <string>

#include "oracle.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf::oracle {

namespace {

const char* kind_name(ContextFieldKind kind) {
    switch (kind) {
        case ContextFieldKind::Scalar: return "scalar";
        case ContextFieldKind::PacketStart: return "packet start";
        case ContextFieldKind::PacketEnd: return "packet end";
        case ContextFieldKind::PacketMeta: return "packet metadata";
        case ContextFieldKind::SocketOrNull: return "socket or NULL";
        case ContextFieldKind::Socket: return "socket";
        case ContextFieldKind::FlowKeys: return "flow keys";
    }
    return "?";
}

std::string widths(uint8_t mask) {
    std::string out;
    for (uint8_t w : {1, 2, 4, 8}) {
        if ((mask & w) == 0) continue;
        if (!out.empty()) out += ",";
        out += std::to_string(w);
    }
    return out.empty() ? "–" : out;
}

std::string helper_names(const ProgramType& t) {
    std::string out;
    for (int32_t id : t.helpers) {
        std::string_view name = linux_helper_name(id);
        if (name.rfind("bpf_", 0) == 0) name.remove_prefix(4);
        if (!out.empty()) out += ", ";
        out += name.empty() ? fmt::format("#{}", id) : std::string(name);
    }
    return out;
}

}  // namespace

int print_types_doc() {
    std::cout << "## The types\n";
    for (const auto& t : ProgramTypeRegistry::global().all()) {
        if (t->id >= 0x10000) continue;
        std::cout << fmt::format("\n### {} ({})\n\n", t->name, t->id);
        std::string context = fmt::format("context {} bytes", t->context_size);
        if (t->context_is_plain_memory) {
            context += t->plain_memory_writable
                           ? ", plain memory, readable and writable"
                           : ", plain memory, read-only (aligned loads of 1, 2, 4 or 8 bytes)";
        }
        std::cout << fmt::format("- {}; {}; native context {} bytes\n",
                                 t->runnable ? "**runnable** (test run)" : "verify only", context,
                                 t->native_context_size);
        if (!t->context_btf_name.empty()) {
            std::cout << fmt::format(
                "- context struct in BTF: `{}` (a global function's pointer to it receives the "
                "context)\n",
                t->context_btf_name);
        }
        if (t->return_range) {
            std::cout << fmt::format("- return value in [{}, {}]\n", t->return_range->min,
                                     t->return_range->max);
        } else {
            std::cout << "- any return value\n";
        }
        for (const auto& f : t->fields) {
            if (f.kind == ContextFieldKind::PacketStart) {
                std::cout << (t->packet_writable ? "- packet readable and writable\n"
                                                 : "- packet read-only\n");
                break;
            }
        }
        if (t->legacy_packet_loads) std::cout << "- legacy packet loads (LD_ABS/LD_IND) allowed\n";
        if (t->always_sleepable) std::cout << "- always sleepable (may call helpers that sleep)\n";
        std::cout << fmt::format("- helpers ({}): {}\n", t->helpers.size(), helper_names(*t));
        if (t->fields.empty()) continue;
        std::cout << "\n| field | offset | size | kind | read widths | write widths | native "
                     "offset |\n|---|---:|---:|---|---|---|---:|\n";
        for (const auto& f : t->fields) {
            std::cout << fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", f.name, f.offset,
                                     f.size, kind_name(f.kind), widths(f.read_widths),
                                     widths(f.write_widths), f.native_offset);
        }
    }
    return 0;
}

}  // namespace xbpf::oracle
