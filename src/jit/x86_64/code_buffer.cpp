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
    const size_t capacity = std::max(capacity_ * 2, size_ + room + 256);
    std::unique_ptr<CodeByte[]> bigger(new CodeByte[capacity]);  // uninitialised
    if (size_ != 0) std::memcpy(bigger.get(), bytes_.get(), size_);
    bytes_ = std::move(bigger);
    capacity_ = capacity;
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
    ensure(64);  // slack that copy_to() may read past the end
    const size_t nb = branches_.size();
    const size_t na = aligns_.size();

    // 1. Choose short branches. Every branch starts short and those that do not reach grow,
    // until a pass changes nothing; growing only lengthens distances, so this ends, and the
    // last pass checked every short branch against the layout as it stands. Positions assume
    // each alignment takes its largest padding, so the real layout only brings things closer.
    std::vector<uint32_t> shrink(nb + 1, 0);  // bytes saved by branches [0, i)
    std::vector<uint32_t> pad(na + 1, 0);     // padding of aligns [0, i): largest, then real
    for (size_t i = 0; i < na; ++i)
        pad[i + 1] = pad[i] + aligns_[i].boundary - 1u;
    for (Branch& br : branches_)
        br.is_short = !br.keep_long;
    auto moved = [&](const Position& p) -> int64_t {
        return static_cast<int64_t>(p.pos) - shrink[p.branches] + pad[p.aligns];
    };
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < nb; ++i) {
            const Branch& br = branches_[i];
            shrink[i + 1] = shrink[i] + (br.is_short ? long_size(br.kind) - 2u : 0u);
        }
        size_t a = 0;  // aligns emitted before the current branch
        for (size_t i = 0; i < nb; ++i) {
            Branch& br = branches_[i];
            while (a < na && aligns_[a].branches_before <= i)
                ++a;
            if (!br.is_short) continue;
            const int64_t start = static_cast<int64_t>(br.pos) - shrink[i] + pad[a];
            if (!fits8(moved(labels_[br.target]) - (start + 2))) {
                br.is_short = false;
                changed = true;
            }
        }
    }
    for (size_t i = 0; i < nb; ++i) {
        const Branch& br = branches_[i];
        shrink[i + 1] = shrink[i] + (br.is_short ? long_size(br.kind) - 2u : 0u);
    }

    // 2. The real layout: positions of branches and the exact padding of each alignment, in
    // emission order. (copy_to() then writes the code straight to its destination.)
    branch_at_.assign(nb, 0);
    padding_.assign(na, 0);
    uint32_t in = 0, out = 0;
    size_t bi = 0;
    for (size_t ai = 0; ai <= na; ++ai) {
        const size_t branches_end = ai < na ? aligns_[ai].branches_before : nb;
        for (; bi < branches_end; ++bi) {
            const Branch& br = branches_[bi];
            out += br.pos - in;
            branch_at_[bi] = out;
            out += br.is_short ? 2 : long_size(br.kind);
            in = br.pos + long_size(br.kind);
        }
        if (ai == na) break;
        const Align& al = aligns_[ai];
        out += al.pos - in;
        in = al.pos;
        const auto padding =
            static_cast<uint8_t>((al.boundary - (out & (al.boundary - 1u))) & (al.boundary - 1u));
        padding_[ai] = padding;
        out += padding;
        pad[ai + 1] = pad[ai] + padding;
    }
    out += size_ - in;
    final_size_ = out;

    for (Position& l : labels_) {
        if (l.pos != kUnbound) l.pos = static_cast<uint32_t>(moved(l));
    }
    for (Fixup& f : fixups_)
        f.at.pos = static_cast<uint32_t>(moved(f.at));
    return out;
}

void CodeBuffer::copy_to(uint8_t* dest) const {
    // The code between branches and alignments, branches in their final form, padding.
    const size_t nb = branches_.size();
    const size_t na = aligns_.size();
    uint32_t in = 0, out = 0;
    const uint8_t* src = data();
    auto copy_until = [&](uint32_t pos) {
        const uint32_t length = pos - in;
        if (length <= 64 && out + 64 <= final_size_) {
            // The pieces between branches are short: two fixed-size copies beat a call to
            // memcpy. They may write past the piece, but only over code that is written
            // later, and read past it only into the slack finish() reserved.
            std::memcpy(dest + out, src + in, 32);
            std::memcpy(dest + out + 32, src + in + 32, 32);
        } else {
            std::memcpy(dest + out, src + in, length);
        }
        out += length;
        in = pos;
    };
    size_t bi = 0;
    for (size_t ai = 0; ai <= na; ++ai) {
        const size_t branches_end = ai < na ? aligns_[ai].branches_before : nb;
        for (; bi < branches_end; ++bi) {
            const Branch& br = branches_[bi];
            copy_until(br.pos);
            uint8_t* p = dest + out;
            const int64_t target = labels_[br.target].pos;
            if (br.is_short) {
                p[0] = br.kind == kJmp ? 0xeb : static_cast<uint8_t>(0x70 | br.cond);
                p[1] = static_cast<uint8_t>(static_cast<int8_t>(target - (out + 2)));
                out += 2;
            } else {
                const uint32_t size = long_size(br.kind);
                if (br.kind == kJmp) {
                    p[0] = 0xe9;
                } else {
                    p[0] = 0x0f;
                    p[1] = static_cast<uint8_t>(0x80 | br.cond);
                }
                const auto disp = static_cast<int32_t>(target - (out + size));
                std::memcpy(p + size - 4, &disp, 4);
                out += size;
            }
            in += long_size(br.kind);
        }
        if (ai == na) break;
        copy_until(aligns_[ai].pos);
        write_nops(dest + out, padding_[ai]);
        out += padding_[ai];
    }
    copy_until(size_);

    for (const Fixup& f : fixups_) {
        if (f.kind == kRel32) {
            const auto disp = static_cast<int32_t>(static_cast<int64_t>(labels_[f.target].pos) +
                                                   f.addend - (f.at.pos + 4 + f.tail));
            std::memcpy(dest + f.at.pos, &disp, 4);
        } else {
            const uint64_t address = reinterpret_cast<uintptr_t>(dest) + labels_[f.target].pos;
            std::memcpy(dest + f.at.pos, &address, 8);
        }
    }
}

}  // namespace xbpf::jit::x64
