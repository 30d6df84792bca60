// Sanitized builds (ASan + UBSan, TSan) run code 2-20 times slower, unevenly. Tests that size
// their workload read this, so they run there with a smaller size instead of being skipped.
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define XBPF_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define XBPF_TEST_SANITIZED 1
#endif

namespace xbpf::test {

#if defined(XBPF_TEST_SANITIZED)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace xbpf::test
