// Sanitized builds (ASan + UBSan, TSan) run code several times slower. Tests that bound their
// time or size their workload read these, so they keep their meaning there instead of being
// skipped or failing for want of speed.
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

// How much slower a sanitized build may be: time budgets are multiplied by it.
inline constexpr double kSanitizerSlowdown = kSanitized ? 10.0 : 1.0;

}  // namespace xbpf::test
