// Packet captures: reading pcap and pcapng files and writing pcap files (through libpcap), the
// packet source and sink of `xbpf run` and of embedders that replay traffic through programs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "xbpf/error.hpp"

namespace xbpf {

struct CapturedFrame {
    std::vector<uint8_t> data;     // the captured bytes
    uint32_t original_length = 0;  // the length on the wire (>= data.size() when truncated)
    int64_t timestamp_ns = 0;      // since the epoch
};

// Reads frames from a pcap or pcapng file.
class CaptureReader {
  public:
    static Result<CaptureReader> open(const std::filesystem::path& path);
    CaptureReader(CaptureReader&&) noexcept;
    CaptureReader& operator=(CaptureReader&&) noexcept;
    ~CaptureReader();

    // The next frame into `frame`; false at the end of the file. A damaged file is an Error
    // naming the frame number.
    Result<bool> next(CapturedFrame& frame);
    // The capture's link type (LINKTYPE_ETHERNET = 1, ...).
    int link_type() const;
    int snap_length() const;
    // Bytes of the file read so far and in all (for progress reports).
    uint64_t position() const;
    uint64_t file_size() const { return file_size_; }

  private:
    CaptureReader() = default;
    struct Impl;
    std::unique_ptr<Impl> impl_;
    uint64_t file_size_ = 0;
};

// Writes frames to a pcap file.
class CaptureWriter {
  public:
    static Result<CaptureWriter> create(const std::filesystem::path& path, int link_type,
                                        int snap_length = 262144);
    CaptureWriter(CaptureWriter&&) noexcept;
    CaptureWriter& operator=(CaptureWriter&&) noexcept;
    ~CaptureWriter();

    Status write(const CapturedFrame& frame);
    // Flushes and closes; errors surface here rather than being lost in a destructor.
    Status close();

  private:
    CaptureWriter() = default;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

inline constexpr int kLinkTypeEthernet = 1;

}  // namespace xbpf
