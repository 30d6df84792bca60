#include "loader/btf_ext.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "loader/byte_reader.hpp"

namespace xbpf::loader {

namespace {

constexpr uint16_t kMagic = 0xeb9f;
constexpr uint32_t kMinHeader = 24;      // up to line_info_len
constexpr uint32_t kCoreHeader = 32;     // with core_relo_off and core_relo_len
constexpr uint32_t kMinFuncRecord = 8;   // insn_off, type_id
constexpr uint32_t kMinLineRecord = 16;  // insn_off, file_name_off, line_off, line_col
constexpr uint32_t kMinCoreRecord = 16;  // insn_off, type_id, access_str_off, kind
constexpr uint32_t kLastCoreKind = 12;   // BPF_CORE_TYPE_MATCHES

// Walks one info block: rec_size, then per section {sec_name_off, num_info, records}. Calls
// `read(record_reader, offset, where)` for each record.
template <typename Record, typename ReadRecord>
Status read_block(const ByteReader& block, uint32_t min_record, std::string_view what,
                  const Btf& btf, std::vector<BtfExtSection<Record>>& out, ReadRecord read) {
    if (block.size() == 0) return {};
    const auto where = [&] { return std::string(what); };
    if (!block.has(0, 4)) return Error("truncated record size").in(where());
    const uint32_t record_size = block.u32(0);
    if (record_size < min_record || record_size % 4 != 0) {
        return Error(fmt::format("record size {} is invalid (at least {}, a multiple of 4)",
                                 record_size, min_record))
            .in(where());
    }
    uint64_t at = 4;
    while (at < block.size()) {
        if (!block.has(at, 8)) return Error("truncated section header").in(where());
        const uint32_t name_offset = block.u32(at);
        const uint32_t count = block.u32(at + 4);
        at += 8;
        const std::string_view name = btf.string_at(name_offset);
        if (name_offset == 0 || name.empty()) {
            return Error(fmt::format("section name offset {} is not a name in .BTF", name_offset))
                .in(where());
        }
        const auto section_where = [&] { return fmt::format("{} of section {}", what, name); };
        if (count == 0) return Error("a section has no records").in(section_where());
        if (!block.has(at, uint64_t{count} * record_size)) {
            return Error(fmt::format("{} records of {} bytes run past the end", count, record_size))
                .in(section_where());
        }
        BtfExtSection<Record> section;
        section.section = name;
        section.records.reserve(count);
        for (uint32_t i = 0; i < count; ++i) {
            const uint64_t offset = at + uint64_t{i} * record_size;
            const uint32_t byte_offset = block.u32(offset);
            const auto record_where = [&] { return fmt::format("record {}", i); };
            if (byte_offset % 8 != 0) {
                return Error(
                           fmt::format("instruction offset {} is not a multiple of 8", byte_offset))
                    .in(record_where())
                    .in(section_where());
            }
            Record record;
            record.insn = byte_offset / 8;
            if (auto s = read(block, offset, record); !s) {
                return std::move(s).error().in(record_where()).in(section_where());
            }
            section.records.push_back(record);
        }
        at += uint64_t{count} * record_size;
        out.push_back(std::move(section));
    }
    return {};
}

Result<std::string_view> string_of(const Btf& btf, uint32_t offset, std::string_view what) {
    if (offset == 0) return std::string_view();
    const std::string_view s = btf.string_at(offset);
    if (s.empty()) {
        return Error(fmt::format("{} offset {} is not a string in .BTF", what, offset));
    }
    return s;
}

// Function and line records must be strictly increasing per section (the kernel rejects
// anything else); CO-RE records only need sorting.
template <typename Record>
Status check_increasing(const std::vector<BtfExtSection<Record>>& sections, std::string_view what) {
    for (const auto& s : sections) {
        for (size_t i = 1; i < s.records.size(); ++i) {
            if (s.records[i].insn <= s.records[i - 1].insn) {
                return Error(fmt::format("record {} (instruction {}) does not come after "
                                         "instruction {}",
                                         i, s.records[i].insn, s.records[i - 1].insn))
                    .in(fmt::format("{} of section {}", what, s.section));
            }
        }
    }
    return {};
}

}  // namespace

Result<BtfExt> parse_btf_ext(std::span<const uint8_t> bytes, const Btf& btf) {
    const ByteReader in(bytes);
    if (!in.has(0, kMinHeader)) {
        return Error(
            fmt::format("header is truncated ({} bytes, need {})", bytes.size(), kMinHeader));
    }
    if (in.u16(0) != kMagic) {
        return Error(fmt::format("bad magic {:#06x} (expected {:#06x})", in.u16(0), kMagic));
    }
    if (in.u8(2) != 1) return Error(fmt::format("unsupported version {}", in.u8(2)));
    const uint32_t header_length = in.u32(4);
    if (header_length < kMinHeader || !in.has(0, header_length)) {
        return Error(fmt::format("header length {} is invalid ({} bytes in the section)",
                                 header_length, bytes.size()));
    }
    const auto block = [&](size_t field, std::string_view what) -> Result<ByteReader> {
        const uint64_t offset = uint64_t{header_length} + in.u32(field);
        const uint32_t length = in.u32(field + 4);
        if (!in.has(offset, length)) {
            return Error(fmt::format("{} ({} bytes at {}) runs past the end ({} bytes)", what,
                                     length, offset, bytes.size()));
        }
        return ByteReader(in.slice(offset, length));
    };

    BtfExt out;
    auto funcs = block(8, "func_info");
    if (!funcs) return std::move(funcs).error();
    auto status = read_block<BtfExtFuncRecord>(
        *funcs, kMinFuncRecord, "func_info", btf, out.func_info,
        [&](const ByteReader& r, uint64_t at, BtfExtFuncRecord& rec) -> Status {
            rec.type_id = r.u32(at + 4);
            const BtfType* t = btf.type(rec.type_id);
            if (t == nullptr || t->kind != BtfKind::Func) {
                return Error(fmt::format("type id {} is not a BTF function", rec.type_id));
            }
            return {};
        });
    if (!status) return std::move(status).error();

    auto lines = block(16, "line_info");
    if (!lines) return std::move(lines).error();
    status = read_block<BtfExtLineRecord>(
        *lines, kMinLineRecord, "line_info", btf, out.line_info,
        [&](const ByteReader& r, uint64_t at, BtfExtLineRecord& rec) -> Status {
            auto file = string_of(btf, r.u32(at + 4), "file name");
            if (!file) return std::move(file).error();
            auto source = string_of(btf, r.u32(at + 8), "source line");
            if (!source) return std::move(source).error();
            const uint32_t line_col = r.u32(at + 12);
            rec.file = *file;
            rec.source = *source;
            rec.line = line_col >> 10;
            rec.column = line_col & 0x3ff;
            return {};
        });
    if (!status) return std::move(status).error();

    if (header_length >= kCoreHeader) {
        auto cores = block(24, "core_relo");
        if (!cores) return std::move(cores).error();
        status = read_block<BtfExtCoreRecord>(
            *cores, kMinCoreRecord, "core_relo", btf, out.core_relocations,
            [&](const ByteReader& r, uint64_t at, BtfExtCoreRecord& rec) -> Status {
                rec.type_id = r.u32(at + 4);
                rec.kind = r.u32(at + 12);
                if (rec.type_id == 0 || rec.type_id > btf.type_count()) {
                    return Error(fmt::format("type id {} is out of range ({} types)", rec.type_id,
                                             btf.type_count()));
                }
                if (rec.kind > kLastCoreKind) {
                    return Error(fmt::format("unknown relocation kind {}", rec.kind));
                }
                auto access = string_of(btf, r.u32(at + 8), "access string");
                if (!access) return std::move(access).error();
                if (access->empty() ||
                    access->find_first_not_of("0123456789:") != std::string_view::npos) {
                    return Error(
                        fmt::format("access string '{}' is not of the form 0:1:2", *access));
                }
                rec.access = *access;
                return {};
            });
        if (!status) return std::move(status).error();
        for (auto& section : out.core_relocations) {
            std::stable_sort(section.records.begin(), section.records.end(),
                             [](const auto& a, const auto& b) { return a.insn < b.insn; });
        }
    }

    if (auto s = check_increasing(out.func_info, "func_info"); !s) return std::move(s).error();
    if (auto s = check_increasing(out.line_info, "line_info"); !s) return std::move(s).error();
    return out;
}

}  // namespace xbpf::loader
