#include "kernel_object.hpp"

#include <elf.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

#include "xbpf/btf.hpp"

namespace xbpf::oracle {

namespace {

template <typename T>
bool read_at(std::span<const uint8_t> bytes, size_t offset, T& out) {
    if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
    std::memcpy(&out, bytes.data() + offset, sizeof(T));
    return true;
}

// The bytes of the section called `name` of a 64-bit little-endian ELF file.
std::optional<std::vector<uint8_t>> elf_section(std::span<const uint8_t> elf,
                                                std::string_view name) {
    Elf64_Ehdr eh;
    if (!read_at(elf, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return std::nullopt;
    Elf64_Shdr strtab;
    if (!read_at(elf, eh.e_shoff + size_t{eh.e_shstrndx} * sizeof(Elf64_Shdr), strtab))
        return std::nullopt;
    for (size_t i = 0; i < eh.e_shnum; ++i) {
        Elf64_Shdr sh;
        if (!read_at(elf, eh.e_shoff + i * sizeof(Elf64_Shdr), sh)) return std::nullopt;
        const size_t at = strtab.sh_offset + sh.sh_name;
        if (at >= elf.size()) continue;
        const char* s = reinterpret_cast<const char*>(elf.data() + at);
        const size_t max = elf.size() - at;
        if (std::string_view(s, strnlen(s, max)) != name) continue;
        if (sh.sh_offset > elf.size() || elf.size() - sh.sh_offset < sh.sh_size)
            return std::nullopt;
        return std::vector<uint8_t>(
            elf.begin() + static_cast<std::ptrdiff_t>(sh.sh_offset),
            elf.begin() + static_cast<std::ptrdiff_t>(sh.sh_offset + sh.sh_size));
    }
    return std::nullopt;
}

// Bytes that follow a struct btf_type of this kind (the BTF format of <linux/btf.h>).
size_t trailing_bytes(uint32_t kind, uint32_t vlen) {
    switch (kind) {
        case BTF_KIND_INT: return 4;
        case BTF_KIND_ARRAY: return sizeof(struct btf_array);
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION: return vlen * sizeof(struct btf_member);
        case BTF_KIND_ENUM: return vlen * sizeof(struct btf_enum);
        case BTF_KIND_FUNC_PROTO: return vlen * sizeof(struct btf_param);
        case BTF_KIND_VAR: return sizeof(struct btf_var);
        case BTF_KIND_DATASEC: return vlen * sizeof(struct btf_var_secinfo);
        case 17: return 4;          // BTF_KIND_DECL_TAG: component_idx
        case 19: return vlen * 12;  // BTF_KIND_ENUM64: name, lo32, hi32
        default: return 0;          // PTR, FWD, TYPEDEF, modifiers, FUNC, FLOAT
    }
}

// The object's `.BTF` as the kernel takes it: DATASEC sizes and variable offsets filled in
// from the loader's layout (clang leaves them 0), extern variables and functions turned into
// plain ones (the kernel refuses extern linkage; libbpf rewrites them too).
std::optional<std::vector<uint8_t>> kernel_btf_bytes(std::span<const uint8_t> elf,
                                                     const Btf& parsed) {
    auto raw = elf_section(elf, ".BTF");
    if (!raw) return std::nullopt;
    std::vector<uint8_t>& b = *raw;
    struct btf_header hdr;
    if (!read_at(b, 0, hdr) || hdr.magic != BTF_MAGIC) return std::nullopt;
    size_t at = hdr.hdr_len + hdr.type_off;
    const size_t end = at + hdr.type_len;
    if (end > b.size()) return std::nullopt;
    for (uint32_t id = 1; at < end; ++id) {
        struct btf_type t;
        if (!read_at(b, at, t)) return std::nullopt;
        const uint32_t kind = BTF_INFO_KIND(t.info);
        const uint32_t vlen = BTF_INFO_VLEN(t.info);
        const BtfType* p = parsed.type(id);
        if (kind == BTF_KIND_DATASEC && p != nullptr && p->kind == BtfKind::Datasec) {
            t.size = p->size;
            std::memcpy(b.data() + at, &t, sizeof t);
            for (uint32_t i = 0; i < vlen && i < p->variables.size(); ++i) {
                struct btf_var_secinfo v;
                const size_t vat = at + sizeof t + i * sizeof v;
                if (!read_at(b, vat, v)) return std::nullopt;
                v.offset = p->variables[i].offset;
                v.size = p->variables[i].size;
                std::memcpy(b.data() + vat, &v, sizeof v);
            }
        } else if (kind == BTF_KIND_VAR) {
            struct btf_var v;
            if (!read_at(b, at + sizeof t, v)) return std::nullopt;
            if (v.linkage > BTF_VAR_GLOBAL_ALLOCATED) {
                v.linkage = BTF_VAR_GLOBAL_ALLOCATED;
                std::memcpy(b.data() + at + sizeof t, &v, sizeof v);
            }
        } else if (kind == BTF_KIND_FUNC && vlen > 1) {  // FUNC's vlen is its linkage
            t.info = (t.info & ~0xffffu) | 0;            // static
            std::memcpy(b.data() + at, &t, sizeof t);
        }
        at += sizeof t + trailing_bytes(kind, vlen);
    }
    return raw;
}

uint32_t possible_cpus() {
    const long n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? static_cast<uint32_t>(n) : 1;
}

uint32_t round_up_pow2(uint32_t v, uint32_t min) {
    uint32_t p = min;
    while (p < v && p < (1u << 30))
        p <<= 1;
    return p;
}

bool is_global_data(MapOrigin origin) {
    return origin == MapOrigin::Data || origin == MapOrigin::Rodata || origin == MapOrigin::Bss ||
           origin == MapOrigin::Kconfig;
}

// A map as BPF_MAP_CREATE wants it; the fixes are those libbpf makes (perf event arrays sized
// by CPU count, ring buffers a power of two of pages, local storage without preallocation).
KernelMapRequest map_request(const MapSpec& spec) {
    KernelMapRequest r;
    r.name = spec.name;
    r.type = static_cast<uint32_t>(spec.type);
    r.key_size = spec.key_size;
    r.value_size = spec.value_size;
    r.max_entries = spec.max_entries;
    r.flags = spec.flags;
    r.map_extra = spec.map_extra;
    switch (spec.type) {
        case MapType::PerfEventArray:
            // Values are perf event fds, keys CPU numbers, whatever the object declared.
            r.key_size = r.value_size = 4;
            if (r.max_entries == 0) r.max_entries = possible_cpus();
            break;
        case MapType::ArrayOfMaps:
        case MapType::HashOfMaps:
            r.value_size = 4;  // inner map fds
            break;
        case MapType::Ringbuf:
        case MapType::UserRingbuf:
            r.key_size = r.value_size = 0;
            r.max_entries = round_up_pow2(r.max_entries, static_cast<uint32_t>(getpagesize()));
            break;
        case MapType::CgroupStorage:
        case MapType::PercpuCgroupStorage: r.max_entries = 0; break;
        case MapType::SkStorage:
        case MapType::InodeStorage:
        case MapType::TaskStorage:
        case MapType::CgrpStorage:
            r.max_entries = 0;
            r.flags |= BPF_F_NO_PREALLOC;
            break;
        default: break;
    }
    if (is_global_data(spec.origin)) {
        r.type = BPF_MAP_TYPE_ARRAY;
        r.key_size = 4;
        r.max_entries = 1;
        if (spec.origin == MapOrigin::Rodata || spec.origin == MapOrigin::Kconfig)
            r.flags |= BPF_F_RDONLY_PROG;
    }
    return r;
}

UniqueFd create_map(const MapSpec& spec, int btf_fd, std::string* why) {
    UniqueFd inner;
    KernelMapRequest r = map_request(spec);
    if (spec.inner) {
        inner = create_map(*spec.inner, -1, why);
        if (!inner.valid()) {
            *why = "inner map: " + *why;
            return UniqueFd();
        }
        r.inner_map_fd = inner.get();
    }
    int err = 0;
    UniqueFd fd;
    if (btf_fd >= 0 && spec.btf_value_type_id != 0) {
        KernelMapRequest with_btf = r;
        with_btf.btf_fd = btf_fd;
        with_btf.btf_key_type_id = spec.btf_key_type_id;
        with_btf.btf_value_type_id = spec.btf_value_type_id;
        fd = kernel_map_create(with_btf, &err);
    }
    if (!fd.valid()) fd = kernel_map_create(r, &err);
    if (!fd.valid()) {
        *why =
            fmt::format("BPF_MAP_CREATE ({} type {}, key {}, value {}, entries {}): {}", spec.name,
                        r.type, r.key_size, r.value_size, r.max_entries, std::strerror(err));
        return fd;
    }
    if (is_global_data(spec.origin)) {
        std::vector<uint8_t> value(spec.value_size, 0);
        std::copy_n(spec.initial_value.begin(), std::min(value.size(), spec.initial_value.size()),
                    value.begin());
        const uint32_t key = 0;
        if (!kernel_map_update(fd.get(), &key, value.data(), &err) ||
            ((r.flags & BPF_F_RDONLY_PROG) != 0 && !kernel_map_freeze(fd.get(), &err))) {
            *why = fmt::format("filling global data map {}: {}", spec.name, std::strerror(err));
            return UniqueFd();
        }
    }
    return fd;
}

}  // namespace

KernelObject make_kernel_object(const Object& object, std::span<const uint8_t> elf) {
    KernelObject k;
    if (object.btf) {
        if (auto bytes = kernel_btf_bytes(elf, *object.btf)) {
            k.btf = kernel_btf_load(*bytes, &k.btf_error);
        } else {
            k.btf_error = "the .BTF section could not be read";
        }
    }
    for (const auto& spec : object.maps) {
        std::string why;
        k.maps.push_back(create_map(spec, k.btf.get(), &why));
        k.map_errors.push_back(k.maps.back().valid() ? "" : why);
    }
    return k;
}

std::optional<std::vector<Insn>> with_kernel_maps(const ProgramSpec& program,
                                                  const KernelObject& object, std::string* why) {
    std::vector<Insn> insns = program.insns;
    for (size_t pc = 0; pc + 1 < insns.size(); ++pc) {
        Insn& insn = insns[pc];
        if (!is_lddw(insn)) continue;
        if (insn.src == op::kImmMapByIdx || insn.src == op::kImmMapValueByIdx) {
            const auto index = static_cast<size_t>(insn.imm);
            if (insn.imm < 0 || index >= object.maps.size()) {
                *why = fmt::format("instruction {} refers to map #{}, which does not exist", pc,
                                   insn.imm);
                return std::nullopt;
            }
            if (!object.maps[index].valid()) {
                *why = object.map_errors[index];
                return std::nullopt;
            }
            insn.src = insn.src == op::kImmMapByIdx ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
            insn.imm = object.maps[index].get();
        }
        ++pc;  // skip the second slot
    }
    return insns;
}

uint32_t vmlinux_btf_id(const std::string& name, bool typedef_kind) {
    static const std::shared_ptr<Btf> vmlinux = []() -> std::shared_ptr<Btf> {
        std::ifstream in("/sys/kernel/btf/vmlinux", std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
        auto btf = Btf::parse(bytes);
        return btf.ok() ? *btf : nullptr;
    }();
    if (!vmlinux) return 0;
    return vmlinux->find(name, typedef_kind ? BtfKind::Typedef : BtfKind::Func).value_or(0);
}

}  // namespace xbpf::oracle
