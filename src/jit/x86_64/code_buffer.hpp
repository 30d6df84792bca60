// A growing buffer of x86-64 machine code with labels, branches that are shortened after the
// fact, aligned labels and position-dependent fields that are patched once the layout is final.
//
// Code is first emitted with every branch in its long form (rel32). finish() then decides which
// branches fit a rel8, compacts the code, inserts alignment padding and patches every
// position-dependent field. Deciding after emission keeps code generation a single pass: the
// alternative, generating twice with the first pass's offsets, costs twice the time.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace xbpf::jit::x64 {

// A position in the code, bound once (bind) and referenced any number of times before or after.
struct Label {
    uint32_t id = UINT32_MAX;
    bool valid() const { return id != UINT32_MAX; }
};

// Condition codes, in the encoding x86 uses for jcc, setcc and cmovcc (low nibble).
enum class Cond : uint8_t {
    O = 0x0,
    NO = 0x1,
    B = 0x2,   // unsigned <
    AE = 0x3,  // unsigned >=
    E = 0x4,
    NE = 0x5,
    BE = 0x6,  // unsigned <=
    A = 0x7,   // unsigned >
    S = 0x8,
    NS = 0x9,
    L = 0xc,   // signed <
    GE = 0xd,  // signed >=
    LE = 0xe,  // signed <=
    G = 0xf,   // signed >
};
inline constexpr Cond negate(Cond c) {
    return static_cast<Cond>(static_cast<uint8_t>(c) ^ 1);
}

class CodeBuffer {
  public:
    CodeBuffer() = default;
    explicit CodeBuffer(size_t expected_bytes) { grow(expected_bytes); }

    // ---- raw bytes: callers reserve room first (ensure), then write without checks ----
    void ensure(size_t room) {
        if (capacity_ - size_ < room) grow(room);
    }
    void byte(uint8_t b) { bytes_[size_++] = CodeByte{b}; }
    void u16(uint16_t v) { put(v); }
    void u32(uint32_t v) { put(v); }
    void u64(uint64_t v) { put(v); }
    uint32_t size() const { return size_; }
    const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(bytes_.get()); }

    // ---- labels ----
    Label new_label() {
        labels_.push_back(Position{kUnbound, 0, 0});
        return Label{static_cast<uint32_t>(labels_.size() - 1)};
    }
    // Creates `count` labels with consecutive ids; returns the first.
    Label new_labels(size_t count) {
        const auto first = static_cast<uint32_t>(labels_.size());
        labels_.resize(labels_.size() + count, Position{kUnbound, 0, 0});
        return Label{first};
    }
    void bind(Label l) { labels_[l.id] = here(); }
    bool bound(Label l) const { return labels_[l.id].pos != kUnbound; }
    // Aligns the code that follows to `boundary` bytes (a power of two up to 64) with NOPs.
    void align(uint8_t boundary) {
        aligns_.push_back(Align{size_, static_cast<uint32_t>(branches_.size()), boundary});
    }

    // ---- branches and position-dependent fields ----
    // jmp / jcc to a label: emitted long (E9 rel32 / 0F 8x rel32); shortened by finish() when the
    // distance allows, unless `keep_long` (entries of a table with a fixed stride).
    void jmp(Label target, bool keep_long = false) { branch(target, kJmp, 0, keep_long); }
    void jcc(Cond c, Label target) { branch(target, kJcc, static_cast<uint8_t>(c), false); }
    // Records that the 4 bytes just written are a displacement relative to the end of the
    // instruction (which ends `tail` bytes later) that must reach `target` + `addend`: call
    // rel32, RIP-relative operands.
    void rel32_to(Label target, uint8_t tail = 0, int32_t addend = 0) {
        fixups_.push_back(Fixup{here(4), target.id, addend, tail, kRel32});
    }
    // Records that the 8 bytes just written must hold the absolute address of `target`.
    void abs64_to(Label target) { fixups_.push_back(Fixup{here(8), target.id, 0, 0, kAbs64}); }

    // Finalises the layout: chooses branch sizes, inserts padding, patches displacements.
    // Returns the final code size; label offsets are final afterwards.
    uint32_t finish();
    // Offset of a label in the final code (after finish()).
    uint32_t offset(Label l) const { return labels_[l.id].pos; }
    // Writes the final code to `dest` (finish() must have run), patching absolute addresses for
    // the address the code will live at.
    void copy_to(uint8_t* dest) const;

  private:
    static constexpr uint32_t kUnbound = UINT32_MAX;
    static constexpr uint8_t kJmp = 0, kJcc = 1;
    static constexpr uint8_t kRel32 = 0, kAbs64 = 1;

    // A position in the unfinished code, with how many branches and alignments come before it,
    // which is all finish() needs to move it (labels and fields never sit inside a branch).
    struct Position {
        uint32_t pos;
        uint32_t branches;
        uint32_t aligns;
    };
    Position here(uint32_t back = 0) const {
        return Position{size_ - back, static_cast<uint32_t>(branches_.size()),
                        static_cast<uint32_t>(aligns_.size())};
    }

    struct Branch {
        uint32_t pos;  // where the long form starts in the unfinished code
        uint32_t target;
        uint8_t kind;
        uint8_t cond;
        bool keep_long;
        bool is_short = false;
    };
    struct Align {
        uint32_t pos;
        uint32_t branches_before;
        uint8_t boundary;
    };
    struct Fixup {
        Position at;
        uint32_t target;
        int32_t addend;
        uint8_t tail;
        uint8_t kind;
    };

    template <typename T>
    void put(T v) {
        // Byte by byte (the compiler merges the stores): a memcpy could alias anything.
        for (size_t i = 0; i < sizeof v; ++i)
            bytes_[size_ + i] = CodeByte{static_cast<uint8_t>(v >> (8 * i))};
        size_ += sizeof v;
    }
    void grow(size_t room);
    void branch(Label target, uint8_t kind, uint8_t cond, bool keep_long);
    static uint32_t long_size(uint8_t kind) { return kind == kJmp ? 5 : 6; }

    // The code is stored as a byte type that is not a character type: a store through a
    // uint8_t* may alias any object, so the compiler would have to reload the buffer's pointer
    // and size after every byte; a CodeByte store aliases only bytes.
    enum class CodeByte : uint8_t {};
    // Not zero-filled: only the first size_ bytes are ever read.
    std::unique_ptr<CodeByte[]> bytes_;
    size_t capacity_ = 0;
    uint32_t size_ = 0;
    std::vector<Position> labels_;
    std::vector<Branch> branches_;
    std::vector<Align> aligns_;
    std::vector<Fixup> fixups_;
    // The layout finish() chose, for copy_to().
    std::vector<uint32_t> branch_at_;
    std::vector<uint8_t> padding_;
    uint32_t final_size_ = 0;
};

}  // namespace xbpf::jit::x64
