// BPF_PROG_RUN semantics per runnable type, tail calls, and an embedder's own program type and
// helper end to end. Programs are written as instructions and run in the checked interpreter.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>

#include "xbpf/map_objects.hpp"
#include "xbpf/test_run.hpp"

namespace xbpf {
namespace {

using namespace make;

std::unique_ptr<Executable> prepare(std::vector<Insn> program, const ProgramType& type,
                                    std::vector<ContextAccess> accesses = {},
                                    const HelperCatalog& helpers = HelperCatalog::linux_helpers()) {
    auto s = rewrite_context_accesses(program, type, accesses);
    EXPECT_TRUE(s) << s.error().to_string();
    PrepareOptions options;
    options.checked = true;
    auto exe = prepare_interpreter(program, helpers.table(), options);
    EXPECT_TRUE(exe) << exe.error().to_string();
    return std::move(*exe);
}

const ProgramType& type(const char* name) {
    return *ProgramTypeRegistry::global().find(name);
}

std::vector<uint8_t> frame(size_t size) {
    std::vector<uint8_t> f(size);
    for (size_t i = 0; i < size; ++i)
        f[i] = static_cast<uint8_t>(i);
    if (size >= 14) {
        f[12] = 0x08;  // IPv4
        f[13] = 0x00;
    }
    return f;
}

template <typename T>
T read_as(const std::vector<uint8_t>& bytes) {
    T out{};
    std::memcpy(&out, bytes.data(), std::min(bytes.size(), sizeof out));
    return out;
}
template <typename T>
std::vector<uint8_t> bytes_of(const T& value) {
    std::vector<uint8_t> out(sizeof value);
    std::memcpy(out.data(), &value, sizeof value);
    return out;
}

TEST(TestRunXdp, SeesTheFrameAndReportsWhatLinuxReports) {
    const auto& xdp = type("xdp");
    // r0 = data_end - data + ingress_ifindex
    auto exe =
        prepare({load(op::W, 2, 1, 0), load(op::W, 3, 1, 4), load(op::W, 4, 1, 12), mov64_reg(0, 3),
                 alu64_reg(op::SUB, 0, 2), alu64_reg(op::ADD, 0, 4), exit()},
                xdp, {{0, 0, 4, false}, {1, 4, 4, false}, {2, 12, 4, false}});
    auto data = frame(60);
    TestRunOptions options;
    options.data_in = data;
    options.repeat = 100;
    auto r = test_run(*exe, xdp, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, 61u);  // loopback ifindex 1
    EXPECT_EQ(r->data_out, data);
    auto md = read_as<xdp_md>(r->ctx_out);
    EXPECT_EQ(md.data, 0u);
    EXPECT_EQ(md.data_end, 60u);
}

TEST(TestRunXdp, AdjustHeadTailAndMetaShapeDataOut) {
    const auto& xdp = type("xdp");
    auto exe = prepare(
        {mov64_reg(6, 1), mov64_imm(2, 14), call_helper(BPF_FUNC_xdp_adjust_head), mov64_reg(1, 6),
         mov64_imm(2, -4), call_helper(BPF_FUNC_xdp_adjust_tail), mov64_reg(1, 6), mov64_imm(2, -8),
         call_helper(BPF_FUNC_xdp_adjust_meta), mov64_imm(0, XDP_PASS), exit()},
        xdp);
    auto data = frame(64);
    TestRunOptions options;
    options.data_in = data;
    auto r = test_run(*exe, xdp, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, static_cast<uint32_t>(XDP_PASS));
    ASSERT_EQ(r->data_out.size(), 8u + 64 - 14 - 4);
    // 8 bytes of metadata (the bytes that were there), then the frame from byte 14.
    EXPECT_TRUE(std::equal(r->data_out.begin() + 8, r->data_out.end(), data.begin() + 14));
    auto md = read_as<xdp_md>(r->ctx_out);
    EXPECT_EQ(md.data, 8u);
    EXPECT_EQ(md.data_end, 8u + 46);
}

TEST(TestRunXdp, AdjustHeadRefusesToLeaveTheHeadroom) {
    const auto& xdp = type("xdp");
    auto exe = prepare({mov64_imm(2, -300), call_helper(BPF_FUNC_xdp_adjust_head), exit()}, xdp);
    auto data = frame(64);
    TestRunOptions options;
    options.data_in = data;
    auto r = test_run(*exe, xdp, options);
    ASSERT_TRUE(r);
    EXPECT_EQ(static_cast<int32_t>(r->retval), -EINVAL);
}

TEST(TestRunXdp, MetadataFromCtxIn) {
    const auto& xdp = type("xdp");
    // r0 = data - data_meta
    auto exe = prepare({load(op::W, 2, 1, 0), load(op::W, 3, 1, 8), mov64_reg(0, 2),
                        alu64_reg(op::SUB, 0, 3), exit()},
                       xdp, {{0, 0, 4, false}, {1, 8, 4, false}});
    auto data = frame(68);
    xdp_md md{};
    md.data = 4;
    md.data_end = 68;
    auto ctx = bytes_of(md);
    TestRunOptions options;
    options.data_in = data;
    options.ctx_in = ctx;
    auto r = test_run(*exe, xdp, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, 4u);
    EXPECT_EQ(r->data_out, data);
}

TEST(TestRunXdp, RefusesWhatLinuxRefuses) {
    const auto& xdp = type("xdp");
    auto exe = prepare({mov64_imm(0, 2), exit()}, xdp);
    auto data = frame(64);
    auto run_with = [&](xdp_md md, std::span<const uint8_t> packet) {
        auto ctx = bytes_of(md);
        TestRunOptions options;
        options.data_in = packet;
        options.ctx_in = ctx;
        auto r = test_run(*exe, xdp, options);
        return r ? std::string("ok") : r.error().message();
    };
    EXPECT_EQ(run_with({0, 64, 0, 0, 0, 0}, data), "ok");
    EXPECT_EQ(run_with({0, 64, 0, 1, 0, 0}, data), "ok");
    EXPECT_EQ(run_with({0, 64, 4, 0, 0, 0}, data).substr(0, 7), "EINVAL:");
    EXPECT_EQ(run_with({0, 60, 0, 0, 0, 0}, data).substr(0, 7), "EINVAL:");
    EXPECT_EQ(run_with({6, 64, 0, 0, 0, 0}, data).substr(0, 7), "EINVAL:");
    EXPECT_EQ(run_with({0, 64, 0, 7, 0, 0}, data).substr(0, 7), "ENODEV:");
    EXPECT_EQ(run_with({0, 64, 0, 0, 1, 0}, data).substr(0, 7), "EINVAL:");
    EXPECT_EQ(run_with({0, 64, 0, 0, 0, 3}, data).substr(0, 7), "EINVAL:");
    auto tiny = frame(10);
    EXPECT_EQ(run_with({0, 10, 0, 0, 0, 0}, tiny).substr(0, 7), "EINVAL:");
    std::vector<uint8_t> long_ctx(32, 0);
    long_ctx[30] = 1;
    TestRunOptions options;
    options.data_in = data;
    options.ctx_in = long_ctx;
    EXPECT_EQ(test_run(*exe, xdp, options).error().message().substr(0, 6), "E2BIG:");
}

TEST(TestRunSkb, SocketFilterSeesTheNetworkHeader) {
    const auto& filter = type("socket_filter");
    // r0 = skb->len + (protocol byte of the IPv4 header via a legacy load) * 1000
    Insn ld_abs{static_cast<uint8_t>(op::LD | op::ABS | op::B), 0, 0, 0, 9};
    auto exe = prepare({mov64_reg(6, 1), ld_abs, alu64_imm(op::MUL, 0, 1000), load(op::W, 2, 6, 0),
                        alu64_reg(op::ADD, 0, 2), exit()},
                       filter, {{3, 0, 4, false}});
    auto data = frame(54);
    TestRunOptions options;
    options.data_in = data;
    auto r = test_run(*exe, filter, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, data[14 + 9] * 1000u + 40);
    ASSERT_EQ(r->data_out.size(), 54u);
    EXPECT_TRUE(std::all_of(r->data_out.begin(), r->data_out.begin() + 14,
                            [](uint8_t b) { return b == 0; }));
    EXPECT_TRUE(std::equal(r->data_out.begin() + 14, r->data_out.end(), data.begin() + 14));
}

TEST(TestRunSkb, SchedClsWritesMarkAndReadsProtocol) {
    const auto& cls = type("sched_cls");
    const auto mark = static_cast<int16_t>(offsetof(__sk_buff, mark));
    const auto protocol = static_cast<int16_t>(offsetof(__sk_buff, protocol));
    const auto cb1 = static_cast<int16_t>(offsetof(__sk_buff, cb[1]));
    auto exe =
        prepare({load(op::W, 0, 1, protocol), load(op::W, 2, 1, mark), alu64_imm(op::ADD, 2, 1),
                 store_reg(op::W, 1, mark, 2), store_imm(op::W, 1, cb1, 77), exit()},
                cls,
                {{0, static_cast<uint32_t>(protocol), 4, false},
                 {1, static_cast<uint32_t>(mark), 4, false},
                 {3, static_cast<uint32_t>(mark), 4, true},
                 {4, static_cast<uint32_t>(cb1), 4, true}});
    __sk_buff in{};
    in.mark = 41;
    in.priority = 3;
    auto ctx = bytes_of(in);
    auto data = frame(60);
    TestRunOptions options;
    options.data_in = data;
    options.ctx_in = ctx;
    auto r = test_run(*exe, cls, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, 0x0008u);  // ETH_P_IP as it lies in the frame
    auto out = read_as<__sk_buff>(r->ctx_out);
    EXPECT_EQ(out.mark, 42u);
    EXPECT_EQ(out.priority, 3u);
    EXPECT_EQ(out.cb[1], 77u);
    EXPECT_EQ(out.ifindex, 1u);
    EXPECT_EQ(out.len, 0u);  // not part of ctx_out
    EXPECT_EQ(r->data_out, data);
}

TEST(TestRunSkb, RefusesContextFieldsLinuxRefuses) {
    const auto& cls = type("sched_cls");
    auto exe = prepare({mov64_imm(0, 0), exit()}, cls);
    auto data = frame(60);
    __sk_buff in{};
    in.len = 5;
    auto ctx = bytes_of(in);
    TestRunOptions options;
    options.data_in = data;
    options.ctx_in = ctx;
    auto r = test_run(*exe, cls, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message().substr(0, 7), "EINVAL:");
    in = {};
    in.ifindex = 9;
    ctx = bytes_of(in);
    options.ctx_in = ctx;
    EXPECT_EQ(test_run(*exe, cls, options).error().message().substr(0, 7), "ENODEV:");
}

TEST(TestRunSockAddr, ProgramRewritesTheDestination) {
    const auto& t = type("cgroup_sock_addr");
    const auto port = static_cast<int16_t>(offsetof(bpf_sock_addr, user_port));
    const auto ip4 = static_cast<int16_t>(offsetof(bpf_sock_addr, user_ip4));
    auto exe = prepare(
        {store_imm(op::W, 1, port, 0x5000), store_imm(op::W, 1, ip4, 0x0100007f), mov64_imm(0, 1),
         exit()},
        t, {{0, static_cast<uint32_t>(port), 4, true}, {1, static_cast<uint32_t>(ip4), 4, true}});
    bpf_sock_addr in{};
    in.user_family = 2;
    in.family = 2;
    in.user_port = 0x1f90;
    auto ctx = bytes_of(in);
    TestRunOptions options;
    options.ctx_in = ctx;
    auto r = test_run(*exe, t, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, 1u);
    auto out = read_as<bpf_sock_addr>(r->ctx_out);
    EXPECT_EQ(out.user_port, 0x5000u);
    EXPECT_EQ(out.user_ip4, 0x0100007fu);
    EXPECT_EQ(out.sk, nullptr);
}

TEST(TestRunSockOps, ReplyIsWrittenBack) {
    const auto& t = type("sock_ops");
    const auto reply = static_cast<int16_t>(offsetof(bpf_sock_ops, reply));
    const auto op_off = static_cast<int16_t>(offsetof(bpf_sock_ops, op));
    auto exe = prepare(
        {load(op::W, 2, 1, op_off), store_reg(op::W, 1, reply, 2), mov64_imm(0, 1), exit()}, t,
        {{0, static_cast<uint32_t>(op_off), 4, false}, {1, static_cast<uint32_t>(reply), 4, true}});
    bpf_sock_ops in{};
    in.op = BPF_SOCK_OPS_TIMEOUT_INIT;
    auto ctx = bytes_of(in);
    TestRunOptions options;
    options.ctx_in = ctx;
    auto r = test_run(*exe, t, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(read_as<bpf_sock_ops>(r->ctx_out).reply,
              static_cast<uint32_t>(BPF_SOCK_OPS_TIMEOUT_INIT));
}

TEST(TestRunSyscall, ContextIsPlainMemoryCopiedBack) {
    const auto& t = type("syscall");
    auto exe = prepare({load(op::DW, 2, 1, 0), alu64_imm(op::ADD, 2, 1), store_reg(op::DW, 1, 8, 2),
                        mov64_imm(0, 0), exit()},
                       t);
    uint64_t args[2] = {41, 0};
    std::vector<uint8_t> ctx(reinterpret_cast<uint8_t*>(args),
                             reinterpret_cast<uint8_t*>(args) + 16);
    TestRunOptions options;
    options.ctx_in = ctx;
    auto r = test_run(*exe, t, options);
    ASSERT_TRUE(r) << r.error().to_string();
    uint64_t out[2];
    std::memcpy(out, r->ctx_out.data(), 16);
    EXPECT_EQ(out[1], 42u);
    // Beyond the memory passed: the checked interpreter stops it.
    auto beyond = prepare({load(op::DW, 2, 1, 16), mov64_imm(0, 0), exit()}, t);
    auto f = test_run(*beyond, t, options);
    ASSERT_FALSE(f);
    EXPECT_NE(f.error().message().find("instruction 0"), std::string::npos);
    options.repeat = 2;
    EXPECT_FALSE(test_run(*exe, t, options));
}

TEST(TestRun, TypesXbpfCannotRunAreRefused) {
    auto exe = prepare({mov64_imm(0, 0), exit()}, type("kprobe"));
    TestRunOptions options;
    auto r = test_run(*exe, type("kprobe"), options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message().substr(0, 9), "ENOTSUPP:");
    options.flags = 1;
    EXPECT_EQ(test_run(*exe, type("xdp"), options).error().message().substr(0, 7), "EINVAL:");
}

// A prog_array slot's content: an Executable, as the runtime's Program provides it.
class TestTarget : public TailCallTarget {
  public:
    explicit TestTarget(std::unique_ptr<Executable> exe) : exe_(std::move(exe)) {}
    const Executable* executable(EngineKind engine) const override {
        return engine == exe_->engine() ? exe_.get() : nullptr;
    }
    uint32_t object_id() const override { return 1; }

  private:
    std::unique_ptr<Executable> exe_;
};

TEST(TailCalls, ContinueInTheTargetAndStopAfter33) {
    const auto& t = type("syscall");
    MapSpec spec;
    spec.name = "jmp";
    spec.type = MapType::ProgArray;
    spec.key_size = 4;
    spec.value_size = 4;
    spec.max_entries = 4;
    auto created = create_map(spec);
    ASSERT_TRUE(created) << created.error().to_string();
    auto* programs = static_cast<ProgArrayMap*>(created->get());
    const uint64_t map = reinterpret_cast<uintptr_t>(programs);

    // Slot 0: returns 42. Slot 1: counts itself in ctx[0] and tail-calls itself; once Linux's
    // limit stops it, returns 7.
    auto answer = prepare({mov64_imm(0, 42), exit()}, t);
    std::vector<Insn> self;
    self.push_back(load(op::DW, 2, 1, 0));
    self.push_back(alu64_imm(op::ADD, 2, 1));
    self.push_back(store_reg(op::DW, 1, 0, 2));
    lddw(self, 2, map);
    self.push_back(mov64_imm(3, 1));
    self.push_back(call_helper(BPF_FUNC_tail_call));
    self.push_back(mov64_imm(0, 7));
    self.push_back(exit());
    auto looping = prepare(self, t);
    uint32_t key = 0;
    ASSERT_EQ(programs->update_object(&key, std::make_shared<TestTarget>(std::move(answer)), 0), 0);
    key = 1;
    ASSERT_EQ(programs->update_object(&key, std::make_shared<TestTarget>(std::move(looping)), 0),
              0);

    std::vector<Insn> entry;
    lddw(entry, 2, map);
    entry.push_back(mov64_imm(3, 0));
    entry.push_back(call_helper(BPF_FUNC_tail_call));
    entry.push_back(mov64_imm(0, 1));
    entry.push_back(exit());
    auto first = prepare(entry, t);
    TestRunOptions options;
    std::vector<uint8_t> ctx(8, 0);
    options.ctx_in = ctx;
    auto r = test_run(*first, t, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, 42u);

    // Entering slot 1 directly: 1 run + 33 tail calls, then the call fails and it returns 7.
    const Executable* loop_exe = dynamic_cast<const TailCallTarget*>(programs->tail_call_target(1))
                                     ->executable(EngineKind::Interpreter);
    r = test_run(*loop_exe, t, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, 7u);
    EXPECT_EQ(read_as<uint64_t>(r->ctx_out), 34u);
}

TEST(Embedder, OwnProgramTypeAndHelperEndToEnd) {
    // The application's hook passes {u64 input; u64 output; u32 *data; u32 *data_end} and
    // offers helper 0x10001, "triple".
    auto hook = std::make_shared<ProgramType>();
    hook->id = 0x10042;
    hook->name = "test_embedder_hook";
    hook->context_size = 24;
    hook->native_context_size = 40;
    hook->fields = {
        {"input", 0, 8, ContextFieldKind::Scalar, access_width::kAny, 0, 0, 8},
        {"output", 8, 8, ContextFieldKind::Scalar, access_width::kAny, access_width::k8, 8, 8},
        {"data", 16, 4, ContextFieldKind::PacketStart, 4, 0, 24, 8},
        {"data_end", 20, 4, ContextFieldKind::PacketEnd, 4, 0, 32, 8},
    };
    hook->helpers = {0x10001};
    hook->runnable = true;
    ASSERT_TRUE(ProgramTypeRegistry::global().add(hook));
    ASSERT_FALSE(ProgramTypeRegistry::global().add(hook));

    HelperCatalog helpers = HelperCatalog::linux_helpers();
    HelperDefinition triple;
    triple.id = 0x10001;
    triple.prototype.name = "triple";
    triple.prototype.args = {HelperArg::Scalar};
    triple.function = [](uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunContext&) {
        return r1 * 3;
    };
    helpers.add(triple);

    // output = triple(input) + first byte of data
    auto exe = prepare(
        {mov64_reg(6, 1), load(op::DW, 1, 6, 0), call_helper(0x10001), load(op::W, 2, 6, 16),
         load(op::B, 3, 2, 0), alu64_reg(op::ADD, 0, 3), store_reg(op::DW, 6, 8, 0), exit()},
        *hook, {{1, 0, 8, false}, {3, 16, 4, false}, {6, 8, 8, true}}, helpers);
    uint64_t ctx_words[3] = {5, 0, 0};
    std::vector<uint8_t> ctx(24);
    std::memcpy(ctx.data(), ctx_words, 24);
    std::vector<uint8_t> data = {100, 1, 2};
    TestRunOptions options;
    options.ctx_in = ctx;
    options.data_in = data;
    auto r = test_run(*exe, *hook, options);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->retval, 115u);
    uint64_t out[3];
    std::memcpy(out, r->ctx_out.data(), 24);
    EXPECT_EQ(out[1], 115u);
    EXPECT_EQ(out[2], 0u);
}

}  // namespace
}  // namespace xbpf
