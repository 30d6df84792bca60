// The loader against the shared corpus of real objects (../shared/corpus): every object loads,
// every program labels.csv lists is found with its instruction count and (where the section
// name decides it) its program type, and every malformed object fails cleanly.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "loader_test_support.hpp"
#include "support/shared_data.hpp"
#include "xbpf/isa.hpp"
#include "xbpf/object.hpp"

namespace xbpf::test {
namespace {

namespace fs = std::filesystem;

fs::path corpus() {
    return shared_dir() / "corpus";
}

// Objects of the corpus (outside invalid/) that must not load, and why.
const std::map<std::string, std::string> kExpectedLoadFailures = {
    // Calls `ebpf_map_update_elem`, an extern that is neither a helper nor in the object.
    {"build/badrelo.o", "ebpf_map_update_elem"},
};

// Files of invalid/ that are well-formed objects: the problem the corpus records for them is
// one the loader does not see, and rightly so.
const std::set<std::string> kLoadableInvalidObjects = {
    // A debug section renamed "info" (its relocations still point at it): harmless, and Linux
    // accepts the object (labels.csv: either / accept).
    "ef2e42c0bfcf4dab6b9c3926759365b6dfa73634",
    // 35 programs that tail-call each other: well formed; it exists to time verifiers out.
    "timeout-29db93548c671165313b314d4f83a3eefa24df37",
};

std::vector<fs::path> corpus_objects() {
    std::vector<fs::path> out;
    for (const auto& dir : fs::directory_iterator(corpus())) {
        if (!dir.is_directory() || dir.path().filename() == "invalid") continue;
        for (const auto& file : fs::directory_iterator(dir.path())) {
            if (file.path().extension() == ".o") out.push_back(file.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string corpus_name(const fs::path& path) {
    return fs::relative(path, corpus()).generic_string();
}

// How labels.csv counts instructions: the program with its appended subprograms, an lddw
// counting once (as PREVAIL, which produced the counts, reads programs), and a shift pair
// `rX <<= 32; rX >>= 32` (or `s>>= 32`) counting once too, since PREVAIL reads it as one
// zero- or sign-extension.
size_t labelled_instruction_count(const ProgramSpec& program) {
    const auto& insns = program.insns;
    size_t count = 0;
    for (size_t pc = 0; pc < insns.size(); ++pc) {
        ++count;
        if (is_lddw(insns[pc])) {
            ++pc;
            continue;
        }
        const bool left_32 =
            insns[pc].opcode == (op::ALU64 | op::K | op::LSH) && insns[pc].imm == 32;
        if (left_32 && pc + 1 < insns.size()) {
            const Insn& next = insns[pc + 1];
            const bool right_32 = (next.opcode == (op::ALU64 | op::K | op::RSH) ||
                                   next.opcode == (op::ALU64 | op::K | op::ARSH)) &&
                                  next.imm == 32 && next.dst == insns[pc].dst;
            if (right_32) ++pc;
        }
    }
    return count;
}

// One CSV record, with quoted fields.
std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            fields.emplace_back();
        } else {
            fields.back() += c;
        }
    }
    return fields;
}

TEST(Corpus, EveryObjectLoadsAndItsProgramsAreWellFormed) {
    XBPF_REQUIRE_SHARED("corpus");
    size_t loaded = 0, programs = 0;
    for (const auto& path : corpus_objects()) {
        const std::string name = corpus_name(path);
        auto object = load_object_file(path);
        if (auto expected = kExpectedLoadFailures.find(name);
            expected != kExpectedLoadFailures.end()) {
            ASSERT_FALSE(object.ok()) << name << " should not load";
            EXPECT_TRUE(contains(object.error().to_string(), expected->second))
                << object.error().to_string();
            continue;
        }
        ASSERT_TRUE(object.ok()) << object.error().to_string();
        ++loaded;
        EXPECT_FALSE(object->programs.empty()) << name;
        for (const auto& program : object->programs) {
            ++programs;
            auto valid = validate_program(program.insns);
            EXPECT_TRUE(valid.ok()) << name << ": " << program.name << ": "
                                    << (valid.ok() ? "" : valid.error().to_string());
            // Map references are by index into the object's maps.
            for (size_t pc = 0; pc < program.insns.size(); ++pc) {
                const Insn& insn = program.insns[pc];
                if (!is_lddw(insn)) continue;
                if (insn.src == op::kImmMapByIdx || insn.src == op::kImmMapValueByIdx) {
                    EXPECT_LT(static_cast<size_t>(insn.imm), object->maps.size())
                        << name << ": " << program.name << " at " << pc;
                }
                EXPECT_NE(insn.src, op::kImmMapByFd) << name;
                ++pc;
            }
        }
    }
    std::cout << "[ corpus   ] " << loaded << " objects loaded, " << programs << " programs\n";
    EXPECT_GE(loaded, 130u);
}

TEST(Corpus, EveryLabelledProgramIsFoundWithItsCountAndType) {
    XBPF_REQUIRE_SHARED("corpus/labels.csv");
    std::ifstream in(corpus() / "labels.csv");
    std::string line;
    std::getline(in, line);
    ASSERT_EQ(split_csv(line)[0], "dir");
    std::map<std::string, Object> objects;
    size_t rows = 0, found = 0, counted = 0, typed = 0;
    while (std::getline(in, line)) {
        const auto f = split_csv(line);
        ASSERT_GE(f.size(), 8u) << line;
        const std::string& dir = f[0];
        const std::string file = dir + "/" + f[1];
        const std::string& section = f[2];
        const std::string& function = f[3];
        const std::string& insns = f[4];
        const std::string& prog_type = f[6];
        const std::string& prog_type_from = f[7];
        if (dir == "invalid" || kExpectedLoadFailures.count(file) != 0) continue;
        ++rows;
        if (objects.count(file) == 0) {
            auto object = load_object_file(corpus() / file);
            ASSERT_TRUE(object.ok()) << object.error().to_string();
            objects.emplace(file, std::move(*object));
        }
        const Object& object = objects.at(file);
        const ProgramSpec* program = nullptr;
        for (const auto& p : object.programs) {
            if (p.section == section && p.name == function) program = &p;
        }
        ASSERT_NE(program, nullptr) << file << ": no program " << section << " / " << function;
        ++found;
        if (!insns.empty()) {
            EXPECT_EQ(labelled_instruction_count(*program), std::stoul(insns))
                << file << ": " << section << " / " << function;
            ++counted;
        }
        if (prog_type_from == "section name") {
            EXPECT_EQ(prog_type_name(program->prog_type), prog_type)
                << file << ": " << section << " / " << function;
            ++typed;
        }
    }
    std::cout << "[ labels   ] " << found << "/" << rows << " programs found, " << counted
              << " instruction counts and " << typed << " section-name types compared\n";
    EXPECT_EQ(found, rows);
    EXPECT_GE(found, 280u);
}

TEST(Corpus, MalformedObjectsFailCleanly) {
    XBPF_REQUIRE_SHARED("corpus/invalid");
    size_t failed = 0;
    for (const auto& file : fs::directory_iterator(corpus() / "invalid")) {
        const std::string name = file.path().filename().string();
        auto object = load_object_file(file.path());
        if (kLoadableInvalidObjects.count(name) != 0) {
            EXPECT_TRUE(object.ok())
                << name << ": " << (object.ok() ? "" : object.error().to_string());
            continue;
        }
        ASSERT_FALSE(object.ok()) << name << " loaded";
        const std::string message = object.error().to_string();
        // The message starts with the file and says something more.
        EXPECT_TRUE(message.starts_with(file.path().string() + ": ")) << message;
        EXPECT_GT(message.size(), file.path().string().size() + 10) << message;
        ++failed;
    }
    EXPECT_GE(failed, 9u);
}

TEST(Corpus, MalformedObjectErrorsSayWhatIsWrong) {
    XBPF_REQUIRE_SHARED("corpus/invalid");
    const std::map<std::string, std::string> expected = {
        {"badsymsize.o", "section .symtab: symbol entry size is 8, expected 24"},
        {"invalid-lddw.o", "section .text: the lddw at instruction 1"},
        {"806cc077e56f0ec32236c99055714f63649e7a38", "runs past the end of the file"},
        {"af99e766f6ba44fd7f2135c3e325c817224b99a3",
         "section [17]: name offset 0x20008c is outside the section name table"},
        {"ab3408afd06d68dd7e73bf21bde38350d9751a78",
         "symbol 110: section index 38 is out of range (30 sections)"},
    };
    for (const auto& [name, fragment] : expected) {
        auto object = load_object_file(corpus() / "invalid" / name);
        ASSERT_FALSE(object.ok()) << name;
        EXPECT_TRUE(contains(object.error().to_string(), fragment)) << object.error().to_string();
    }
}

}  // namespace
}  // namespace xbpf::test
