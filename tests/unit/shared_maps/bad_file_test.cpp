// open_pinned_map on files that are not (or no longer) valid map files: each is refused with an
// error saying what is wrong, and nothing is mapped. The tests corrupt copies of a real map file.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <fstream>

#include "runtime/maps/map_file.hpp"
#include "shared_map_test_util.hpp"

namespace xbpf {
namespace {

using maps::MapFileHeader;
using test::make_shared;
using test::ScratchDir;
using test::spec_of;

class BadMapFile : public ::testing::Test {
  protected:
    // A pinned map of `spec` and a copy of its file to corrupt.
    std::filesystem::path copy_of(const MapSpec& spec) {
        auto map = make_shared(spec, dir_);
        if (map == nullptr) return {};
        const auto pinned = dir_ / ("pinned" + std::to_string(++n_));
        EXPECT_TRUE(pin_map(*map, pinned).ok());
        const auto copy = dir_ / ("copy" + std::to_string(n_));
        std::filesystem::copy_file(pinned, copy);
        return copy;
    }

    // Overwrites `size` bytes at `offset` of the header page of the file.
    static void patch_header(const std::filesystem::path& file, size_t offset, const void* bytes,
                             size_t size) {
        const int fd = open(file.c_str(), O_RDWR);
        ASSERT_GE(fd, 0);
        const off_t header = lseek(fd, 0, SEEK_END) - static_cast<off_t>(map_page_size());
        ASSERT_EQ(pwrite(fd, bytes, size, header + static_cast<off_t>(offset)),
                  static_cast<ssize_t>(size));
        close(fd);
    }
    template <typename T>
    static void patch_field(const std::filesystem::path& file, size_t offset, T value) {
        patch_header(file, offset, &value, sizeof value);
    }

    // Opening `file` fails with EINVAL and a message containing `words`.
    static void expect_refused(const std::filesystem::path& file, const std::string& words) {
        int error = 0;
        auto map = open_pinned_map(file, &error);
        ASSERT_FALSE(map.ok());
        EXPECT_EQ(error, EINVAL);
        const std::string message = map.error().to_string();
        EXPECT_NE(message.find(words), std::string::npos) << message;
        EXPECT_NE(message.find(file.string()), std::string::npos) << message;  // says which file
    }

    ScratchDir dir_;
    int n_ = 0;
};

TEST_F(BadMapFile, TheCopiesThemselvesOpen) {
    const auto copy = copy_of(spec_of(MapType::Hash, 4, 4, 8));
    auto map = open_pinned_map(copy);
    ASSERT_TRUE(map.ok()) << map.error().to_string();
}

TEST_F(BadMapFile, WrongMagic) {
    const auto copy = copy_of(spec_of(MapType::Array, 4, 8, 4));
    patch_header(copy, offsetof(MapFileHeader, magic), "NOTAMAP", 8);
    expect_refused(copy, "not an xbpf map file");
}

TEST_F(BadMapFile, WrongVersion) {
    const auto copy = copy_of(spec_of(MapType::Array, 4, 8, 4));
    patch_field<uint32_t>(copy, offsetof(MapFileHeader, version), maps::kMapFileVersion + 1);
    expect_refused(copy, "format version " + std::to_string(maps::kMapFileVersion + 1));
}

TEST_F(BadMapFile, TruncatedMidPage) {
    const auto copy = copy_of(spec_of(MapType::Array, 4, 8, 4));
    std::filesystem::resize_file(copy, std::filesystem::file_size(copy) - 100);
    expect_refused(copy, "not a whole number of pages");
}

TEST_F(BadMapFile, TruncatedByWholePages) {
    const auto copy = copy_of(spec_of(MapType::Array, 4, 8, 4096));
    std::filesystem::resize_file(copy, std::filesystem::file_size(copy) - map_page_size());
    expect_refused(copy, "cut short");
}

TEST_F(BadMapFile, RegionSizeDisagreesWithFileSize) {
    const auto copy = copy_of(spec_of(MapType::Array, 4, 8, 4));
    patch_field<uint64_t>(copy, offsetof(MapFileHeader, region_size), 16 * map_page_size());
    expect_refused(copy, "truncated or extended");
}

TEST_F(BadMapFile, PerCpuMapOfAnotherCpuCount) {
    const auto copy = copy_of(spec_of(MapType::PercpuArray, 4, 8, 4));
    patch_field<uint32_t>(copy, offsetof(MapFileHeader, nr_cpus), test::kTestCpus * 2);
    expect_refused(copy, "laid out for 8 CPU slots; this process has 4");
}

TEST_F(BadMapFile, LayoutThatDoesNotMatchTheSpec) {
    // A hash map's layout depends on the slot count (one free list each): with another count the
    // region this build computes differs from the file's.
    const auto copy = copy_of(spec_of(MapType::Hash, 4, 4, 8));
    patch_field<uint32_t>(copy, offsetof(MapFileHeader, nr_cpus), 1000);
    expect_refused(copy, "takes");
}

TEST_F(BadMapFile, ObjectMapTypeInHeader) {
    const auto copy = copy_of(spec_of(MapType::Array, 4, 4, 4));
    patch_field<uint32_t>(copy, offsetof(MapFileHeader, map_type),
                          static_cast<uint32_t>(MapType::ProgArray));
    expect_refused(copy, "cannot be shared");
}

TEST_F(BadMapFile, InvalidSpecInHeader) {
    const auto copy = copy_of(spec_of(MapType::Array, 4, 4, 4));
    patch_field<uint32_t>(copy, offsetof(MapFileHeader, key_size), 3);
    expect_refused(copy, "invalid map");
}

TEST_F(BadMapFile, NotAMapFileAtAll) {
    const auto text = dir_ / "text";
    std::ofstream(text) << "hello\n";
    expect_refused(text, "not a whole number of pages");
    const auto zeros = dir_ / "zeros";
    std::ofstream(zeros).close();
    std::filesystem::resize_file(zeros, 4 * map_page_size());
    expect_refused(zeros, "not an xbpf map file");
    int error = 0;
    auto directory = open_pinned_map(dir_.path(), &error);
    ASSERT_FALSE(directory.ok());
    EXPECT_EQ(error, EISDIR);
}

}  // namespace
}  // namespace xbpf
