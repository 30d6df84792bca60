// bpf_trace_printk, bpf_trace_vprintk (to the trace log the host reads) and bpf_snprintf (to
// the program's buffer), with Linux's argument checks and return values.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "runtime/helpers/bpf_printf.hpp"
#include "runtime/helpers/implementations.hpp"
#include "runtime/helpers/run_environment.hpp"

namespace xbpf {

TraceLog& TraceLog::global() {
    static TraceLog log;
    return log;
}

void TraceLog::write(std::string_view message) {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
    while (lines_.size() > capacity_)
        lines_.pop_front();
}

std::vector<std::string> TraceLog::take() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out(std::make_move_iterator(lines_.begin()),
                                 std::make_move_iterator(lines_.end()));
    lines_.clear();
    return out;
}

namespace helpers {
namespace {

constexpr size_t kMaxPrintVarargs = 12;    // MAX_BPRINTF_VARARGS
constexpr size_t kMaxTraceMessage = 1023;  // Linux formats into a 1024-byte buffer

const char* cstr(uint64_t r) {
    return reinterpret_cast<const char*>(static_cast<uintptr_t>(r));
}

// The format must end with its NUL inside the size the program gave.
bool format_terminated(const char* format, uint64_t size) {
    return size != 0 && format[size - 1] == '\0';
}

uint64_t emit(RunContext& ctx, Formatted formatted) {
    if (formatted.error != 0) return static_cast<uint64_t>(static_cast<int64_t>(formatted.error));
    if (formatted.text.size() > kMaxTraceMessage) formatted.text.resize(kMaxTraceMessage);
    RunEnvironment* env = environment(ctx);
    TraceLog& log = env != nullptr && env->trace != nullptr ? *env->trace : TraceLog::global();
    log.write(formatted.text);
    return formatted.text.size();
}

uint64_t trace_printk(uint64_t format, uint64_t size, uint64_t a1, uint64_t a2, uint64_t a3,
                      RunContext& ctx) {
    const char* f = cstr(format);
    if (!format_terminated(f, size)) return static_cast<uint64_t>(-EINVAL);
    const uint64_t args[3] = {a1, a2, a3};
    return emit(ctx, bpf_printf(std::string_view(f, strnlen(f, size)), args));
}

bool data_ok(uint64_t data, uint64_t data_len) {
    return data_len % 8 == 0 && data_len / 8 <= kMaxPrintVarargs && (data_len == 0 || data != 0);
}

std::span<const uint64_t> data_args(uint64_t data, uint64_t data_len) {
    return {reinterpret_cast<const uint64_t*>(static_cast<uintptr_t>(data)),
            static_cast<size_t>(data_len / 8)};
}

uint64_t trace_vprintk(uint64_t format, uint64_t size, uint64_t data, uint64_t data_len, uint64_t,
                       RunContext& ctx) {
    const char* f = cstr(format);
    if (!format_terminated(f, size) || !data_ok(data, data_len))
        return static_cast<uint64_t>(-EINVAL);
    return emit(ctx, bpf_printf(std::string_view(f, strnlen(f, size)), data_args(data, data_len)));
}

// Writes at most size bytes including the NUL; returns the full length plus one, as Linux.
uint64_t snprintf_helper(uint64_t str, uint64_t size, uint64_t format, uint64_t data,
                         uint64_t data_len, RunContext&) {
    if (!data_ok(data, data_len)) return static_cast<uint64_t>(-EINVAL);
    Formatted formatted = bpf_printf(cstr(format), data_args(data, data_len));
    if (formatted.error != 0) return static_cast<uint64_t>(static_cast<int64_t>(formatted.error));
    if (size != 0) {
        auto* out = reinterpret_cast<char*>(static_cast<uintptr_t>(str));
        const size_t n = std::min<size_t>(formatted.text.size(), size - 1);
        std::memcpy(out, formatted.text.data(), n);
        out[n] = '\0';
    }
    return formatted.text.size() + 1;
}

}  // namespace

void add_print_helpers(std::vector<Implementation>& out) {
    out.push_back({BPF_FUNC_trace_printk, trace_printk});
    out.push_back({BPF_FUNC_trace_vprintk, trace_vprintk});
    out.push_back({BPF_FUNC_snprintf, snprintf_helper});
}

}  // namespace helpers
}  // namespace xbpf
