// Presenting one program to the kernel and to xbpf the same way.
#include <fmt/format.h>

#include "oracle.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf::oracle {

namespace {

// An attach type BPF_PROG_LOAD takes for the type when the section names none. Types whose
// Linux load needs one (sock_addr, sockopt, sk_lookup, tracing, LSM) get a representative one.
AttachType default_attach_type(ProgType type) {
    switch (type) {
        case ProgType::CgroupSock: return AttachType::CgroupInetSockCreate;
        case ProgType::CgroupSockAddr: return AttachType::CgroupInet4Connect;
        case ProgType::CgroupSockopt: return AttachType::CgroupGetsockopt;
        case ProgType::SkLookup: return AttachType::SkLookup;
        case ProgType::Tracing: return AttachType::TraceFentry;
        case ProgType::Lsm: return AttachType::LsmMac;
        case ProgType::SkSkb: return AttachType::SkSkbStreamVerdict;
        case ProgType::SkMsg: return AttachType::SkMsgVerdict;
        case ProgType::FlowDissector: return AttachType::FlowDissector;
        case ProgType::CgroupSysctl: return AttachType::CgroupSysctl;
        case ProgType::CgroupDevice: return AttachType::CgroupDevice;
        case ProgType::SockOps: return AttachType::CgroupSockOps;
        case ProgType::LircMode2: return AttachType::LircMode2;
        default: return AttachType::CgroupInetIngress;  // 0: what Linux assumes
    }
}

// The vmlinux BTF object a tracing or LSM program attaches to, as libbpf names it.
uint32_t attach_btf_target(AttachType attach, const std::string& target) {
    switch (attach) {
        case AttachType::TraceFentry:
        case AttachType::TraceFexit:
        case AttachType::ModifyReturn: return vmlinux_btf_id(target);
        case AttachType::LsmMac:
        case AttachType::LsmCgroup: return vmlinux_btf_id("bpf_lsm_" + target);
        case AttachType::TraceRawTp: return vmlinux_btf_id("btf_trace_" + target, true);
        case AttachType::TraceIter: return vmlinux_btf_id("bpf_iter_" + target);
        default: return 0;
    }
}

}  // namespace

LoadPlan plan_load(const ProgramSpec& spec, ProgType type) {
    LoadPlan plan;
    plan.prog_type = static_cast<uint32_t>(type);
    AttachType attach = default_attach_type(type);
    if (spec.prog_type == type && spec.expected_attach_type) attach = *spec.expected_attach_type;
    plan.expected_attach_type = static_cast<uint32_t>(attach);
    if (type == ProgType::Tracing || type == ProgType::Lsm) {
        plan.attach_btf_id = attach_btf_target(attach, spec.attach_target);
        if (plan.attach_btf_id == 0) {
            plan.problem = fmt::format("no vmlinux BTF target '{}' for attach type {}",
                                       spec.attach_target, attach_type_name(attach));
        }
    }
    if (type == ProgType::Ext || type == ProgType::StructOps) {
        plan.problem = "extension and struct_ops programs need a target program or struct";
    }
    return plan;
}

KernelVerdict kernel_verdict(const Object& object, const ProgramSpec& spec,
                             const KernelObject& kobj, const LoadPlan& plan) {
    KernelVerdict v;
    if (!plan.problem.empty()) {
        v.first_line = plan.problem;
        return v;
    }
    std::string why;
    const auto insns = with_kernel_maps(spec, kobj, &why);
    if (!insns) {
        v.first_line = "not loaded: " + why;
        return v;
    }
    KernelProgramRequest r;
    r.name = spec.name;
    r.prog_type = plan.prog_type;
    r.expected_attach_type = plan.expected_attach_type;
    r.attach_btf_id = plan.attach_btf_id;
    r.insns = *insns;
    r.license = object.license;
    r.kern_version = object.kernel_version;
    r.sleepable = spec.sleepable;
    std::vector<KernelFuncInfo> func_info;
    for (const auto& f : spec.func_info)
        func_info.push_back(KernelFuncInfo{f.insn, f.type_id});
    if (kobj.btf.valid()) {
        r.btf_fd = kobj.btf.get();
        r.func_info = func_info;
    }
    v = kernel_prog_load(r);
    // BTF the kernel takes for the object may still not fit this program's functions (libbpf
    // would have adjusted it); then the verdict without BTF is the informative one.
    const bool btf_problem = !v.accepted && r.btf_fd >= 0 &&
                             (v.first_line.find("func_info") != std::string::npos ||
                              v.first_line.find("BTF") != std::string::npos ||
                              v.first_line.find("btf") != std::string::npos);
    if (btf_problem) {
        r.btf_fd = -1;
        r.func_info = {};
        KernelVerdict without = kernel_prog_load(r);
        without.first_line += fmt::format(" [without BTF; with it: {}]", v.first_line);
        if (without.accepted)
            without.first_line = fmt::format("[without BTF; with it: {}]", v.first_line);
        v = std::move(without);
    }
    return v;
}

VerifierReport xbpf_verdict(const Object& object, const ProgramSpec& spec, ProgType type) {
    auto contract = ProgramTypeRegistry::global().find(static_cast<uint32_t>(type));
    if (!contract) {
        VerifierReport r;
        r.reason = fmt::format("no contract for program type {}", prog_type_name(type));
        r.message = r.reason;
        return r;
    }
    return verify(program_verifier_input(spec, object.maps, *contract));
}

}  // namespace xbpf::oracle
