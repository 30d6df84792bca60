// pcap/pcapng reading and pcap writing over libpcap: the file formats are libpcap's job, the
// errors are ours (what and where).
#include "xbpf/capture.hpp"

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <cstdio>

namespace xbpf {

struct CaptureReader::Impl {
    pcap_t* handle = nullptr;
    std::string path;
    uint64_t frames = 0;
    ~Impl() {
        if (handle != nullptr) pcap_close(handle);
    }
};

Result<CaptureReader> CaptureReader::open(const std::filesystem::path& path) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return Error(fmt::format("cannot open capture: {}", ec.message())).in(path.string());
    pcap_t* handle =
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (handle == nullptr) {
        return Error(fmt::format("not a readable pcap or pcapng capture: {}", errbuf))
            .in(path.string());
    }
    CaptureReader reader;
    reader.impl_ = std::make_unique<Impl>();
    reader.impl_->handle = handle;
    reader.impl_->path = path.string();
    reader.file_size_ = size;
    return reader;
}

CaptureReader::CaptureReader(CaptureReader&&) noexcept = default;
CaptureReader& CaptureReader::operator=(CaptureReader&&) noexcept = default;
CaptureReader::~CaptureReader() = default;

Result<bool> CaptureReader::next(CapturedFrame& frame) {
    pcap_pkthdr* header = nullptr;
    const u_char* bytes = nullptr;
    const int rc = pcap_next_ex(impl_->handle, &header, &bytes);
    if (rc == PCAP_ERROR_BREAK) return false;  // end of file
    if (rc != 1) {
        return Error(fmt::format("frame {}: {}", impl_->frames + 1, pcap_geterr(impl_->handle)))
            .in(impl_->path);
    }
    ++impl_->frames;
    frame.data.assign(bytes, bytes + header->caplen);
    frame.original_length = header->len;
    frame.timestamp_ns =
        static_cast<int64_t>(header->ts.tv_sec) * 1'000'000'000 + header->ts.tv_usec;
    return true;
}

int CaptureReader::link_type() const {
    return pcap_datalink(impl_->handle);
}
int CaptureReader::snap_length() const {
    return pcap_snapshot(impl_->handle);
}

uint64_t CaptureReader::position() const {
    FILE* f = pcap_file(impl_->handle);
    if (f == nullptr) return 0;
    const long pos = std::ftell(f);
    return pos < 0 ? 0 : static_cast<uint64_t>(pos);
}

struct CaptureWriter::Impl {
    pcap_t* dead = nullptr;
    pcap_dumper_t* dumper = nullptr;
    std::string path;
    ~Impl() {
        if (dumper != nullptr) pcap_dump_close(dumper);
        if (dead != nullptr) pcap_close(dead);
    }
};

Result<CaptureWriter> CaptureWriter::create(const std::filesystem::path& path, int link_type,
                                            int snap_length) {
    CaptureWriter writer;
    writer.impl_ = std::make_unique<Impl>();
    writer.impl_->path = path.string();
    writer.impl_->dead =
        pcap_open_dead_with_tstamp_precision(link_type, snap_length, PCAP_TSTAMP_PRECISION_NANO);
    if (writer.impl_->dead == nullptr)
        return Error("cannot set up a pcap writer").in(path.string());
    writer.impl_->dumper = pcap_dump_open(writer.impl_->dead, path.c_str());
    if (writer.impl_->dumper == nullptr) {
        return Error(fmt::format("cannot create capture: {}", pcap_geterr(writer.impl_->dead)))
            .in(path.string());
    }
    return writer;
}

CaptureWriter::CaptureWriter(CaptureWriter&&) noexcept = default;
CaptureWriter& CaptureWriter::operator=(CaptureWriter&&) noexcept = default;
CaptureWriter::~CaptureWriter() = default;

Status CaptureWriter::write(const CapturedFrame& frame) {
    if (impl_->dumper == nullptr) return Error("the capture is closed").in(impl_->path);
    pcap_pkthdr header{};
    header.ts.tv_sec = frame.timestamp_ns / 1'000'000'000;
    header.ts.tv_usec =
        frame.timestamp_ns % 1'000'000'000;  // nanoseconds: the dead handle's precision
    header.caplen = static_cast<bpf_u_int32>(frame.data.size());
    header.len = std::max<bpf_u_int32>(frame.original_length, header.caplen);
    pcap_dump(reinterpret_cast<u_char*>(impl_->dumper), &header, frame.data.data());
    return {};
}

Status CaptureWriter::close() {
    if (impl_->dumper == nullptr) return {};
    const bool flushed = pcap_dump_flush(impl_->dumper) == 0;
    FILE* f = pcap_dump_file(impl_->dumper);
    const bool ok = flushed && f != nullptr && !std::ferror(f);
    pcap_dump_close(impl_->dumper);
    impl_->dumper = nullptr;
    if (!ok) return Error("cannot write the capture (disk full?)").in(impl_->path);
    return {};
}

}  // namespace xbpf
