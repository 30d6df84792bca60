// Linux helper names by id, taken from the uapi header's own list so ids cannot drift.
#include <linux/bpf.h>

#include <array>
#include <string_view>

#include "xbpf/isa.hpp"

namespace xbpf {
namespace {

#define XBPF_HELPER_NAME(name) "bpf_" #name
constexpr std::string_view kNames[] = {__BPF_FUNC_MAPPER(XBPF_HELPER_NAME)};
#undef XBPF_HELPER_NAME

// The mapper lists helpers in id order starting at 0 (unspec); check that assumption.
static_assert(std::size(kNames) == __BPF_FUNC_MAX_ID);

}  // namespace

std::string_view linux_helper_name(int32_t id) {
    if (id <= 0 || static_cast<size_t>(id) >= std::size(kNames)) return {};
    return kNames[id];
}

}  // namespace xbpf
