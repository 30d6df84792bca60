// `.BTF.ext`: per-section function information, line information and CO-RE relocation records
// (docs.kernel.org/bpf/btf.html, section ".BTF.ext section"). Offsets are instruction byte
// offsets within the ELF section the records name; strings live in `.BTF`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "xbpf/btf.hpp"
#include "xbpf/error.hpp"

namespace xbpf::loader {

struct BtfExtFuncRecord {
    uint32_t insn = 0;  // slot index in the section
    uint32_t type_id = 0;
};

struct BtfExtLineRecord {
    uint32_t insn = 0;
    std::string_view file;
    std::string_view source;
    uint32_t line = 0;
    uint32_t column = 0;
};

struct BtfExtCoreRecord {
    uint32_t insn = 0;
    uint32_t type_id = 0;
    std::string_view access;
    uint32_t kind = 0;
};

// Records of one ELF section, sorted by instruction (strictly increasing for function and line
// records, as the kernel requires).
template <typename Record>
struct BtfExtSection {
    std::string_view section;
    std::vector<Record> records;
};

struct BtfExt {
    std::vector<BtfExtSection<BtfExtFuncRecord>> func_info;
    std::vector<BtfExtSection<BtfExtLineRecord>> line_info;
    std::vector<BtfExtSection<BtfExtCoreRecord>> core_relocations;
};

// Parses `.BTF.ext`, checking every offset, count, string and type id against `btf` (whose
// strings the records view).
Result<BtfExt> parse_btf_ext(std::span<const uint8_t> bytes, const Btf& btf);

// The records of a section whose instruction lies in [first, first + count).
template <typename Record>
std::span<const Record> records_in(const std::vector<BtfExtSection<Record>>& sections,
                                   std::string_view section, uint32_t first, uint32_t count) {
    for (const auto& s : sections) {
        if (s.section != section) continue;
        const auto& r = s.records;
        auto lo = std::lower_bound(r.begin(), r.end(), first,
                                   [](const Record& rec, uint32_t v) { return rec.insn < v; });
        auto hi = std::lower_bound(lo, r.end(), uint64_t{first} + count,
                                   [](const Record& rec, uint64_t v) { return rec.insn < v; });
        return {lo, hi};
    }
    return {};
}

}  // namespace xbpf::loader
