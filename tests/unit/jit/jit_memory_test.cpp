// W^X: generated code is never writable once prepared, and goes away with its program.
// Constant blinding: the program's constants do not appear in the code, and results match.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "jit/x86_64/jit_program.hpp"
#include "xbpf/engine.hpp"
#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

// The permissions ("r-xp") of the mapping holding `address`, from /proc/self/maps.
std::string permissions_of(const void* address) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    const auto a = reinterpret_cast<uintptr_t>(address);
    while (std::getline(maps, line)) {
        std::istringstream in(line);
        std::string range, perms;
        in >> range >> perms;
        const auto dash = range.find('-');
        const uintptr_t begin = std::stoull(range.substr(0, dash), nullptr, 16);
        const uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
        if (a >= begin && a < end) return perms;
    }
    return "";
}

std::unique_ptr<jit::JitProgram> prepare(std::string_view assembly,
                                         const PrepareOptions& options = {}) {
    auto program = assemble(assembly);
    EXPECT_TRUE(program.ok());
    if (!program) return nullptr;
    auto exe = jit::JitProgram::prepare(*program, {}, options);
    EXPECT_TRUE(exe.ok()) << (exe ? "" : exe.error().to_string());
    return exe ? std::move(*exe) : nullptr;
}

TEST(JitMemory, CodeIsExecutableAndNeverWritable) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    auto exe = prepare("mov %r0, 42\nexit");
    ASSERT_TRUE(exe);
    const std::string perms = permissions_of(exe->code());
    EXPECT_EQ(perms.substr(0, 3), "r-x") << perms;
    RunContext ctx;
    EXPECT_EQ(exe->run(ctx, {}, {}), 42u);
}

TEST(JitMemory, CodeIsNotExecutableOnceItsProgramIsGone) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    auto exe = prepare("mov %r0, 42\nexit");
    ASSERT_TRUE(exe);
    const void* code = exe->code();
    exe.reset();
    // Its pages went back to the pool, read-write (or were unmapped).
    const std::string perms = permissions_of(code);
    EXPECT_TRUE(perms.empty() || perms.substr(0, 3) == "rw-") << perms;
}

TEST(JitMemory, FreedSlotsAreReusedForCodeOfTheirSize) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    auto first = prepare("mov %r0, 1\nexit");
    ASSERT_TRUE(first);
    const void* code = first->code();
    first.reset();
    // The slot went back read-write and is the next one handed out for as small a program.
    auto second = prepare("mov %r0, 2\nexit");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->code(), code);
    EXPECT_EQ(permissions_of(second->code()).substr(0, 3), "r-x");
    RunContext ctx;
    EXPECT_EQ(second->run(ctx, {}, {}), 2u);
    // Its neighbours are the inaccessible guard pages that keep it a mapping of its own.
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto address = reinterpret_cast<uintptr_t>(second->code());
    EXPECT_EQ(permissions_of(reinterpret_cast<const void*>(address - page)).substr(0, 3), "---");
}

TEST(JitMemory, PagesAreReusedAndResealed) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    for (int i = 0; i < 100; ++i) {
        auto exe = prepare("mov %r0, 42\nexit");
        ASSERT_TRUE(exe);
        EXPECT_EQ(permissions_of(exe->code()).substr(0, 3), "r-x");
        RunContext ctx;
        EXPECT_EQ(exe->run(ctx, {}, {}), 42u);
    }
}

TEST(JitBlinding, ConstantsDoNotAppearInTheCode) {
    if (!jit_available()) GTEST_SKIP() << "no JIT on this host";
    const char* program =
        "mov %r0, 0x5a5a1234\nadd %r0, 0x3c3c4321\nlddw %r1, 0x1122334455667788\n"
        "stw [%r10-8], 0x7e7e5678\njeq %r0, 0x6b6b8765, +1\nxor %r0, %r1\nexit";
    const uint32_t constants[] = {0x5a5a1234, 0x3c3c4321, 0x55667788,
                                  0x11223344, 0x7e7e5678, 0x6b6b8765};
    auto contains = [](const jit::JitProgram& exe, uint32_t value) {
        uint8_t bytes[4];
        std::memcpy(bytes, &value, 4);
        const uint8_t* code = exe.code();
        for (size_t i = 0; i + 4 <= exe.code_size(); ++i) {
            if (std::memcmp(code + i, bytes, 4) == 0) return true;
        }
        return false;
    };
    auto plain = prepare(program);
    PrepareOptions options;
    options.blind_constants = true;
    auto blinded = prepare(program, options);
    ASSERT_TRUE(plain && blinded);
    for (uint32_t c : constants) {
        EXPECT_TRUE(contains(*plain, c)) << std::hex << c;
        EXPECT_FALSE(contains(*blinded, c)) << std::hex << c;
    }
    RunContext a, b;
    EXPECT_EQ(plain->run(a, {}, {}), blinded->run(b, {}, {}));
}

}  // namespace
}  // namespace xbpf
