// BPF_BTF_LOAD: BTF checked by the loader's parser; its complaint goes to btf_log_buf.
#include <cerrno>

#include "abi/commands.hpp"
#include "abi/map_files.hpp"
#include "abi/object_table.hpp"
#include "abi/verifier_log.hpp"

namespace xbpf::abi {

namespace {
constexpr uint32_t kMaxBtfSize = 16u << 20;  // BTF_MAX_SIZE
std::atomic<uint32_t> g_next_btf_id{1};
}  // namespace

long btf_load(const Call& call) {
    const union bpf_attr& a = call.attr;
    if (!log_attrs_valid(a.btf_log_level, a.btf_log_size, a.btf_log_buf, 1 | 2 | kLogFixed)) {
        return -EINVAL;
    }
    if (a.btf_size > kMaxBtfSize) return -E2BIG;
    if (a.btf == 0) return -EFAULT;
    const auto* bytes = user_ptr<const uint8_t>(a.btf);
    auto object = std::make_shared<BtfObject>();
    object->bytes.assign(bytes, bytes + a.btf_size);
    auto btf = Btf::parse(object->bytes);
    if (!btf) {
        if (a.btf_log_level != 0) {
            write_log(a.btf_log_buf, a.btf_log_size, a.btf_log_level,
                      btf.error().to_string() + "\n");
        }
        return -EINVAL;
    }
    object->btf = std::move(*btf);
    object->btf_id = g_next_btf_id.fetch_add(1);
    const int file = identity_file("xbpf-btf");
    if (file < 0) return file;
    return ObjectTable::instance().install(std::move(object), file);
}

}  // namespace xbpf::abi
