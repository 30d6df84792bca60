// Which helpers the running kernel lets each program type call, probed one helper at a time
// with a program that only calls it, compared with xbpf's contract for the type. Linux looks
// a helper up in the type's func_proto table before it checks any argument, so "unknown func"
// (or "cannot use helper") means the type may not call it, and any other outcome means it may.
// Some tables depend on the attach type: each type is probed with each attach type it has and
// the union is compared (xbpf's contracts allow what the most permissive attach type allows).
#include <linux/bpf.h>

#include <fmt/format.h>
#include <iostream>
#include <map>
#include <set>

#include "oracle.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf::oracle {

namespace {

using AT = AttachType;

std::vector<AttachType> attach_types_of(ProgType type) {
    switch (type) {
        case ProgType::SchedCls: return {AT::CgroupInetIngress, AT::TcxIngress, AT::TcxEgress};
        case ProgType::Xdp: return {AT::CgroupInetIngress, AT::XdpDevmap, AT::XdpCpumap};
        case ProgType::CgroupSkb: return {AT::CgroupInetIngress, AT::CgroupInetEgress};
        case ProgType::CgroupSock:
            return {AT::CgroupInetSockCreate, AT::CgroupInet4PostBind, AT::CgroupInet6PostBind,
                    AT::CgroupInetSockRelease};
        case ProgType::CgroupSockAddr:
            return {
                AT::CgroupInet4Bind,        AT::CgroupInet6Bind,        AT::CgroupInet4Connect,
                AT::CgroupInet6Connect,     AT::CgroupUdp4Sendmsg,      AT::CgroupUdp6Sendmsg,
                AT::CgroupUdp4Recvmsg,      AT::CgroupUdp6Recvmsg,      AT::CgroupInet4Getpeername,
                AT::CgroupInet6Getpeername, AT::CgroupInet4Getsockname, AT::CgroupInet6Getsockname,
                AT::CgroupUnixConnect,      AT::CgroupUnixSendmsg,      AT::CgroupUnixRecvmsg,
                AT::CgroupUnixGetpeername,  AT::CgroupUnixGetsockname};
        case ProgType::CgroupSockopt: return {AT::CgroupGetsockopt, AT::CgroupSetsockopt};
        case ProgType::SkSkb:
            return {AT::SkSkbStreamParser, AT::SkSkbStreamVerdict, AT::SkSkbVerdict};
        case ProgType::SkReuseport: return {AT::SkReuseportSelect, AT::SkReuseportSelectOrMigrate};
        case ProgType::Kprobe:
            return {AT::CgroupInetIngress, AT::TraceKprobeMulti, AT::TraceKprobeSession};
        default: return {};  // plan_load's choice
    }
}

// A program that calls helper `id` with r1-r5 = 0 and returns `ret`.
std::vector<Insn> probe_program(int32_t id, int32_t ret) {
    std::vector<Insn> p;
    for (int r = 1; r <= 5; ++r)
        p.push_back(make::mov64_imm(r, 0));
    p.push_back(make::call_helper(id));
    p.push_back(make::mov64_imm(0, ret));
    p.push_back(make::exit());
    return p;
}

struct Probe {
    bool loadable = true;  // a trivial program of this type and attach type loads
    std::string why;
    std::set<int32_t> allowed;
    std::map<int32_t, std::string> messages;  // why an allowed helper's probe was refused
    std::set<int32_t> sleepable_only;         // in the table, but only for sleepable programs
};

// Helpers Linux offers only in some configurations (xbpf allows them with a note).
bool config_dependent(int32_t id) {
    return id == BPF_FUNC_probe_write_user || id == BPF_FUNC_override_return;
}

Probe probe_type(ProgType type, AttachType attach) {
    Probe out;
    ProgramSpec spec;  // stands for a program of no particular section
    spec.prog_type = type;
    spec.expected_attach_type = attach;
    spec.attach_target = type == ProgType::Lsm ? "file_open" : "tcp_connect";
    spec.sleepable = type == ProgType::Syscall;
    LoadPlan plan = plan_load(spec, type);
    if (!plan.problem.empty()) {
        out.loadable = false;
        out.why = plan.problem;
        return out;
    }
    KernelProgramRequest r;
    r.name = "helper_probe";
    r.prog_type = plan.prog_type;
    r.expected_attach_type = plan.expected_attach_type;
    r.attach_btf_id = plan.attach_btf_id;
    r.license = "GPL";
    r.sleepable = spec.sleepable;
    // Some attach types must return 1 (recvmsg, getpeername...): find a return value the
    // kernel takes for a trivial program first.
    int32_t ret = 0;
    for (; ret <= 1; ++ret) {
        const Insn trivial[] = {make::mov64_imm(0, ret), make::exit()};
        r.insns = trivial;
        const KernelVerdict v = kernel_prog_load(r);
        if (v.accepted) break;
        if (ret == 1) {
            out.loadable = false;
            out.why = v.first_line;
            return out;
        }
    }
    for (int32_t id = 1; id < __BPF_FUNC_MAX_ID; ++id) {
        const auto program = probe_program(id, ret);
        r.insns = program;
        const KernelVerdict v = kernel_prog_load(r);
        // Not in the type's table, refused by the helper's own `allowed` check, or a sleeping
        // helper in a program that may not sleep: the type cannot use it.
        const bool sleeps = !v.accepted && v.first_line.find("might sleep") != std::string::npos;
        const bool missing =
            sleeps ||
            (!v.accepted && (v.first_line.find("unknown func") != std::string::npos ||
                             v.first_line.find("cannot use helper") != std::string::npos ||
                             v.first_line.find("not allowed in probe") != std::string::npos));
        if (sleeps) out.sleepable_only.insert(id);
        if (!missing) out.allowed.insert(id);
        if (!missing) out.messages[id] = v.accepted ? "accepted" : v.first_line;
    }
    return out;
}

// A program that checks one packet byte against the end and reads or writes it.
std::vector<Insn> packet_program(const ProgramType& t, bool write, int32_t ret) {
    const ContextField *data = nullptr, *end = nullptr;
    for (const auto& f : t.fields) {
        if (f.kind == ContextFieldKind::PacketStart) data = &f;
        if (f.kind == ContextFieldKind::PacketEnd) end = &f;
    }
    if (data == nullptr || end == nullptr) return {};
    auto width = [](const ContextField& f) { return f.size == 8 ? op::DW : op::W; };
    return {make::load(width(*data), 2, 1, static_cast<int16_t>(data->offset)),
            make::load(width(*end), 3, 1, static_cast<int16_t>(end->offset)),
            make::mov64_reg(4, 2),
            make::alu64_imm(op::ADD, 4, 1),
            make::jmp_reg(op::JGT, 4, 3, 1),
            write ? make::store_imm(op::B, 2, 0, 0) : make::load(op::B, 5, 2, 0),
            make::mov64_imm(0, ret),
            make::exit()};
}

// Whether the kernel lets programs of the type read and write packet bytes: "" when both agree
// with the contract, else what differs.
std::string probe_packet_access(const ProgramType& contract, ProgType type, AttachType attach) {
    ProgramSpec spec;
    spec.prog_type = type;
    spec.expected_attach_type = attach;
    const LoadPlan plan = plan_load(spec, type);
    KernelProgramRequest r;
    r.name = "packet_probe";
    r.prog_type = plan.prog_type;
    r.expected_attach_type = plan.expected_attach_type;
    r.license = "GPL";
    for (int32_t ret = 0; ret <= 1; ++ret) {
        const auto read = packet_program(contract, false, ret);
        if (read.empty()) return "";
        r.insns = read;
        if (!kernel_prog_load(r).accepted) continue;
        const auto write = packet_program(contract, true, ret);
        r.insns = write;
        const KernelVerdict w = kernel_prog_load(r);
        if (w.accepted == contract.packet_writable) return "";
        return fmt::format("packet writes: kernel {} ({}), contract {}",
                           w.accepted ? "allows" : "refuses", w.first_line,
                           contract.packet_writable ? "allows" : "refuses");
    }
    return "packet reads refused by the kernel for every return value tried";
}

std::string names(const std::vector<int32_t>& ids) {
    const auto& catalog = HelperCatalog::linux_helpers();
    std::string out;
    for (int32_t id : ids) {
        const auto* h = catalog.find(id);
        if (!out.empty()) out += ", ";
        out += h != nullptr ? fmt::format("{}#{}", h->prototype.name, id) : fmt::format("#{}", id);
    }
    return out;
}

}  // namespace

int run_helper_probe(const HelperProbeOptions& options) {
    int differences = 0;
    for (const auto& contract : ProgramTypeRegistry::global().all()) {
        if (contract->id >= 0x10000) continue;
        if (!options.type.empty() && contract->name != options.type) continue;
        const auto type = static_cast<ProgType>(contract->id);
        auto attaches = attach_types_of(type);
        if (attaches.empty()) {
            ProgramSpec spec;
            attaches.push_back(static_cast<AttachType>(plan_load(spec, type).expected_attach_type));
        }
        std::set<int32_t> kernel, sleepable_only;
        std::vector<std::string> unloadable;
        for (AttachType attach : attaches) {
            const Probe p = probe_type(type, attach);
            if (options.list && p.loadable) {
                std::string ids;
                for (int32_t id : p.allowed)
                    ids += fmt::format(" {}", id);
                std::cout << fmt::format("LIST {} {}:{}\n", contract->name,
                                         attach_type_name(attach), ids);
            }
            if (!p.loadable) {
                unloadable.push_back(fmt::format("{}: {}", attach_type_name(attach), p.why));
                continue;
            }
            if (options.verbose) {
                std::cout << fmt::format("  {} / {}: {} helpers\n", contract->name,
                                         attach_type_name(attach), p.allowed.size());
                for (const auto& [id, m] : p.messages)
                    std::cout << fmt::format("    {}: {}\n", names({id}), m);
            }
            kernel.insert(p.allowed.begin(), p.allowed.end());
            sleepable_only.insert(p.sleepable_only.begin(), p.sleepable_only.end());
        }
        if (unloadable.size() == attaches.size()) {
            std::cout << fmt::format("{}: not probed ({})\n", contract->name, unloadable.front());
            continue;
        }
        if (const std::string packet = probe_packet_access(*contract, type, attaches.front());
            !packet.empty()) {
            ++differences;
            std::cout << fmt::format("{}: {}\n", contract->name, packet);
        }
        const std::set<int32_t> xbpf(contract->helpers.begin(), contract->helpers.end());
        std::vector<int32_t> missing, extra;
        for (int32_t id : kernel) {
            if (!xbpf.count(id) && !sleepable_only.count(id)) missing.push_back(id);
        }
        std::vector<int32_t> config, sleeping;
        for (int32_t id : xbpf) {
            if (kernel.count(id)) continue;
            if (config_dependent(id)) {
                config.push_back(id);
            } else if (sleepable_only.count(id)) {
                sleeping.push_back(id);  // xbpf checks that the program is sleepable
            } else {
                extra.push_back(id);
            }
        }
        differences += static_cast<int>(missing.size() + extra.size());
        std::cout << fmt::format("{}: kernel allows {}, xbpf allows {}\n", contract->name,
                                 kernel.size(), xbpf.size());
        if (!missing.empty())
            std::cout << fmt::format("  the kernel allows, xbpf does not: {}\n", names(missing));
        if (!extra.empty())
            std::cout << fmt::format("  xbpf allows, the kernel does not: {}\n", names(extra));
        if (!config.empty()) {
            std::cout << fmt::format(
                "  xbpf allows with a note, this kernel's configuration "
                "does not: {}\n",
                names(config));
        }
        if (!sleeping.empty()) {
            std::cout << fmt::format("  only for sleepable programs (both check): {}\n",
                                     names(sleeping));
        }
        for (const auto& u : unloadable)
            std::cout << fmt::format("  not probed for {}\n", u);
    }
    return differences == 0 ? 0 : 1;
}

}  // namespace xbpf::oracle
