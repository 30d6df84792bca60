// The same bpf() call sequence against xbpf and against the running kernel must give the same
// results (return values, errnos, what the calls write back). Needs root and a kernel with
// bpf(); runs only with XBPF_KERNEL_DIFFERENTIAL=1 (loading into the host's kernel is opt-in,
// as for the verifier's kernel oracle), and skips otherwise.
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <functional>
#include <map>

#include "abi_support.hpp"

namespace xbpf::abi_test {
namespace {

using Bpf = std::function<long(int, union bpf_attr&)>;

long kernel_bpf(int cmd, union bpf_attr& attr) {
    errno = 0;
    const long r = ::syscall(SYS_bpf, cmd, &attr, sizeof attr);
    return r < 0 ? -errno : r;
}

long xbpf_bpf(int cmd, union bpf_attr& attr) {
    return sys(cmd, attr);
}

// What one implementation answers to the sequence, step by step.
struct Transcript {
    std::vector<std::pair<std::string, long>> steps;
    void add(std::string what, long value) { steps.emplace_back(std::move(what), value); }
};

long create(const Bpf& bpf, uint32_t type, uint32_t key, uint32_t value, uint32_t entries,
            uint32_t flags = 0) {
    auto a = zeroed();
    a.map_type = type;
    a.key_size = key;
    a.value_size = value;
    a.max_entries = entries;
    a.map_flags = flags;
    std::strncpy(a.map_name, "diff", sizeof a.map_name - 1);
    return bpf(BPF_MAP_CREATE, a);
}

long elem(const Bpf& bpf, int cmd, long fd, const void* key, void* value, uint64_t flags = 0) {
    auto a = zeroed();
    a.map_fd = static_cast<uint32_t>(fd);
    a.key = reinterpret_cast<uintptr_t>(key);
    a.value = reinterpret_cast<uintptr_t>(value);
    a.flags = flags;
    return bpf(cmd, a);
}

Transcript run_sequence(const Bpf& bpf) {
    Transcript t;
    auto ok = [](long r) { return r >= 0 ? 0L : r; };  // descriptors differ: only success counts

    const long hash = create(bpf, BPF_MAP_TYPE_HASH, 4, 8, 16);
    t.add("create hash", ok(hash));
    t.add("create array with 8-byte keys", create(bpf, BPF_MAP_TYPE_ARRAY, 8, 8, 1));
    t.add("create hash with no entries", create(bpf, BPF_MAP_TYPE_HASH, 4, 8, 0));
    t.add("create unknown type", create(bpf, 9999, 4, 4, 1));

    uint32_t key = 1;
    uint64_t value = 10, out = 0;
    t.add("update", elem(bpf, BPF_MAP_UPDATE_ELEM, hash, &key, &value));
    t.add("update noexist", elem(bpf, BPF_MAP_UPDATE_ELEM, hash, &key, &value, BPF_NOEXIST));
    key = 2;
    t.add("update exist (absent)", elem(bpf, BPF_MAP_UPDATE_ELEM, hash, &key, &value, BPF_EXIST));
    t.add("lookup absent", elem(bpf, BPF_MAP_LOOKUP_ELEM, hash, &key, &out));
    t.add("update bad flags", elem(bpf, BPF_MAP_UPDATE_ELEM, hash, &key, &value, 99));
    for (uint32_t k = 2; k <= 5; ++k) {
        value = k * 10;
        elem(bpf, BPF_MAP_UPDATE_ELEM, hash, &k, &value);
    }
    key = 3;
    t.add("lookup", elem(bpf, BPF_MAP_LOOKUP_ELEM, hash, &key, &out));
    t.add("lookup value", static_cast<long>(out));
    t.add("lookup and delete", elem(bpf, BPF_MAP_LOOKUP_AND_DELETE_ELEM, hash, &key, &out));
    t.add("delete absent", elem(bpf, BPF_MAP_DELETE_ELEM, hash, &key, nullptr));

    uint32_t keys[16] = {}, token = 0;
    uint64_t values[16] = {};
    auto b = zeroed();
    b.batch.map_fd = static_cast<uint32_t>(hash);
    b.batch.keys = reinterpret_cast<uintptr_t>(keys);
    b.batch.values = reinterpret_cast<uintptr_t>(values);
    b.batch.out_batch = reinterpret_cast<uintptr_t>(&token);
    b.batch.count = 16;
    t.add("lookup batch", bpf(BPF_MAP_LOOKUP_BATCH, b));
    t.add("lookup batch count", b.batch.count);
    long sum = 0;
    for (uint32_t i = 0; i < b.batch.count && i < 16; ++i)
        sum += long(values[i]);
    t.add("lookup batch sum", sum);

    bpf_map_info info{};
    auto q = zeroed();
    q.info.bpf_fd = static_cast<uint32_t>(hash);
    q.info.info = reinterpret_cast<uintptr_t>(&info);
    q.info.info_len = sizeof info;
    t.add("map info", bpf(BPF_OBJ_GET_INFO_BY_FD, q));
    t.add("map info type/key/value/entries", long(info.type) << 48 | long(info.key_size) << 32 |
                                                 long(info.value_size) << 16 |
                                                 long(info.max_entries));
    t.add("map info name", std::string(info.name) == "diff");

    auto f = zeroed();
    f.map_fd = static_cast<uint32_t>(hash);
    t.add("freeze", bpf(BPF_MAP_FREEZE, f));
    t.add("freeze again", bpf(BPF_MAP_FREEZE, f));
    t.add("update frozen", elem(bpf, BPF_MAP_UPDATE_ELEM, hash, &key, &value));
    f.key = 1;
    t.add("freeze with a stray field", bpf(BPF_MAP_FREEZE, f));
    t.add("lookup on a bad descriptor", elem(bpf, BPF_MAP_LOOKUP_ELEM, 100000, &key, &out));

    const long array = create(bpf, BPF_MAP_TYPE_ARRAY, 4, 8, 1);
    const auto program = bump_key_zero(static_cast<int>(array));
    std::string log(65536, '\0');
    auto p = zeroed();
    p.prog_type = BPF_PROG_TYPE_XDP;
    p.insns = reinterpret_cast<uintptr_t>(program.data());
    p.insn_cnt = static_cast<uint32_t>(program.size());
    p.license = reinterpret_cast<uintptr_t>("GPL");
    const long prog = bpf(BPF_PROG_LOAD, p);
    t.add("prog load", ok(prog));
    const std::vector<Insn> bad = {make::mov64_reg(0, 3), make::exit()};
    p.insns = reinterpret_cast<uintptr_t>(bad.data());
    p.insn_cnt = static_cast<uint32_t>(bad.size());
    p.log_level = 1;
    p.log_buf = reinterpret_cast<uintptr_t>(log.data());
    p.log_size = static_cast<uint32_t>(log.size());
    t.add("prog load rejected", bpf(BPF_PROG_LOAD, p));
    p.log_size = 64;
    t.add("prog load with a short log", bpf(BPF_PROG_LOAD, p));

    uint8_t packet[64] = {}, data_out[16] = {};
    auto r = zeroed();
    r.test.prog_fd = static_cast<uint32_t>(prog);
    r.test.data_in = reinterpret_cast<uintptr_t>(packet);
    r.test.data_size_in = sizeof packet;
    r.test.repeat = 3;
    t.add("test run", bpf(BPF_PROG_TEST_RUN, r));
    t.add("test run retval", r.test.retval);
    key = 0;
    elem(bpf, BPF_MAP_LOOKUP_ELEM, array, &key, &out);
    t.add("map after runs", static_cast<long>(out));
    r.test.repeat = 1;
    r.test.data_out = reinterpret_cast<uintptr_t>(data_out);
    r.test.data_size_out = sizeof data_out;
    t.add("test run, short data_out", bpf(BPF_PROG_TEST_RUN, r));
    t.add("test run, data_size_out", r.test.data_size_out);
    r.test.data_size_in = 4;
    r.test.data_out = 0;
    t.add("test run, 4-byte frame", bpf(BPF_PROG_TEST_RUN, r));

    for (long fd : {hash, array, prog}) {
        if (fd >= 0) close(static_cast<int>(fd));
    }
    return t;
}

TEST(AbiKernelDifferential, SameAnswersAsLinux) {
    if (getenv("XBPF_KERNEL_DIFFERENTIAL") == nullptr) {
        GTEST_SKIP() << "set XBPF_KERNEL_DIFFERENTIAL=1 (and run as root) to compare with Linux";
    }
    auto probe = zeroed();
    probe.map_type = BPF_MAP_TYPE_ARRAY;
    probe.key_size = 4;
    probe.value_size = 4;
    probe.max_entries = 1;
    const long fd = kernel_bpf(BPF_MAP_CREATE, probe);
    if (fd < 0) GTEST_SKIP() << "the kernel's bpf() is not available here: " << strerror(int(-fd));
    close(static_cast<int>(fd));

    const Transcript linux = run_sequence(kernel_bpf);
    const Transcript ours = run_sequence(xbpf_bpf);
    ASSERT_EQ(linux.steps.size(), ours.steps.size());
    for (size_t i = 0; i < ours.steps.size(); ++i) {
        EXPECT_EQ(ours.steps[i].second, linux.steps[i].second) << ours.steps[i].first;
    }
}

}  // namespace
}  // namespace xbpf::abi_test
