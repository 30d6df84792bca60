// Global functions (BTF linkage global) are verified once, on their own, with arguments built
// from their BTF parameter types, as Linux does; a call then only checks the arguments against
// those types. Pointer parameters are memory of the pointed type's size that may be NULL, or
// the context when they point to the program type's context struct or are tagged __arg_ctx.
#include <fmt/format.h>

#include "verifier/analyzer.hpp"

namespace xbpf::verifier {

namespace {

using ParamKind = GlobalParam::Kind;
using Param = GlobalParam;

// Whether parameter `index` of BTF function `func_type` carries the `__arg_ctx` tag (a DECL_TAG
// "arg:ctx" on that parameter), which tells Linux it receives the context whatever its type.
bool tagged_context(const Btf& btf, uint32_t func_type, size_t index) {
    for (uint32_t id = 1; id <= btf.type_count(); ++id) {
        const BtfType* t = btf.type(id);
        if (t->kind == BtfKind::DeclTag && t->type == func_type && t->name == "arg:ctx" &&
            t->component_index == static_cast<int32_t>(index)) {
            return true;
        }
    }
    return false;
}

// A pointer parameter receives the context when it points to the program type's context struct
// (by its BTF name, as Linux matches it) or is tagged __arg_ctx; any other pointer is memory of
// the pointee's size that may be NULL.
std::vector<Param> parameters(const Btf& btf, uint32_t func_type, uint32_t pc,
                              const ProgramType& type) {
    const BtfType* func = btf.type(func_type);
    const BtfType* proto = func != nullptr ? btf.type(func->type) : nullptr;
    if (proto == nullptr || proto->kind != BtfKind::FuncProto) {
        reject(pc, "the global function has no BTF prototype");
    }
    if (proto->members.size() > 5) reject(pc, "a global function takes at most 5 arguments");
    std::vector<Param> params;
    for (size_t i = 0; i < proto->members.size(); ++i) {
        const BtfMember& m = proto->members[i];
        Param p;
        const BtfType* t = btf.type(btf.skip_modifiers(m.type));
        if (t != nullptr && t->kind == BtfKind::Ptr) {
            const uint32_t pointee_id = btf.skip_modifiers(t->type);
            const BtfType* pointee = btf.type(pointee_id);
            const bool context_struct =
                pointee != nullptr && !type.context_btf_name.empty() &&
                (pointee->kind == BtfKind::Struct || pointee->kind == BtfKind::Union ||
                 pointee->kind == BtfKind::Fwd) &&
                pointee->name == type.context_btf_name;
            if (context_struct || tagged_context(btf, func_type, i)) {
                p.kind = ParamKind::Context;
            } else {
                p.kind = ParamKind::Mem;
                auto size = btf.resolve_size(pointee_id);
                p.size = size ? *size : 0;
            }
        }
        params.push_back(p);
    }
    return params;
}

}  // namespace

const std::vector<GlobalParam>& Analyzer::global_parameters(uint32_t function, uint32_t pc) {
    auto& cached = global_params_[function];
    if (!cached) {
        cached = parameters(*input_.origin->btf, info_.functions()[function].btf_type, pc, type_);
    }
    return *cached;
}

void Analyzer::verify_global_function(uint32_t function) {
    const FunctionInfo& f = info_.functions()[function];
    if (global_verified_[function] != 0) return;
    global_verified_[function] = 1;
    const auto& params = global_parameters(function, f.start);
    Path path;
    path.pc = f.start;
    FrameState frame;
    frame.function = function;
    for (size_t i = 0; i < params.size(); ++i) {
        RegState r;
        switch (params[i].kind) {
            case ParamKind::Scalar: r = RegState::unknown_scalar(); break;
            case ParamKind::Context: r = RegState::pointer(RegType::Context); break;
            case ParamKind::Mem:
                r = RegState::pointer(RegType::MemOrNull);
                r.mem_size = params[i].size;
                r.id = new_id();
                break;
        }
        r.origin_pc = f.start;
        frame.regs[i + 1] = r;
    }
    frame.regs[kFramePointer] = RegState::pointer(RegType::Stack);
    path.state.frames.push_back(std::move(frame));
    // Explore it to the end before going on with the caller's paths.
    std::vector<Path> saved;
    saved.swap(worklist_);
    const Path* saved_current = current_;
    const bool saved_in_step = in_step_;
    explore_from(std::move(path));
    worklist_.swap(saved);
    current_ = saved_current;
    in_step_ = saved_in_step;
}

void Analyzer::check_global_call(Path& path, uint32_t function) {
    const uint32_t pc = path.pc;
    const FunctionInfo& f = info_.functions()[function];
    if (input_.origin == nullptr || !input_.origin->btf) reject(pc, "global function without BTF");
    const auto& params = global_parameters(function, pc);
    for (size_t i = 0; i < params.size(); ++i) {
        const int regno = static_cast<int>(i) + 1;
        const RegState& r = read_reg(path, regno);
        const std::string what = fmt::format("argument {} of {}", regno, f.name);
        switch (params[i].kind) {
            case ParamKind::Scalar:
                if (!r.is_scalar()) {
                    reject(pc,
                           fmt::format("{} must be a number; r{} holds {}", what, regno,
                                       r.to_string()),
                           {regno});
                }
                break;
            case ParamKind::Context:
                if (r.type != RegType::Context || r.off != 0) {
                    reject(pc,
                           fmt::format("{} must be the context pointer; r{} holds {}", what, regno,
                                       r.to_string()),
                           {regno});
                }
                break;
            case ParamKind::Mem:
                if (r.is_const(0)) {
                    require_precise_reg(path, regno);
                    break;
                }
                check_mem_region(path, regno, params[i].size, false, true, what.c_str());
                break;
        }
    }
    if (path.state.frames.size() >= static_cast<size_t>(kMaxCallDepth)) {
        reject(pc, "calls nest more than 8 frames deep");
    }
    verify_global_function(function);
    for (int r = 1; r <= 5; ++r)
        path.state.reg(r) = RegState{};
    path.state.reg(0) = RegState::unknown_scalar();
    path.state.reg(0).origin_pc = pc;
}

}  // namespace xbpf::verifier
