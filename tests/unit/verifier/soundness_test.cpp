// Soundness is tested, not assumed: random and mutated programs (valid by construction, biased
// toward packet and map accesses, bounds checks, helper calls and loops) are verified, and every
// accepted one runs in the checked interpreter on random inputs, where it must never fault.
// The CTest run is bounded (a few seconds); scripts/soundness.sh runs a long campaign
// (XBPF_SOUNDNESS_SECONDS, XBPF_SOUNDNESS_SEED).
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>

#include "xbpf/engine.hpp"
#include "xbpf/helpers.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/program_type.hpp"
#include "xbpf/verifier.hpp"

namespace xbpf {
namespace {

constexpr uint32_t kValueSize = 16;
constexpr uint32_t kEntries = 4;

// A small XDP-like contract of the harness's own: data, data_end, a readable scalar and a
// writable one. Natively the pointers are 8 bytes.
ProgramType harness_type() {
    ProgramType t;
    t.id = 0x10042;
    t.name = "soundness";
    t.context_size = 16;
    t.native_context_size = 32;
    auto field = [](std::string name, uint32_t off, ContextFieldKind kind, uint32_t native,
                    uint8_t nsize, uint8_t reads, uint8_t writes) {
        ContextField f;
        f.name = std::move(name);
        f.offset = off;
        f.size = 4;
        f.kind = kind;
        f.read_widths = reads;
        f.write_widths = writes;
        f.native_offset = native;
        f.native_size = nsize;
        return f;
    };
    t.fields = {field("data", 0, ContextFieldKind::PacketStart, 0, 8, access_width::k4, 0),
                field("data_end", 4, ContextFieldKind::PacketEnd, 8, 8, access_width::k4, 0),
                field("len", 8, ContextFieldKind::Scalar, 16, 4, access_width::kUpTo4, 0),
                field("mark", 12, ContextFieldKind::Scalar, 20, 4, access_width::kUpTo4,
                      access_width::kUpTo4)};
    t.helpers = {1, 7};
    t.runnable = true;
    return t;
}

struct NativeContext {
    uint64_t data;
    uint64_t data_end;
    uint32_t len;
    uint32_t mark;
    uint64_t pad;
};

struct TestMap {
    uint8_t values[kEntries][kValueSize];
};

uint64_t lookup_helper(uint64_t map, uint64_t key_ptr, uint64_t, uint64_t, uint64_t,
                       RunContext& ctx) {
    auto* m = reinterpret_cast<TestMap*>(map);
    uint32_t key = 0;
    std::memcpy(&key, reinterpret_cast<const void*>(key_ptr), sizeof(key));
    if (key >= kEntries) return 0;
    ctx.allow_region(m->values[key], kValueSize, true, "map value");
    return reinterpret_cast<uint64_t>(m->values[key]);
}

uint64_t prandom_helper(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
    static thread_local std::mt19937 rng(1);
    return rng();
}

class Generator {
  public:
    explicit Generator(uint64_t seed) : rng_(seed) {}

    std::vector<Insn> program() {
        out_.clear();
        calls_.clear();
        spilled_ = false;
        emit(make::mov64_reg(6, 1));
        for (int r = 7; r <= 9; ++r)
            emit(make::mov64_imm(r, pick(0, 3)));
        const int snippets = pick(1, 8);
        for (int i = 0; i < snippets; ++i)
            snippet();
        emit(make::mov64_reg(0, 7));
        emit(make::alu64_imm(op::AND, 0, 3));
        emit(make::exit());
        append_subprograms();
        mutate();
        return out_;
    }

  private:
    int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    bool chance(int percent) { return pick(0, 99) < percent; }
    void emit(Insn insn) { out_.push_back(insn); }
    int reg() { return pick(7, 9); }
    uint8_t size_code() {
        static const uint8_t sizes[] = {op::B, op::H, op::W, op::DW};
        return sizes[pick(0, 3)];
    }
    // A forward conditional jump over the next `n` instructions, patched later.
    size_t jump_placeholder(Insn insn) {
        out_.push_back(insn);
        return out_.size() - 1;
    }
    void patch(size_t at) { out_[at].off = static_cast<int16_t>(out_.size() - at - 1); }

    void snippet() {
        switch (pick(0, 12)) {
            case 12: length_check(); break;
            case 8: choice(); break;
            case 9: spill_or_fill(); break;
            case 10: call_subprogram(); break;
            case 11: linked_check(); break;
            case 0: alu(); break;
            case 1:
                emit(make::load(op::W, reg(), 6, static_cast<int16_t>(chance(80) ? 8 : 12)));
                break;
            case 2: packet(); break;
            case 3: map(); break;
            case 4: stack(); break;
            case 5: loop(); break;
            case 6:
                emit(make::call_helper(7));
                emit(make::mov64_reg(reg(), 0));
                break;
            default: diamond(); break;
        }
    }

    void alu() {
        static const uint8_t ops[] = {op::ADD, op::SUB, op::MUL, op::DIV, op::OR,   op::AND,
                                      op::LSH, op::RSH, op::MOD, op::XOR, op::ARSH, op::MOV};
        const uint8_t code = ops[pick(0, 11)];
        const bool is64 = chance(60);
        const int dst = reg();
        if (chance(50)) {
            int32_t imm = pick(-20, 300);
            if (code == op::LSH || code == op::RSH || code == op::ARSH)
                imm = pick(0, is64 ? 63 : 31);
            if ((code == op::DIV || code == op::MOD) && imm == 0) imm = 3;
            emit(is64 ? make::alu64_imm(code, dst, imm) : make::alu32_imm(code, dst, imm));
        } else {
            emit(is64 ? make::alu64_reg(code, dst, reg()) : make::alu32_reg(code, dst, reg()));
        }
    }

    void packet() {
        emit(make::load(op::W, 2, 6, 0));
        emit(make::load(op::W, 3, 6, 4));
        if (chance(40)) {  // a variable offset
            emit(make::mov64_reg(5, reg()));
            emit(make::alu64_imm(op::AND, 5, pick(0, 1) ? 15 : 63));
            emit(make::alu64_reg(op::ADD, 2, 5));
        }
        const int check = pick(1, 40);
        emit(make::mov64_reg(4, 2));
        emit(make::alu64_imm(op::ADD, 4, check));
        const bool strict = chance(30);
        const size_t j = jump_placeholder(make::jmp_reg(strict ? op::JGE : op::JGT, 4, 3, 0));
        const uint8_t sz = size_code();
        const int width = access_size(sz);
        const int off = std::max(0, check - width + pick(-3, 1));
        if (chance(70)) {
            emit(make::load(sz, reg(), 2, static_cast<int16_t>(off)));
        } else {
            emit(make::store_imm(sz, 2, static_cast<int16_t>(off), pick(0, 255)));
        }
        patch(j);
    }

    void map() {
        if (chance(50)) {
            emit(make::store_imm(op::W, 10, -4, pick(0, 5)));
        } else {
            emit(make::store_reg(op::W, 10, -4, reg()));
        }
        emit(make::mov64_reg(2, 10));
        emit(make::alu64_imm(op::ADD, 2, -4));
        make::lddw(out_, 1, 0, op::kImmMapByIdx);
        emit(make::call_helper(1));
        const bool checked = chance(85);
        size_t j = 0;
        if (checked) j = jump_placeholder(make::jmp_imm(op::JEQ, 0, 0, 0));
        if (chance(40)) {
            emit(make::mov64_reg(5, reg()));
            emit(make::alu64_imm(op::AND, 5, pick(0, 1) ? 7 : 15));
            emit(make::alu64_reg(op::ADD, 0, 5));
        } else if (chance(25)) {
            // An offset whose bound comes only from earlier choices and checks (precision).
            emit(make::alu64_reg(op::ADD, 0, reg()));
        }
        const uint8_t sz = size_code();
        const int off = static_cast<int>(kValueSize) - access_size(sz) - pick(-2, 6);
        if (chance(60)) {
            emit(make::load(sz, reg(), 0, static_cast<int16_t>(off)));
        } else {
            emit(make::store_reg(sz, 0, static_cast<int16_t>(off), reg()));
        }
        if (checked) patch(j);
    }

    void stack() {
        const uint8_t sz = size_code();
        const int off = -pick(1, 64);
        emit(make::store_reg(sz, 10, static_cast<int16_t>(off), reg()));
        const uint8_t rsz = chance(70) ? sz : size_code();
        emit(make::load(rsz, reg(), 10, static_cast<int16_t>(chance(70) ? off : -pick(1, 64))));
    }

    void loop() {
        const int bound = pick(1, 20);
        emit(make::mov64_imm(5, 0));
        const size_t head = out_.size();
        emit(make::mov64_reg(4, 5));
        emit(make::alu64_imm(op::AND, 4, pick(0, 1) ? 7 : 15));
        emit(make::mov64_reg(1, 10));
        emit(make::alu64_imm(op::ADD, 1, -16));
        emit(make::alu64_reg(op::ADD, 1, 4));
        emit(make::store_reg(op::B, 1, 0, 5));
        emit(make::alu64_imm(op::ADD, 5, 1));
        emit(make::jmp_imm(op::JLT, 5, bound, static_cast<int16_t>(head - out_.size() - 1)));
    }

    // `if (data_end - data < k) skip;` then an access near k: the length relation must hold
    // exactly (signed compares only, offsets kept, narrow reloads forget it).
    void length_check() {
        emit(make::load(op::W, 2, 6, 0));
        emit(make::load(op::W, 3, 6, 4));
        const int shift = chance(30) ? pick(1, 8) : 0;
        if (shift != 0) emit(make::alu64_imm(op::ADD, 2, shift));
        emit(make::mov64_reg(4, 3));
        emit(make::alu64_reg(op::SUB, 4, 2));
        if (chance(25)) {
            emit(make::store_reg(chance(50) ? op::DW : op::W, 10, -96, 4));
            emit(make::load(chance(50) ? op::DW : op::W, 4, 10, -96));
        }
        if (chance(25)) emit(make::alu64_imm(op::ADD, 4, pick(-4, 4)));
        const int k = pick(1, 40);
        static const uint8_t skips[] = {op::JSLT, op::JSLE, op::JLT, op::JSGT};
        const uint8_t code = skips[pick(0, 3)];
        // JSGT with the constant on the left reads "k > len": skip when the length is short.
        const size_t j = code == op::JSGT ? (emit(make::mov64_imm(5, k)),
                                             jump_placeholder(make::jmp_reg(op::JSGT, 5, 4, 0)))
                                          : jump_placeholder(make::jmp_imm(code, 4, k, 0));
        const uint8_t sz = size_code();
        const int off = std::max(0, k - access_size(sz) + pick(-3, 2));
        if (chance(70)) {
            emit(make::load(sz, reg(), 2, static_cast<int16_t>(off)));
        } else {
            emit(make::store_imm(sz, 2, static_cast<int16_t>(off), pick(0, 255)));
        }
        patch(j);
    }

    // A register set differently on two paths that meet again: which value it has is what
    // pruning must not forget when a later access depends on it.
    void choice() {
        const int target = reg();
        const size_t j = jump_placeholder(make::jmp_imm(op::JGT, reg(), pick(0, 100), 0));
        emit(make::mov64_imm(target, pick(0, 8)));
        const size_t over = jump_placeholder(make::ja(0));
        patch(j);
        emit(make::mov64_imm(target, chance(50) ? pick(0, 8) : pick(9, 400)));
        patch(over);
    }

    // Values parked on the stack and read back later, maybe into another register.
    void spill_or_fill() {
        static const int16_t slots[] = {-72, -80, -88};
        const int16_t slot = slots[pick(0, 2)];
        if (chance(50) || !spilled_) {
            emit(make::store_reg(op::DW, 10, slot, reg()));
            spilled_ = true;
        } else {
            emit(make::load(op::DW, reg(), 10, slot));
        }
    }

    // A copy checked, the original used: the check must carry over to it (and survive pruning).
    void linked_check() {
        const int value = reg();
        emit(make::mov64_reg(5, value));
        const size_t j = jump_placeholder(make::jmp_imm(op::JGT, 5, pick(0, 12), 0));
        emit(make::store_imm(op::W, 10, -4, 0));
        emit(make::mov64_reg(2, 10));
        emit(make::alu64_imm(op::ADD, 2, -4));
        make::lddw(out_, 1, 0, op::kImmMapByIdx);
        emit(make::call_helper(1));
        const size_t null = jump_placeholder(make::jmp_imm(op::JEQ, 0, 0, 0));
        emit(make::alu64_reg(op::ADD, 0, value));
        emit(make::load(op::B, reg(), 0, static_cast<int16_t>(pick(0, 3))));
        patch(null);
        patch(j);
    }

    // A call to a small function that bounds (or not) its argument and returns it.
    void call_subprogram() {
        emit(make::mov64_reg(1, reg()));
        calls_.push_back(out_.size());
        emit(make::call_local(0));
        emit(make::mov64_reg(reg(), 0));
    }

    void append_subprograms() {
        if (calls_.empty()) return;
        const size_t start = out_.size();
        emit(make::mov64_reg(0, 1));
        if (chance(80)) emit(make::alu64_imm(op::AND, 0, pick(0, 1) ? 7 : 255));
        if (chance(50)) emit(make::alu64_imm(op::ADD, 0, pick(0, 4)));
        emit(make::exit());
        for (size_t at : calls_)
            out_[at].imm = static_cast<int32_t>(start - at - 1);
    }

    void diamond() {
        const size_t j = jump_placeholder(make::jmp_imm(op::JGT, reg(), pick(0, 100), 0));
        alu();
        if (chance(50)) alu();
        patch(j);
    }

    // Small changes to one instruction: offsets, immediates.
    void mutate() {
        if (!chance(30)) return;
        const size_t at = static_cast<size_t>(pick(1, static_cast<int>(out_.size()) - 2));
        Insn& insn = out_[at];
        if (is_lddw(insn) || (at > 0 && is_lddw(out_[at - 1]))) return;
        const uint8_t cls = insn_class(insn.opcode);
        if (cls == op::LDX || cls == op::ST || cls == op::STX)
            insn.off = static_cast<int16_t>(insn.off + pick(-4, 4));
        if (is_alu_class(insn.opcode) && (insn.opcode & op::kSourceMask) == op::K)
            insn.imm += pick(-4, 4);
    }

    std::mt19937_64 rng_;
    std::vector<Insn> out_;
    std::vector<size_t> calls_;  // local calls to patch once the subprogram is placed
    bool spilled_ = false;
};

DisasmOptions indexed() {
    DisasmOptions o;
    o.indices = true;
    return o;
}

struct CampaignCounts {
    uint64_t generated = 0, accepted = 0, runs = 0, faults = 0;
};

CampaignCounts run_campaign(uint64_t seed, double seconds) {
    static const ProgramType type = harness_type();
    MapSpec spec;
    spec.name = "values";
    spec.type = MapType::Array;
    spec.key_size = 4;
    spec.value_size = kValueSize;
    spec.max_entries = kEntries;
    const std::vector<MapSpec> maps{spec};
    HelperTable table;
    table.set(1, lookup_helper);
    table.set(7, prandom_helper);
    TestMap map_storage{};
    Generator gen(seed);
    std::mt19937_64 rng(seed ^ 0x5eed);
    CampaignCounts counts;
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
           seconds) {
        std::vector<Insn> program = gen.program();
        ++counts.generated;
        VerifierInput input;
        input.program = program;
        input.type = &type;
        input.maps = maps;
        input.helpers = &HelperCatalog::linux_helpers();
        input.options.max_visited_instructions = 100'000;
        const VerifierReport report = verify(input);
        if (!report.accepted) continue;
        ++counts.accepted;
        std::vector<Insn> rewritten = program;
        auto rw = rewrite_context_accesses(rewritten, type, report.context_accesses);
        EXPECT_TRUE(rw.ok()) << (rw.ok() ? "" : rw.error().to_string());
        if (!rw.ok()) continue;
        PrepareOptions prepare;
        prepare.checked = true;
        prepare.instruction_budget = 1'000'000;
        prepare.resolve_lddw = [&map_storage](const Insn&, const Insn&) -> Result<uint64_t> {
            return reinterpret_cast<uint64_t>(&map_storage);
        };
        auto exe = prepare_interpreter(rewritten, table, prepare);
        EXPECT_TRUE(exe.ok()) << (exe.ok() ? "" : exe.error().to_string());
        if (!exe.ok()) continue;
        for (int run = 0; run < 8; ++run) {
            std::vector<uint8_t> packet(static_cast<size_t>(rng() % 96));
            for (auto& b : packet)
                b = static_cast<uint8_t>(rng());
            NativeContext native{};
            native.data = reinterpret_cast<uint64_t>(packet.data());
            native.data_end = native.data + packet.size();
            native.len = static_cast<uint32_t>(rng());
            const MemoryRegion regions[] = {
                MemoryRegion{reinterpret_cast<uintptr_t>(&native), sizeof(native), true, "context"},
                MemoryRegion{reinterpret_cast<uintptr_t>(packet.data()), packet.size(), true,
                             "packet"}};
            std::vector<MemoryRegion> dynamic;
            RunContext ctx;
            ctx.dynamic_regions = &dynamic;
            RunOptions options;
            options.regions = regions;
            const uint64_t arg = reinterpret_cast<uint64_t>(&native);
            (*exe)->run(ctx, std::span<const uint64_t>(&arg, 1), options);
            ++counts.runs;
            if (ctx.fault) {
                ++counts.faults;
                ADD_FAILURE() << "accepted program faulted at " << ctx.fault->pc << ": "
                              << ctx.fault->message << "\n"
                              << disassemble(program, indexed());
                break;
            }
        }
    }
    return counts;
}

TEST(VerifierSoundness, AcceptedRandomProgramsNeverFault) {
    double seconds = 3;
    uint64_t seed = 1;
    if (const char* s = std::getenv("XBPF_SOUNDNESS_SECONDS")) seconds = std::atof(s);
    if (const char* s = std::getenv("XBPF_SOUNDNESS_SEED")) seed = std::strtoull(s, nullptr, 10);
    const CampaignCounts c = run_campaign(seed, seconds);
    std::cout << fmt::format(
        "soundness: {} programs generated, {} accepted, {} checked runs, {} faults\n", c.generated,
        c.accepted, c.runs, c.faults);
    EXPECT_EQ(c.faults, 0u);
    EXPECT_GT(c.accepted, c.generated / 10) << "the generator should produce mostly valid programs";
}

}  // namespace
}  // namespace xbpf
