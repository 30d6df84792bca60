// BPF_OBJ_GET_INFO_BY_FD (bpf_prog_info, bpf_map_info, bpf_btf_info, bpf_link_info), and the id
// commands (BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID).
#include <cerrno>
#include <cstring>

#include "abi/commands.hpp"
#include "abi/names.hpp"
#include "abi/object_table.hpp"
#include "abi/pin_store.hpp"

namespace xbpf::abi {
namespace {

// Copies `n` items of `items` to the caller's array of `capacity` items (if it gave one).
template <typename T>
void copy_array(uint64_t out, uint32_t capacity, const T* items, size_t n) {
    if (out == 0 || capacity == 0) return;
    std::memcpy(user_ptr(out), items, std::min<size_t>(capacity, n) * sizeof(T));
}

// The instructions the program runs, as Linux's xlated dump shows them: map references as
// BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE with the map's id in imm.
std::vector<Insn> xlated(const ProgObject& prog) {
    std::vector<Insn> out(prog.program->translated().begin(), prog.program->translated().end());
    for (size_t i = 0; i + 1 < out.size(); ++i) {
        if (!is_lddw(out[i])) continue;
        if (out[i].src == op::kImmMapByIdx || out[i].src == op::kImmMapValueByIdx) {
            const auto index = static_cast<size_t>(out[i].imm);
            out[i].src = out[i].src == op::kImmMapByIdx ? op::kImmMapByFd : op::kImmMapValueByFd;
            out[i].imm = index < prog.maps.size() ? int32_t(prog.maps[index]->id()) : 0;
        }
        ++i;
    }
    return out;
}

int prog_info(ProgObject& prog, bpf_prog_info& info) {
    std::lock_guard lock(prog.mutex);  // PROG_BIND_MAP may add maps meanwhile
    const Program& program = *prog.program;
    info.type = prog.prog_type;
    info.id = prog.id();
    std::memcpy(info.tag, prog.tag, sizeof info.tag);
    const auto insns = xlated(prog);
    const uint32_t xlated_capacity = info.xlated_prog_len;
    info.xlated_prog_len = static_cast<uint32_t>(insns.size() * sizeof(Insn));
    if (info.xlated_prog_insns != 0 && xlated_capacity != 0) {
        std::memcpy(user_ptr(info.xlated_prog_insns), insns.data(),
                    std::min(xlated_capacity, info.xlated_prog_len));
    }
    // The JIT's code is not handed out: no jited image, symbols or line table.
    info.jited_prog_len = 0;
    info.nr_jited_ksyms = 0;
    info.nr_jited_func_lens = 0;
    info.nr_jited_line_info = 0;
    info.load_time = prog.load_time_ns;
    info.created_by_uid = prog.created_by_uid;
    std::vector<uint32_t> ids;
    for (const auto& m : prog.maps)
        ids.push_back(m->id());
    const uint32_t map_capacity = info.nr_map_ids;
    info.nr_map_ids = static_cast<uint32_t>(ids.size());
    copy_array(info.map_ids, map_capacity, ids.data(), ids.size());
    put_name(info.name, prog.name);
    info.gpl_compatible = prog.gpl_compatible ? 1 : 0;
    info.btf_id = prog.btf ? prog.btf->id() : 0;

    const auto& spec = program.spec();
    if (info.nr_func_info != 0 && info.func_info_rec_size != sizeof(bpf_func_info)) {
        return -EINVAL;
    }
    std::vector<bpf_func_info> funcs;
    for (const auto& f : spec.func_info)
        funcs.push_back(bpf_func_info{f.insn, f.type_id});
    const uint32_t func_capacity = info.nr_func_info;
    info.nr_func_info = static_cast<uint32_t>(funcs.size());
    info.func_info_rec_size = sizeof(bpf_func_info);
    copy_array(info.func_info, func_capacity, funcs.data(), funcs.size());

    if (info.nr_line_info != 0 && info.line_info_rec_size != sizeof(bpf_line_info)) {
        return -EINVAL;
    }
    std::vector<bpf_line_info> lines;
    if (prog.btf) {
        // The records keep the strings' offsets in the program's BTF string section.
        const char* strings = prog.btf->btf->string_at(0).data();
        auto offset_of = [strings](std::string_view s) {
            return s.data() == nullptr ? 0u : static_cast<uint32_t>(s.data() - strings);
        };
        for (const auto& l : spec.line_info) {
            lines.push_back(bpf_line_info{l.insn, offset_of(l.file), offset_of(l.source),
                                          (l.line << 10) | (l.column & 0x3ff)});
        }
    }
    const uint32_t line_capacity = info.nr_line_info;
    info.nr_line_info = static_cast<uint32_t>(lines.size());
    info.line_info_rec_size = sizeof(bpf_line_info);
    copy_array(info.line_info, line_capacity, lines.data(), lines.size());

    const uint32_t tag_capacity = info.nr_prog_tags;
    info.nr_prog_tags = 1;
    copy_array(info.prog_tags, tag_capacity, prog.tag, 8);
    info.run_time_ns = prog.run_time_ns.load();
    info.run_cnt = prog.run_cnt.load();
    info.verified_insns = static_cast<uint32_t>(program.verification().stats.visited_instructions);
    return 0;
}

void map_info(const MapObject& m, bpf_map_info& info) {
    const Map& map = *m.map;
    info.type = static_cast<uint32_t>(map.type());
    info.id = map.id();
    info.key_size = map.key_size();
    info.value_size = map.value_size();
    info.max_entries = map.max_entries();
    info.map_flags = map.flags();
    put_name(info.name, map.spec().name);
    info.btf_id = m.btf ? m.btf->id() : 0;
    info.btf_key_type_id = m.btf_key_type_id;
    info.btf_value_type_id = m.btf_value_type_id;
    info.map_extra = map.spec().map_extra;
}

void btf_info(const BtfObject& b, bpf_btf_info& info) {
    const uint32_t capacity = info.btf_size;
    info.btf_size = static_cast<uint32_t>(b.bytes.size());
    copy_array(info.btf, capacity, b.bytes.data(), b.bytes.size());
    info.id = b.id();
    const uint32_t name_capacity = info.name_len;
    info.name_len = static_cast<uint32_t>(b.name.size());
    if (info.name != 0 && name_capacity != 0) {
        const size_t n = std::min<size_t>(b.name.size(), name_capacity - 1);
        std::memcpy(user_ptr(info.name), b.name.data(), n);
        user_ptr<char>(info.name)[n] = '\0';
    }
    info.kernel_btf = 0;
}

void link_info(LinkObject& link, bpf_link_info& info) {
    std::lock_guard lock(link.mutex);
    info.type = link.link_type;
    info.id = link.id();
    info.prog_id = link.prog ? link.prog->id() : 0;
    switch (link.link_type) {
        case BPF_LINK_TYPE_XDP: info.xdp.ifindex = link.prog ? link.target : 0; break;
        case BPF_LINK_TYPE_CGROUP:
            info.cgroup.cgroup_id = link.prog ? link.target : 0;
            info.cgroup.attach_type = link.attach_type;
            break;
        case BPF_LINK_TYPE_TRACING: info.tracing.attach_type = link.attach_type; break;
        default: break;
    }
}

// Runs `fill` on the caller's info struct as Linux does: the caller's bytes beyond the kernel's
// struct must be zero (E2BIG), the first info_len bytes are read in (they carry buffer
// pointers and capacities) and written back, and info_len becomes what was written.
template <typename Info, typename Fill>
long with_info(const Call& call, Fill fill) {
    const auto& i = call.attr.info;
    if (i.info == 0) return -EFAULT;
    if (i.info_len > sizeof(Info) && !all_zero(user_ptr(i.info), sizeof(Info), i.info_len)) {
        return -E2BIG;
    }
    const uint32_t len = std::min<uint32_t>(i.info_len, sizeof(Info));
    Info info{};
    std::memcpy(&info, user_ptr(i.info), len);
    if (long err = fill(info); err != 0) return err;
    std::memcpy(user_ptr(i.info), &info, len);
    call.put(offsetof(union bpf_attr, info.info_len), len);
    return 0;
}

ObjectKind kind_of_id_command(int cmd) {
    switch (cmd) {
        case BPF_PROG_GET_NEXT_ID:
        case BPF_PROG_GET_FD_BY_ID: return ObjectKind::Program;
        case BPF_MAP_GET_NEXT_ID:
        case BPF_MAP_GET_FD_BY_ID: return ObjectKind::Map;
        case BPF_BTF_GET_NEXT_ID:
        case BPF_BTF_GET_FD_BY_ID: return ObjectKind::Btf;
        default: return ObjectKind::Link;
    }
}

}  // namespace

long obj_get_info_by_fd(const Call& call) {
    auto [object, err] = ObjectTable::instance().get(static_cast<int>(call.attr.info.bpf_fd));
    if (err != 0) return err;
    // The lambdas capture `object` by name: clang 14 cannot capture a structured binding.
    switch (object->kind) {
        case ObjectKind::Program:
            return with_info<bpf_prog_info>(call, [&, &object = object](bpf_prog_info& info) {
                return prog_info(static_cast<ProgObject&>(*object), info);
            });
        case ObjectKind::Map:
            return with_info<bpf_map_info>(call, [&, &object = object](bpf_map_info& info) {
                map_info(static_cast<MapObject&>(*object), info);
                return 0;
            });
        case ObjectKind::Btf:
            return with_info<bpf_btf_info>(call, [&, &object = object](bpf_btf_info& info) {
                btf_info(static_cast<BtfObject&>(*object), info);
                return 0;
            });
        case ObjectKind::Link:
            return with_info<bpf_link_info>(call, [&, &object = object](bpf_link_info& info) {
                link_info(static_cast<LinkObject&>(*object), info);
                return 0;
            });
    }
    return -EINVAL;
}

long get_next_id(const Call& call, int cmd) {
    auto& table = ObjectTable::instance();
    if (call.attr.start_id == 0) adopt_pinned_objects();
    table.sweep();
    const uint32_t next = table.next_id(kind_of_id_command(cmd), call.attr.start_id);
    if (next == 0) return -ENOENT;
    call.put(offsetof(union bpf_attr, next_id), next);
    return 0;
}

long get_fd_by_id(const Call& call, int cmd) {
    const ObjectKind kind = kind_of_id_command(cmd);
    if (kind != ObjectKind::Program && kind != ObjectKind::Btf &&
        (call.attr.open_flags & ~uint32_t(BPF_F_RDONLY | BPF_F_WRONLY)) != 0) {
        return -EINVAL;
    }
    auto& table = ObjectTable::instance();
    auto object = table.find(kind, call.attr.start_id);
    if (!object) return -ENOENT;
    return table.open(*object);
}

}  // namespace xbpf::abi
