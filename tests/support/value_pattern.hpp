// A map value whose every word repeats one number, so that a value mixed from two writes (a
// torn read or write) is visible. Used by the concurrency tests of maps and the stress tests.
#pragma once

#include <cstdint>

namespace xbpf::test {

struct Pattern {
    uint64_t words[6];
    static Pattern of(uint64_t n) {
        Pattern p;
        for (auto& w : p.words)
            w = n;
        return p;
    }
    bool consistent() const {
        for (auto w : words) {
            if (w != words[0]) return false;
        }
        return true;
    }
};

}  // namespace xbpf::test
