// BPF_PROG_LOAD: the instructions as the caller gives them (maps by descriptor), verified and
// prepared by the runtime's load_program(), the verifier's report in log_buf.
#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "abi/commands.hpp"
#include "abi/map_files.hpp"
#include "abi/names.hpp"
#include "abi/object_table.hpp"
#include "abi/prog_common.hpp"
#include "abi/sha1.hpp"
#include "abi/verifier_log.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/program_type.hpp"

namespace xbpf::abi {
namespace {

constexpr uint32_t kMaxInsns = 1'000'000;  // BPF_COMPLEXITY_LIMIT_INSNS
constexpr uint32_t kProgFlags = BPF_F_STRICT_ALIGNMENT | BPF_F_ANY_ALIGNMENT |
                                BPF_F_TEST_STATE_FREQ | BPF_F_SLEEPABLE | BPF_F_TEST_RND_HI32 |
                                BPF_F_XDP_HAS_FRAGS;
// BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2 | BPF_LOG_STATS | BPF_LOG_FIXED
constexpr uint32_t kLogLevelMask = 1 | 2 | 4 | kLogFixed;

// License strings Linux counts as GPL-compatible.
bool gpl_compatible(const std::string& license) {
    for (const char* gpl : {"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL",
                            "Dual MIT/GPL", "Dual MPL/GPL"}) {
        if (license == gpl) return true;
    }
    return false;
}

// Replaces map descriptors in lddw instructions by indexes into `maps` (the runtime's form).
int resolve_map_fds(std::vector<Insn>& insns, uint64_t fd_array,
                    std::vector<std::shared_ptr<MapObject>>& maps) {
    for (size_t i = 0; i < insns.size(); ++i) {
        Insn& insn = insns[i];
        if (!is_lddw(insn)) continue;
        if (i + 1 >= insns.size()) return -EINVAL;
        uint8_t by_index = 0;
        int fd = insn.imm;
        switch (insn.src) {
            case op::kImm64:
            case op::kImmCodeAddr: ++i; continue;
            case op::kImmMapByFd: by_index = op::kImmMapByIdx; break;
            case op::kImmMapValueByFd: by_index = op::kImmMapValueByIdx; break;
            case op::kImmMapByIdx:
            case op::kImmMapValueByIdx:
                // BPF_PSEUDO_MAP_IDX[_VALUE]: the descriptor is fd_array[imm].
                if (fd_array == 0) return -EINVAL;
                by_index = insn.src;
                fd = user_ptr<const int>(fd_array)[insn.imm];
                break;
            default: return -EINVAL;  // kernel variables need the kernel's BTF
        }
        auto [map, err] = ObjectTable::instance().get_as<MapObject>(fd, ObjectKind::Map);
        if (err != 0) return err;
        size_t index = 0;
        while (index < maps.size() && maps[index] != map)
            ++index;
        if (index == maps.size()) maps.push_back(map);
        insn.src = by_index;
        insn.imm = static_cast<int32_t>(index);
        ++i;
    }
    return 0;
}

// Function and line information given with the program (BTF.ext records), for source lines in
// the verifier's messages and for info queries.
int read_btf_ext(const union bpf_attr& a, const std::shared_ptr<BtfObject>& btf,
                 ProgramSpec& spec) {
    if (a.func_info_cnt != 0) {
        if (!btf || a.func_info_rec_size < sizeof(bpf_func_info) || a.func_info == 0) {
            return -EINVAL;
        }
        const auto* base = user_ptr<const uint8_t>(a.func_info);
        for (uint32_t i = 0; i < a.func_info_cnt; ++i) {
            bpf_func_info rec{};
            std::memcpy(&rec, base + size_t(i) * a.func_info_rec_size, sizeof rec);
            if (rec.type_id == 0 || rec.type_id > btf->btf->type_count()) return -EINVAL;
            spec.func_info.push_back(FuncInfo{rec.insn_off, rec.type_id});
        }
    }
    if (a.line_info_cnt != 0) {
        if (!btf || a.line_info_rec_size < sizeof(bpf_line_info) || a.line_info == 0) {
            return -EINVAL;
        }
        const auto* base = user_ptr<const uint8_t>(a.line_info);
        for (uint32_t i = 0; i < a.line_info_cnt; ++i) {
            bpf_line_info rec{};
            std::memcpy(&rec, base + size_t(i) * a.line_info_rec_size, sizeof rec);
            LineInfo line;
            line.insn = rec.insn_off;
            line.file = btf->btf->string_at(rec.file_name_off);
            line.source = btf->btf->string_at(rec.line_off);
            line.line = BPF_LINE_INFO_LINE_NUM(rec.line_col);
            line.column = BPF_LINE_INFO_LINE_COL(rec.line_col);
            spec.line_info.push_back(line);
        }
    }
    return 0;
}

uint64_t boottime_ns() {
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

// Tools probe which helpers a program type may call by loading a program that calls one and
// looking for Linux's wording in the log ("invalid func unknown#N" for an id the kernel does
// not know, "unknown func NAME#N" for one the type may not call). When the verifier rejected
// such a call, the log says it in those words too, so the probes get the truth.
std::string linux_helper_note(const std::vector<Insn>& insns, const VerifierReport& report,
                              const ProgramType& type) {
    if (report.accepted || !report.pc || *report.pc >= insns.size()) return {};
    const Insn& insn = insns[*report.pc];
    if (insn.opcode != op::CALL_IMM || insn.src != op::kCallHelper) return {};
    const auto name = linux_helper_name(insn.imm);
    if (name.empty()) return fmt::format("invalid func unknown#{}\n", insn.imm);
    if (HelperCatalog::linux_helpers().find(insn.imm) == nullptr || !type.allows_helper(insn.imm)) {
        return fmt::format("unknown func {}#{}\n", name, insn.imm);
    }
    return {};
}

}  // namespace

std::array<uint8_t, 8> program_tag(std::span<const Insn> insns) {
    // Linux hashes the instructions with the immediates of map references zeroed.
    std::vector<Insn> copy(insns.begin(), insns.end());
    for (size_t i = 0; i < copy.size(); ++i) {
        if (is_lddw(copy[i]) && i + 1 < copy.size() &&
            (copy[i].src == op::kImmMapByFd || copy[i].src == op::kImmMapValueByFd ||
             copy[i].src == op::kImmMapByIdx || copy[i].src == op::kImmMapValueByIdx)) {
            copy[i].imm = 0;
            copy[i + 1].imm = 0;
            ++i;
        }
    }
    const auto digest = sha1({reinterpret_cast<const uint8_t*>(copy.data()), copy.size() * 8});
    std::array<uint8_t, 8> tag{};
    std::copy_n(digest.begin(), 8, tag.begin());
    return tag;
}

Status build_program(ProgObject& object, ProgramSpec spec, bool verbose, VerifierReport* report) {
    std::vector<std::shared_ptr<Map>> maps;
    for (const auto& m : object.maps)
        maps.push_back(m->map);
    LoadOptions options;
    // Every caller loads as the kernel's CAP_BPF + CAP_PERFMON would let it: the programs run
    // in the caller's own process, so there is no kernel to protect from them.
    options.verifier.privileged = true;
    options.verifier.verbose = verbose;
    object.given = spec.insns;
    const auto tag = program_tag(spec.insns);
    std::copy(tag.begin(), tag.end(), object.tag);
    auto program = load_program(std::move(spec), std::move(maps), options, report);
    if (!program) return std::move(program).error();
    object.program = std::move(*program);
    object.created_by_uid = getuid();
    object.load_time_ns = boottime_ns();
    return {};
}

long install_program(std::shared_ptr<ProgObject> object) {
    const int file = identity_file("xbpf-prog");
    if (file < 0) return file;
    return ObjectTable::instance().install(std::move(object), file);
}

long prog_load(const Call& call) {
    const union bpf_attr& a = call.attr;
    if ((a.prog_flags & ~kProgFlags) != 0) return -EINVAL;
    if (!log_attrs_valid(a.log_level, a.log_size, a.log_buf, kLogLevelMask)) return -EINVAL;
    if (a.insn_cnt == 0) return -EINVAL;
    if (a.insn_cnt > kMaxInsns) return -E2BIG;
    if (a.insns == 0) return -EFAULT;
    if (a.prog_ifindex != 0) return -EINVAL;  // no offload devices
    auto type = ProgramTypeRegistry::global().find(a.prog_type);
    if (!type) return -EINVAL;
    auto name = object_name(a.prog_name);
    if (!name) return -EINVAL;
    std::string license;
    if (a.license != 0) license = std::string(user_ptr<const char>(a.license), 0, 127).c_str();

    auto object = std::make_shared<ProgObject>();
    object->prog_type = a.prog_type;
    object->expected_attach_type = a.expected_attach_type;
    object->name = *name;
    object->gpl_compatible = gpl_compatible(license);
    if (a.prog_btf_fd != 0) {
        auto [btf, err] = ObjectTable::instance().get_as<BtfObject>(static_cast<int>(a.prog_btf_fd),
                                                                    ObjectKind::Btf);
        if (err != 0) return err;
        object->btf = std::move(btf);
    }

    ProgramSpec spec;
    spec.name = object->name.empty() ? fmt::format("prog{}", a.insn_cnt) : object->name;
    spec.prog_type = static_cast<ProgType>(a.prog_type);
    spec.expected_attach_type = static_cast<AttachType>(a.expected_attach_type);
    spec.sleepable = (a.prog_flags & BPF_F_SLEEPABLE) != 0;
    const auto* insns = user_ptr<const Insn>(a.insns);
    spec.insns.assign(insns, insns + a.insn_cnt);
    spec.own_insns = a.insn_cnt;
    if (object->btf) spec.btf = object->btf->btf;
    if (int err = read_btf_ext(a, object->btf, spec); err != 0) return err;
    object->license = license;
    if (int err = resolve_map_fds(spec.insns, a.fd_array, object->maps); err != 0) return err;

    VerifierReport report;
    auto program = build_program(*object, std::move(spec), (a.log_level & 2) != 0, &report);
    std::string log;
    if (a.log_level != 0) {
        log = report.log;
        if (program) {
            log += fmt::format(
                "processed {} insns (limit {}) max_states_per_insn 0 total_states "
                "{} peak_states {} mark_read 0\n",
                report.stats.visited_instructions, kMaxInsns, report.stats.stored_states,
                report.stats.stored_states);
        } else {
            log += program.error().to_string() + "\n";
            log += linux_helper_note(object->given, report, *type);
        }
    }
    // A log that did not fit fails the load with ENOSPC, whatever the verdict.
    const int log_err = a.log_level != 0 ? write_log(a.log_buf, a.log_size, a.log_level, log) : 0;
    if (log_err != 0) return log_err;
    if (!program) {
        // Safety violations are EACCES; malformed programs (structure, unknown helpers) EINVAL.
        return program.error().kind() == ErrorKind::Rejected ? -EACCES : -EINVAL;
    }

    return install_program(std::move(object));
}

}  // namespace xbpf::abi
