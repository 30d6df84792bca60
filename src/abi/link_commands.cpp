// Attachments: BPF_LINK_CREATE/UPDATE/DETACH, BPF_PROG_ATTACH/DETACH/QUERY, BPF_PROG_BIND_MAP.
// xbpf has no kernel hooks to put programs on, so attachments are records with Linux's rules
// (which program type fits which attach type, which targets exist) that programs, info and
// queries report; xbpf's own hooks (capture replay, test runs) take programs directly.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>

#include "abi/commands.hpp"
#include "abi/map_files.hpp"
#include "abi/object_table.hpp"

namespace xbpf::abi {
namespace {

std::atomic<uint32_t> g_next_link_id{1};

// The program type an attach type takes and the link type it makes, per Linux.
struct AttachRule {
    uint32_t prog_type;
    uint32_t link_type;
    bool needs_expected_attach_type;  // the program must have been loaded for this attach type
};

std::optional<AttachRule> attach_rule(uint32_t attach_type) {
    switch (attach_type) {
        case BPF_XDP: return AttachRule{BPF_PROG_TYPE_XDP, BPF_LINK_TYPE_XDP, false};
        case BPF_CGROUP_INET_INGRESS:
        case BPF_CGROUP_INET_EGRESS:
            return AttachRule{BPF_PROG_TYPE_CGROUP_SKB, BPF_LINK_TYPE_CGROUP, false};
        case BPF_CGROUP_INET_SOCK_CREATE:
        case BPF_CGROUP_INET_SOCK_RELEASE:
        case BPF_CGROUP_INET4_POST_BIND:
        case BPF_CGROUP_INET6_POST_BIND:
            return AttachRule{BPF_PROG_TYPE_CGROUP_SOCK, BPF_LINK_TYPE_CGROUP, true};
        case BPF_CGROUP_SOCK_OPS:
            return AttachRule{BPF_PROG_TYPE_SOCK_OPS, BPF_LINK_TYPE_CGROUP, false};
        case BPF_CGROUP_DEVICE:
            return AttachRule{BPF_PROG_TYPE_CGROUP_DEVICE, BPF_LINK_TYPE_CGROUP, false};
        case BPF_CGROUP_INET4_BIND:
        case BPF_CGROUP_INET6_BIND:
        case BPF_CGROUP_INET4_CONNECT:
        case BPF_CGROUP_INET6_CONNECT:
        case BPF_CGROUP_UDP4_SENDMSG:
        case BPF_CGROUP_UDP6_SENDMSG:
        case BPF_CGROUP_UDP4_RECVMSG:
        case BPF_CGROUP_UDP6_RECVMSG:
        case BPF_CGROUP_INET4_GETPEERNAME:
        case BPF_CGROUP_INET6_GETPEERNAME:
        case BPF_CGROUP_INET4_GETSOCKNAME:
        case BPF_CGROUP_INET6_GETSOCKNAME:
            return AttachRule{BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_LINK_TYPE_CGROUP, true};
        case BPF_CGROUP_SYSCTL:
            return AttachRule{BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_LINK_TYPE_CGROUP, false};
        case BPF_CGROUP_GETSOCKOPT:
        case BPF_CGROUP_SETSOCKOPT:
            return AttachRule{BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_LINK_TYPE_CGROUP, true};
        case BPF_TRACE_FENTRY:
        case BPF_TRACE_FEXIT:
        case BPF_MODIFY_RETURN:
            return AttachRule{BPF_PROG_TYPE_TRACING, BPF_LINK_TYPE_TRACING, true};
        case BPF_LSM_MAC: return AttachRule{BPF_PROG_TYPE_LSM, BPF_LINK_TYPE_TRACING, true};
        default: return std::nullopt;
    }
}

int check_attach(const ProgObject& prog, uint32_t attach_type, AttachRule& rule) {
    auto found = attach_rule(attach_type);
    if (!found) return -EINVAL;
    rule = *found;
    if (prog.prog_type != rule.prog_type) return -EINVAL;
    if (rule.needs_expected_attach_type && prog.expected_attach_type != attach_type) {
        return -EINVAL;
    }
    return 0;
}

// What a target descriptor names: a cgroup (its directory's inode, Linux's cgroup id).
int target_of(uint32_t fd, uint64_t& target) {
    struct stat st {};
    if (fstat(static_cast<int>(fd), &st) != 0) return -EBADF;
    if (!S_ISDIR(st.st_mode)) return -EINVAL;
    target = st.st_ino;
    return 0;
}

// Programs attached with BPF_PROG_ATTACH, per target and attach type, in attach order.
struct Attachment {
    std::shared_ptr<ProgObject> prog;
    uint32_t flags;
};
std::mutex g_attach_mutex;
std::map<std::pair<uint64_t, uint32_t>, std::vector<Attachment>> g_attached;

std::pair<std::shared_ptr<ProgObject>, int> prog_of(uint32_t fd) {
    return ObjectTable::instance().get_as<ProgObject>(static_cast<int>(fd), ObjectKind::Program);
}

}  // namespace

long link_create(const Call& call) {
    const auto& l = call.attr.link_create;
    auto [prog, err] = prog_of(l.prog_fd);
    if (err != 0) return err;
    AttachRule rule{};
    if (int e = check_attach(*prog, l.attach_type, rule); e != 0) return e;
    auto link = std::make_shared<LinkObject>();
    link->link_type = rule.link_type;
    link->attach_type = l.attach_type;
    if (rule.link_type == BPF_LINK_TYPE_XDP) {
        // Only the loopback interface (ifindex 1) exists, as in xbpf's test runs.
        if (l.target_ifindex != 1) return -ENODEV;
        link->target = l.target_ifindex;
    } else if (rule.link_type == BPF_LINK_TYPE_CGROUP) {
        uint64_t target = 0;
        if (int e = target_of(l.target_fd, target); e != 0) return e;
        link->target = static_cast<uint32_t>(target);
    }
    link->prog = std::move(prog);
    link->link_id = g_next_link_id.fetch_add(1);
    const int file = identity_file("xbpf-link");
    if (file < 0) return file;
    return ObjectTable::instance().install(std::move(link), file);
}

long link_update(const Call& call) {
    const auto& u = call.attr.link_update;
    if ((u.flags & ~uint32_t(BPF_F_REPLACE)) != 0) return -EINVAL;
    auto [link, err] =
        ObjectTable::instance().get_as<LinkObject>(static_cast<int>(u.link_fd), ObjectKind::Link);
    if (err != 0) return err;
    auto [prog, perr] = prog_of(u.new_prog_fd);
    if (perr != 0) return perr;
    std::lock_guard lock(link->mutex);
    if (!link->prog) return -ENOLINK;
    if (u.flags & BPF_F_REPLACE) {
        auto [old, oerr] = prog_of(u.old_prog_fd);
        if (oerr != 0) return oerr;
        if (old != link->prog) return -EPERM;
    } else if (u.old_prog_fd != 0) {
        return -EINVAL;
    }
    if (prog->prog_type != link->prog->prog_type ||
        prog->expected_attach_type != link->prog->expected_attach_type) {
        return -EINVAL;
    }
    link->prog = std::move(prog);
    return 0;
}

long link_detach(const Call& call) {
    auto [link, err] = ObjectTable::instance().get_as<LinkObject>(
        static_cast<int>(call.attr.link_detach.link_fd), ObjectKind::Link);
    if (err != 0) return err;
    std::lock_guard lock(link->mutex);
    link->prog.reset();
    return 0;
}

long prog_attach(const Call& call) {
    const union bpf_attr& a = call.attr;
    constexpr uint32_t kFlags = BPF_F_ALLOW_OVERRIDE | BPF_F_ALLOW_MULTI | BPF_F_REPLACE;
    if ((a.attach_flags & ~kFlags) != 0) return -EINVAL;
    auto [prog, err] = prog_of(a.attach_bpf_fd);
    if (err != 0) return err;
    AttachRule rule{};
    if (int e = check_attach(*prog, a.attach_type, rule); e != 0) return e;
    if (rule.link_type != BPF_LINK_TYPE_CGROUP) return -EINVAL;
    uint64_t target = 0;
    if (int e = target_of(a.target_fd, target); e != 0) return e;
    std::lock_guard lock(g_attach_mutex);
    auto& list = g_attached[{target, a.attach_type}];
    const bool multi = (a.attach_flags & BPF_F_ALLOW_MULTI) != 0;
    if (!list.empty() &&
        (list.front().flags & BPF_F_ALLOW_MULTI) != (a.attach_flags & BPF_F_ALLOW_MULTI)) {
        return -EPERM;
    }
    // `prog` captured by name here and below: clang 14 cannot capture a structured binding.
    if (std::any_of(list.begin(), list.end(),
                    [&prog = prog](const auto& x) { return x.prog == prog; })) {
        return -EEXIST;
    }
    if (!multi) {
        if (!list.empty() && !(list.front().flags & BPF_F_ALLOW_OVERRIDE)) return -EPERM;
        list.clear();
    }
    list.push_back(Attachment{std::move(prog), a.attach_flags});
    return 0;
}

long prog_detach(const Call& call) {
    const union bpf_attr& a = call.attr;
    uint64_t target = 0;
    if (int e = target_of(a.target_fd, target); e != 0) return e;
    std::shared_ptr<ProgObject> prog;
    if (a.attach_bpf_fd != 0) {
        auto [p, err] = prog_of(a.attach_bpf_fd);
        if (err != 0) return err;
        prog = std::move(p);
    }
    std::lock_guard lock(g_attach_mutex);
    auto it = g_attached.find({target, a.attach_type});
    if (it == g_attached.end() || it->second.empty()) return -ENOENT;
    auto& list = it->second;
    if (!prog) {
        if (list.size() != 1) return -ENOENT;
        list.clear();
        return 0;
    }
    auto found = std::find_if(list.begin(), list.end(),
                              [&prog = prog](const auto& x) { return x.prog == prog; });
    if (found == list.end()) return -ENOENT;
    list.erase(found);
    return 0;
}

long prog_query(const Call& call) {
    const auto& q = call.attr.query;
    if (q.query_flags & ~uint32_t(BPF_F_QUERY_EFFECTIVE)) return -EINVAL;
    if (!attach_rule(q.attach_type)) return -EINVAL;
    uint64_t target = 0;
    if (int e = target_of(q.target_fd, target); e != 0) return e;
    std::vector<uint32_t> ids;
    uint32_t flags = 0;
    {
        std::lock_guard lock(g_attach_mutex);
        auto it = g_attached.find({target, q.attach_type});
        if (it != g_attached.end()) {
            for (const auto& x : it->second)
                ids.push_back(x.prog->id());
            if (!it->second.empty()) flags = it->second.front().flags;
        }
    }
    call.put(offsetof(union bpf_attr, query.attach_flags), flags);
    call.put(offsetof(union bpf_attr, query.prog_cnt), static_cast<uint32_t>(ids.size()));
    if (q.prog_ids == 0 || ids.empty()) return 0;
    std::memcpy(user_ptr(q.prog_ids), ids.data(),
                std::min<size_t>(q.prog_cnt, ids.size()) * sizeof(uint32_t));
    return q.prog_cnt < ids.size() ? -ENOSPC : 0;
}

long prog_bind_map(const Call& call) {
    const auto& b = call.attr.prog_bind_map;
    if (b.flags != 0) return -EINVAL;
    auto [prog, err] = prog_of(b.prog_fd);
    if (err != 0) return err;
    auto [map, merr] =
        ObjectTable::instance().get_as<MapObject>(static_cast<int>(b.map_fd), ObjectKind::Map);
    if (merr != 0) return merr;
    std::lock_guard lock(prog->mutex);
    if (std::find(prog->maps.begin(), prog->maps.end(), map) == prog->maps.end()) {
        prog->maps.push_back(std::move(map));
    }
    return 0;
}

}  // namespace xbpf::abi
