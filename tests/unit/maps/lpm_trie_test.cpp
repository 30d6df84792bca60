// LPM trie: longest-prefix matches for IPv4 and IPv6, Linux's iteration order, error codes.
#include <arpa/inet.h>

#include <string>

#include "map_test_util.hpp"

namespace xbpf {
namespace {

struct Key4 {
    uint32_t prefixlen;
    uint8_t addr[4];
};
struct Key6 {
    uint32_t prefixlen;
    uint8_t addr[16];
};

Key4 v4(const char* addr, uint32_t prefixlen = 32) {
    Key4 k{prefixlen, {}};
    EXPECT_EQ(inet_pton(AF_INET, addr, k.addr), 1);
    return k;
}
Key6 v6(const char* addr, uint32_t prefixlen = 128) {
    Key6 k{prefixlen, {}};
    EXPECT_EQ(inet_pton(AF_INET6, addr, k.addr), 1);
    return k;
}

std::string text(const Key4& k) {
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, k.addr, buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(k.prefixlen);
}

std::shared_ptr<Map> trie(uint32_t key_size, uint32_t max_entries = 64) {
    return test::make_map(MapType::LpmTrie, key_size, 4, max_entries, map_flags::kNoPrealloc);
}

uint32_t match(Map& map, const void* key) {
    void* v = map.lookup(key);
    return v == nullptr ? 0 : test::read_as<uint32_t>(v);
}

TEST(LpmTrie, Ipv4LongestPrefixWins) {
    auto map = trie(sizeof(Key4));
    struct Route {
        const char* net;
        uint32_t len;
        uint32_t id;
    } routes[] = {{"0.0.0.0", 0, 1},      {"10.0.0.0", 8, 2},     {"192.168.0.0", 16, 3},
                  {"192.168.1.0", 24, 4}, {"192.168.2.0", 24, 5}, {"192.168.1.128", 25, 6}};
    for (const Route& r : routes) {
        Key4 k = v4(r.net, r.len);
        ASSERT_EQ(map->update_elem(&k, &r.id), 0) << r.net;
    }
    Key4 q = v4("192.168.1.5");
    EXPECT_EQ(match(*map, &q), 4u);
    q = v4("192.168.1.200");
    EXPECT_EQ(match(*map, &q), 6u);
    q = v4("192.168.3.1");
    EXPECT_EQ(match(*map, &q), 3u);
    q = v4("10.200.0.1");
    EXPECT_EQ(match(*map, &q), 2u);
    q = v4("8.8.8.8");
    EXPECT_EQ(match(*map, &q), 1u);  // the /0 default route
    uint32_t out = 0;
    ASSERT_EQ(map->lookup_elem(&q, &out), 0);  // the host lookup matches the same way
    EXPECT_EQ(out, 1u);

    Key4 def = v4("0.0.0.0", 0);
    ASSERT_EQ(map->delete_elem(&def), 0);
    EXPECT_EQ(map->lookup(&q), nullptr);
    EXPECT_EQ(map->lookup_elem(&q, &out), -ENOENT);
    Key4 slash24 = v4("192.168.1.0", 24);
    ASSERT_EQ(map->delete_elem(&slash24), 0);
    q = v4("192.168.1.5");
    EXPECT_EQ(match(*map, &q), 3u);
    q = v4("192.168.1.130");
    EXPECT_EQ(match(*map, &q), 6u);
    // A query with a shorter prefix matches only prefixes at most that long.
    q = v4("192.168.1.130", 16);
    EXPECT_EQ(match(*map, &q), 3u);
}

TEST(LpmTrie, Ipv6) {
    auto map = trie(sizeof(Key6));
    Key6 def = v6("::", 0), doc = v6("2001:db8::", 32), sub = v6("2001:db8:1::", 48),
         host = v6("2001:db8:1::1", 128);
    uint32_t ids[] = {1, 2, 3, 4};
    ASSERT_EQ(map->update_elem(&def, &ids[0]), 0);
    ASSERT_EQ(map->update_elem(&doc, &ids[1]), 0);
    ASSERT_EQ(map->update_elem(&sub, &ids[2]), 0);
    ASSERT_EQ(map->update_elem(&host, &ids[3]), 0);
    Key6 q = v6("2001:db8:1::1");
    EXPECT_EQ(match(*map, &q), 4u);
    q = v6("2001:db8:1::2");
    EXPECT_EQ(match(*map, &q), 3u);
    q = v6("2001:db8:ffff::1");
    EXPECT_EQ(match(*map, &q), 2u);
    q = v6("fe80::1");
    EXPECT_EQ(match(*map, &q), 1u);
}

TEST(LpmTrie, FlagsAndErrors) {
    auto map = trie(sizeof(Key4), 2);
    Key4 a = v4("10.0.0.0", 8), b = v4("10.1.0.0", 16), c = v4("11.0.0.0", 8);
    uint32_t v = 1;
    Key4 bad = v4("1.2.3.4", 33);
    EXPECT_EQ(map->update_elem(&bad, &v), -EINVAL);
    EXPECT_EQ(map->delete_elem(&bad), -EINVAL);
    EXPECT_EQ(map->update_elem(&a, &v, update_flags::kExist), -ENOENT);
    EXPECT_EQ(map->update_elem(&a, &v, update_flags::kNoExist), 0);
    EXPECT_EQ(map->update_elem(&a, &v, update_flags::kNoExist), -EEXIST);
    EXPECT_EQ(map->update_elem(&a, &v, 4), -EINVAL);
    EXPECT_EQ(map->update_elem(&b, &v), 0);
    EXPECT_EQ(map->update_elem(&c, &v), -ENOSPC);  // full
    v = 9;
    EXPECT_EQ(map->update_elem(&a, &v), 0);  // replacing is fine when full
    EXPECT_EQ(match(*map, &a), 9u);
    Key4 other_len = v4("10.0.0.0", 9);
    EXPECT_EQ(map->delete_elem(&other_len), -ENOENT);
    EXPECT_EQ(map->delete_elem(&a), 0);
    EXPECT_EQ(map->delete_elem(&a), -ENOENT);
    EXPECT_EQ(map->update_elem(&c, &v), 0);
}

TEST(LpmTrie, GetNextKeyIsPostOrder) {
    auto map = trie(sizeof(Key4));
    const char* nets[][2] = {{"0.0.0.0", "0"},
                             {"192.168.0.0", "16"},
                             {"192.168.1.0", "24"},
                             {"10.0.0.0", "8"},
                             {"192.168.2.0", "24"}};
    uint32_t v = 0;
    for (auto& n : nets) {
        Key4 k = v4(n[0], static_cast<uint32_t>(std::stoul(n[1])));
        ASSERT_EQ(map->update_elem(&k, &v), 0);
    }
    std::vector<std::string> order;
    Key4 key{}, next{};
    const void* prev = nullptr;
    while (map->get_next_key(prev, &next) == 0) {
        order.push_back(text(next));
        key = next;
        prev = &key;
        ASSERT_LE(order.size(), 5u);
    }
    // More specific prefixes first; children (0 before 1) before their parents.
    EXPECT_EQ(order, (std::vector<std::string>{"10.0.0.0/8", "192.168.1.0/24", "192.168.2.0/24",
                                               "192.168.0.0/16", "0.0.0.0/0"}));
    Key4 absent = v4("1.1.1.1", 32);
    ASSERT_EQ(map->get_next_key(&absent, &next), 0);  // absent key: the first one
    EXPECT_EQ(text(next), "10.0.0.0/8");
}

TEST(LpmTrie, ManyRandomPrefixesAgreeWithLinearScan) {
    auto map = trie(sizeof(Key4), 512);
    std::vector<Key4> keys;
    uint32_t state = 12345;
    auto rnd = [&] { return state = state * 1103515245u + 12345u; };
    for (uint32_t i = 0; i < 400; ++i) {
        Key4 k{rnd() % 33, {}};
        uint32_t addr = rnd();
        if (k.prefixlen < 32) addr &= k.prefixlen == 0 ? 0 : ~0u << (32 - k.prefixlen);
        addr = htonl(addr);
        std::memcpy(k.addr, &addr, 4);
        if (map->update_elem(&k, &i, update_flags::kNoExist) == 0) keys.push_back(k);
    }
    for (int q = 0; q < 2000; ++q) {
        Key4 query{32, {}};
        uint32_t addr = rnd();
        std::memcpy(query.addr, &addr, 4);
        // Linear scan for the longest matching prefix.
        int best = -1;
        uint32_t best_len = 0;
        for (size_t i = 0; i < keys.size(); ++i) {
            uint32_t net, a;
            std::memcpy(&net, keys[i].addr, 4);
            std::memcpy(&a, query.addr, 4);
            uint32_t mask = keys[i].prefixlen == 0 ? 0 : htonl(~0u << (32 - keys[i].prefixlen));
            if ((net & mask) == (a & mask) && (best < 0 || keys[i].prefixlen >= best_len)) {
                best = static_cast<int>(i);
                best_len = keys[i].prefixlen;
            }
        }
        void* v = map->lookup(&query);
        if (best < 0) {
            EXPECT_EQ(v, nullptr);
        } else {
            ASSERT_NE(v, nullptr);
            uint32_t expected = 0;
            ASSERT_EQ(map->lookup_elem(&keys[best], &expected), 0);
            EXPECT_EQ(test::read_as<uint32_t>(v), expected);
        }
    }
    // Iteration visits every entry exactly once; deleting them all empties the trie.
    uint32_t n = 0;
    Key4 key{}, next{};
    const void* prev = nullptr;
    while (map->get_next_key(prev, &next) == 0) {
        ++n;
        key = next;
        prev = &key;
    }
    EXPECT_EQ(n, keys.size());
    for (const Key4& k : keys)
        ASSERT_EQ(map->delete_elem(&k), 0);
    EXPECT_EQ(map->get_next_key(nullptr, &next), -ENOENT);
}

}  // namespace
}  // namespace xbpf

namespace xbpf {
namespace {

TEST(LpmTrie, GenericBatchCommands) {
    auto map = trie(sizeof(Key4));
    Key4 keys[3] = {v4("10.0.0.0", 8), v4("10.1.0.0", 16), v4("172.16.0.0", 12)};
    uint32_t values[3] = {1, 2, 3};
    uint32_t count = 3;
    ASSERT_EQ(map->update_batch(keys, values, count), 0);
    EXPECT_EQ(count, 3u);
    EXPECT_EQ(map->batch_token_size(), sizeof(Key4));
    Key4 out_keys[3], token;
    uint32_t out_values[3];
    count = 3;
    EXPECT_EQ(map->lookup_batch(nullptr, &token, out_keys, out_values, count), 0);
    EXPECT_EQ(count, 3u);
    count = 3;
    EXPECT_EQ(map->lookup_batch(&token, &token, out_keys, out_values, count), -ENOENT);
    EXPECT_EQ(count, 0u);
    count = 3;
    ASSERT_EQ(map->delete_batch(keys, count), 0);
    Key4 next;
    EXPECT_EQ(map->get_next_key(nullptr, &next), -ENOENT);
    EXPECT_EQ(map->lookup_and_delete_batch(nullptr, &token, out_keys, out_values, count),
              -kENOTSUPP);
}

}  // namespace
}  // namespace xbpf
