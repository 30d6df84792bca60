#include "support/shared_data.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace xbpf::test {

std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("XBPF_SHARED_DIR"); env != nullptr && *env != '\0') {
        return std::filesystem::exists(env) ? std::filesystem::path(env) : std::filesystem::path();
    }
    std::filesystem::path configured = XBPF_SHARED_DIR;
    return std::filesystem::exists(configured) ? configured : std::filesystem::path();
}

std::filesystem::path source_dir() {
    return XBPF_SOURCE_DIR;
}
std::filesystem::path binary_dir() {
    return XBPF_BINARY_DIR;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace xbpf::test
