// Capture files: what is written reads back the same; damaged or foreign files are errors.
#include <gtest/gtest.h>

#include <fstream>

#include "support/run_command.hpp"
#include "xbpf/capture.hpp"

namespace xbpf {
namespace {

TEST(Capture, WriteThenReadBack) {
    test::TempDir dir;
    const auto path = dir.path("out.pcap");
    auto writer = CaptureWriter::create(path, kLinkTypeEthernet);
    ASSERT_TRUE(writer.ok()) << writer.error().to_string();
    std::vector<CapturedFrame> frames;
    for (int i = 0; i < 3; ++i) {
        CapturedFrame f;
        f.data.assign(60 + i, static_cast<uint8_t>(i));
        f.original_length = 60 + i + (i == 2 ? 100 : 0);  // the last one truncated
        f.timestamp_ns = 1'700'000'000'123'456'789LL + i;
        ASSERT_TRUE(writer->write(f).ok());
        frames.push_back(f);
    }
    ASSERT_TRUE(writer->close().ok());

    auto reader = CaptureReader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.error().to_string();
    EXPECT_EQ(reader->link_type(), kLinkTypeEthernet);
    CapturedFrame f;
    for (const auto& expected : frames) {
        auto more = reader->next(f);
        ASSERT_TRUE(more.ok());
        ASSERT_TRUE(*more);
        EXPECT_EQ(f.data, expected.data);
        EXPECT_EQ(f.original_length, expected.original_length);
        EXPECT_EQ(f.timestamp_ns, expected.timestamp_ns);
    }
    auto end = reader->next(f);
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(*end);
    EXPECT_EQ(reader->position(), reader->file_size());
}

TEST(Capture, MissingFileIsAnError) {
    auto reader = CaptureReader::open("/nonexistent/x.pcap");
    ASSERT_FALSE(reader.ok());
    EXPECT_NE(reader.error().to_string().find("/nonexistent/x.pcap: cannot open capture"),
              std::string::npos);
}

TEST(Capture, ForeignFileIsAnError) {
    test::TempDir dir;
    const auto path = dir.write("not.pcap", "this is not a capture file at all");
    auto reader = CaptureReader::open(path);
    ASSERT_FALSE(reader.ok());
    EXPECT_NE(reader.error().to_string().find("not a readable pcap or pcapng capture"),
              std::string::npos)
        << reader.error().to_string();
}

TEST(Capture, TruncatedFileIsAnErrorNamingTheFrame) {
    test::TempDir dir;
    const auto path = dir.path("t.pcap");
    {
        auto writer = CaptureWriter::create(path, kLinkTypeEthernet);
        ASSERT_TRUE(writer.ok());
        CapturedFrame f;
        f.data.assign(100, 0xab);
        f.original_length = 100;
        ASSERT_TRUE(writer->write(f).ok());
        ASSERT_TRUE(writer->write(f).ok());
        ASSERT_TRUE(writer->close().ok());
    }
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 30);
    auto reader = CaptureReader::open(path);
    ASSERT_TRUE(reader.ok());
    CapturedFrame f;
    ASSERT_TRUE(reader->next(f).ok());
    auto second = reader->next(f);
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.error().to_string().find("frame 2"), std::string::npos)
        << second.error().to_string();
}

TEST(Capture, UnwritablePathIsAnError) {
    auto writer = CaptureWriter::create("/nonexistent/dir/out.pcap", kLinkTypeEthernet);
    ASSERT_FALSE(writer.ok());
    EXPECT_NE(writer.error().to_string().find("cannot create capture"), std::string::npos);
}

}  // namespace
}  // namespace xbpf
