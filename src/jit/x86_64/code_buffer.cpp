// Branch shortening, alignment and fixups for CodeBuffer (see code_buffer.hpp).
#include "jit/x86_64/code_buffer.hpp"

#include <algorithm>

namespace xbpf::jit::x64 {
namespace {

// The recommended multi-byte NOP encodings (Intel SDM, "NOP"; AMD accepts the same), by length.
constexpr uint8_t kNops[10][9] = {
    {},
    {0x90},
    {0x66, 0x90},
    {0x0f, 0x1f, 0x00},
    {0x0f, 0x1f, 0x40, 0x00},
    {0x0f, 0x1f, 0x44, 0x00, 0x00},
    {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
    {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
    {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
};

void write_nops(uint8_t* out, uint32_t count) {
    while (count > 0) {
        const uint32_t n = std::min<uint32_t>(count, 9);
        std::memcpy(out, kNops[n], n);
        out += n;
        count -= n;
    }
}

bool fits8(int64_t v) {
    return v >= -128 && v <= 127;
}

}  // namespace

void CodeBuffer::grow(size_t room) {
    bytes_.reserve(std::max(bytes_.capacity() * 2, size_ + room + 256));
}

void CodeBuffer::branch(Label target, uint8_t kind, uint8_t cond, bool keep_long) {
    ensure(8);
    branches_.push_back(Branch{size_, target.id, kind, cond, keep_long});
    // Placeholder long form; finish() rewrites it.
    if (kind == kJmp) {
        byte(0xe9);
    } else {
        byte(0x0f);
        byte(static_cast<uint8_t>(0x80 | cond));
    }
    u32(0);
}

uint32_t CodeBuffer::finish() {
    // 1. Choose short branches. Positions are estimated with every alignment taking its largest
    // padding, so a distance estimated here never grows in the final layout; shortening a
    // branch only brings others closer, so each pass keeps earlier decisions valid.
    const size_t nb = branches_.size();
    std::vector<uint32_t> shrink_before(nb + 1, 0);  // bytes saved by branches [0, i)
    std::vector<uint32_t> pad_before;                // largest padding of aligns [0, i)
    pad_before.reserve(aligns_.size() + 1);
    pad_before.push_back(0);
    for (const Align& a : aligns_)
        pad_before.push_back(pad_before.back() + a.boundary - 1u);

    // Estimated new position of old position p. A label bound at p follows the padding of an
    // alignment at p and precedes a branch emitted at p.
    auto estimate = [&](uint32_t p) -> int64_t {
        const size_t b = static_cast<size_t>(
            std::lower_bound(branches_.begin(), branches_.end(), p,
                             [](const Branch& br, uint32_t pos) { return br.pos < pos; }) -
            branches_.begin());
        const size_t a = static_cast<size_t>(
            std::upper_bound(aligns_.begin(), aligns_.end(), p,
                             [](uint32_t pos, const Align& al) { return pos < al.pos; }) -
            aligns_.begin());
        return static_cast<int64_t>(p) - shrink_before[b] + pad_before[a];
    };
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < nb; ++i) {
            const Branch& br = branches_[i];
            shrink_before[i + 1] = shrink_before[i] + (br.is_short ? long_size(br.kind) - 2u : 0u);
        }
        for (Branch& br : branches_) {
            if (br.is_short || br.keep_long) continue;
            const int64_t start = estimate(br.pos);
            const int64_t target = estimate(label_pos_[br.target]);
            if (fits8(target - (start + 2))) {
                br.is_short = true;
                changed = true;
            }
        }
    }

    // 2. Lay the code out for real: copy the segments between branches and alignments, emit
    // branches in their chosen size and padding to the exact boundary.
    struct Segment {
        uint32_t old_start;
        uint32_t new_start;
    };
    std::vector<Segment> segments;
    segments.reserve(nb + aligns_.size() + 1);
    segments.push_back(Segment{0, 0});
    std::vector<uint32_t> branch_new_pos(nb);
    final_.assign(size_ + aligns_.size() * 64 + 16, 0);
    uint32_t in = 0, out = 0;
    size_t bi = 0, ai = 0;
    auto copy_until = [&](uint32_t pos) {
        std::memcpy(final_.data() + out, bytes_.data() + in, pos - in);
        out += pos - in;
        in = pos;
    };
    while (bi < nb || ai < aligns_.size()) {
        // Padding at a position goes before a branch at the same position.
        const bool take_align =
            ai < aligns_.size() && (bi >= nb || aligns_[ai].pos <= branches_[bi].pos);
        if (take_align) {
            const Align& a = aligns_[ai++];
            copy_until(a.pos);
            const uint32_t pad = (a.boundary - (out & (a.boundary - 1u))) & (a.boundary - 1u);
            write_nops(final_.data() + out, pad);
            out += pad;
            segments.push_back(Segment{in, out});
        } else {
            const Branch& br = branches_[bi];
            copy_until(br.pos);
            branch_new_pos[bi] = out;
            out += br.is_short ? 2 : long_size(br.kind);
            in += long_size(br.kind);
            segments.push_back(Segment{in, out});
            ++bi;
        }
    }
    copy_until(size_);
    final_.resize(out);

    auto remap = [&](uint32_t p) -> uint32_t {
        auto it =
            std::upper_bound(segments.begin(), segments.end(), p,
                             [](uint32_t pos, const Segment& s) { return pos < s.old_start; });
        --it;
        return it->new_start + (p - it->old_start);
    };
    for (uint32_t& pos : label_pos_) {
        if (pos != kUnbound) pos = remap(pos);
    }

    // 3. Branch displacements and fixups against the final label positions.
    for (size_t i = 0; i < nb; ++i) {
        const Branch& br = branches_[i];
        uint8_t* p = final_.data() + branch_new_pos[i];
        const int64_t target = label_pos_[br.target];
        if (br.is_short) {
            p[0] = br.kind == kJmp ? 0xeb : static_cast<uint8_t>(0x70 | br.cond);
            p[1] = static_cast<uint8_t>(static_cast<int8_t>(target - (branch_new_pos[i] + 2)));
        } else {
            const uint32_t size = long_size(br.kind);
            if (br.kind == kJmp) {
                p[0] = 0xe9;
            } else {
                p[0] = 0x0f;
                p[1] = static_cast<uint8_t>(0x80 | br.cond);
            }
            const auto disp = static_cast<int32_t>(target - (branch_new_pos[i] + size));
            std::memcpy(p + size - 4, &disp, 4);
        }
    }
    for (Fixup& f : fixups_) {
        f.pos = remap(f.pos);
        if (f.kind == kRel32) {
            const auto disp = static_cast<int32_t>(static_cast<int64_t>(label_pos_[f.target]) +
                                                   f.addend - (f.pos + 4 + f.tail));
            std::memcpy(final_.data() + f.pos, &disp, 4);
        }
    }
    return out;
}

void CodeBuffer::copy_to(uint8_t* dest) const {
    std::memcpy(dest, final_.data(), final_.size());
    for (const Fixup& f : fixups_) {
        if (f.kind != kAbs64) continue;
        const uint64_t address = reinterpret_cast<uintptr_t>(dest) + label_pos_[f.target];
        std::memcpy(dest + f.pos, &address, 8);
    }
}

}  // namespace xbpf::jit::x64
