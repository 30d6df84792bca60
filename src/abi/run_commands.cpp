// BPF_PROG_TEST_RUN over the runtime's test_run(), and BPF_ENABLE_STATS.
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "abi/commands.hpp"
#include "abi/map_files.hpp"
#include "abi/object_table.hpp"
#include "xbpf/test_run.hpp"

namespace xbpf::abi {
namespace {

// test_run() names Linux's errno at the start of its message ("EINVAL: ctx_in ...").
int errno_of(const Error& error) {
    const std::string_view m = error.message();
    if (error.kind() == ErrorKind::Fault) return EFAULT;
    for (auto [name, value] : {std::pair<std::string_view, int>{"E2BIG", E2BIG},
                               {"ENODEV", ENODEV},
                               {"ENOTSUPP", kENOTSUPP},
                               {"EINVAL", EINVAL}}) {
        if (m.substr(0, name.size()) == name) return value;
    }
    return EINVAL;
}

// Copies a result buffer to the caller: Linux copies what fits, reports the full size, and
// fails with ENOSPC when it did not fit.
int copy_out(const std::vector<uint8_t>& bytes, uint64_t out, uint32_t out_size, const Call& call,
             size_t size_field) {
    if (out == 0) return 0;
    const size_t n = std::min<size_t>(bytes.size(), out_size);
    std::memcpy(user_ptr(out), bytes.data(), n);
    call.put(size_field, static_cast<uint32_t>(bytes.size()));
    return bytes.size() > out_size ? -ENOSPC : 0;
}

std::atomic<int> g_stats_enabled{0};

}  // namespace

long prog_test_run(const Call& call) {
    const auto& t = call.attr.test;
    auto [prog, err] = ObjectTable::instance().get_as<ProgObject>(static_cast<int>(t.prog_fd),
                                                                  ObjectKind::Program);
    if (err != 0) return err;
    if ((t.data_size_in != 0 && t.data_in == 0) || (t.ctx_size_in != 0 && t.ctx_in == 0)) {
        return -EINVAL;
    }
    if (t.batch_size != 0) return -EINVAL;  // only for live XDP frames, which xbpf has not
    TestRunOptions options;
    options.data_in = {user_ptr<const uint8_t>(t.data_in), t.data_size_in};
    options.ctx_in = {user_ptr<const uint8_t>(t.ctx_in), t.ctx_size_in};
    options.repeat = t.repeat;
    options.flags = t.flags;
    options.cpu = t.cpu;
    const Program& program = *prog->program;
    auto result = test_run(program.executable(), program.type(), options);
    if (!result) return -errno_of(result.error());
    if (g_stats_enabled.load() > 0) {
        prog->run_cnt += std::max<uint32_t>(t.repeat, 1);
        prog->run_time_ns += uint64_t(result->duration_ns) * std::max<uint32_t>(t.repeat, 1);
    }
    call.put(offsetof(union bpf_attr, test.retval), result->retval);
    call.put(offsetof(union bpf_attr, test.duration), result->duration_ns);
    int data_err = copy_out(result->data_out, t.data_out, t.data_size_out, call,
                            offsetof(union bpf_attr, test.data_size_out));
    int ctx_err = copy_out(result->ctx_out, t.ctx_out, t.ctx_size_out, call,
                           offsetof(union bpf_attr, test.ctx_size_out));
    if (t.data_out == 0) {
        call.put(offsetof(union bpf_attr, test.data_size_out),
                 static_cast<uint32_t>(result->data_out.size()));
    }
    return data_err != 0 ? data_err : ctx_err;
}

// Statistics stay on while a descriptor from BPF_ENABLE_STATS is open; xbpf counts test runs
// (the only runs the ABI starts) from the first such call on.
long enable_stats(const Call& call) {
    if (call.attr.enable_stats.type != BPF_STATS_RUN_TIME) return -EINVAL;
    g_stats_enabled.fetch_add(1);
    return identity_file("xbpf-stats");
}

}  // namespace xbpf::abi
