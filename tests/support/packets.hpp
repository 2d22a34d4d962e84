// Test support: inner packets, deterministic test keys, and buffers with guard bytes.
#pragma once

#include <encap/bytes.hpp>
#include <encap/crypto/suites.hpp>
#include <encap/wire/ip.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace encap::test {

// An IPv4 UDP packet of exactly `total` bytes (>= 28) with a recognisable payload.
inline void write_inner_ipv4(std::uint8_t* p, std::size_t total, bool df = true, std::uint8_t tos = 0, std::uint16_t id = 1) {
  write_ipv4(p, total, {{192, 168, 1, 10}, {192, 168, 2, 20}, tos, 64, ip_proto::udp, id, df});
  store_be16(p + 20, 1000);
  store_be16(p + 22, 2000);
  store_be16(p + 24, static_cast<std::uint16_t>(total - 20));
  store_be16(p + 26, 0);
  for (std::size_t i = 28; i < total; ++i) p[i] = static_cast<std::uint8_t>(0xa0 + i * 7);
}

inline std::vector<std::uint8_t> inner_ipv4(std::size_t total, bool df = true, std::uint8_t tos = 0) {
  std::vector<std::uint8_t> v(total);
  write_inner_ipv4(v.data(), total, df, tos);
  return v;
}

inline std::vector<std::uint8_t> inner_ipv6(std::size_t total, std::uint8_t tclass = 0) {
  std::vector<std::uint8_t> v(total);
  write_ipv6(v.data(), total - 40, {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10},
                                    {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20}, tclass, 64, 59, 0});
  for (std::size_t i = 40; i < total; ++i) v[i] = static_cast<std::uint8_t>(i * 13);
  return v;
}

inline std::vector<std::uint8_t> test_key(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> k(n);
  for (std::size_t i = 0; i < n; ++i) k[i] = static_cast<std::uint8_t>(seed * 29 + i * 11 + 3);
  return k;
}

// Keys sized for a suite; held here so the spans in esp_keys stay valid.
inline std::string hex(std::span<const std::uint8_t> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (auto c : b) { s += digits[c >> 4]; s += digits[c & 15]; }
  return s;
}

struct suite_keys {
  std::vector<std::uint8_t> enc, auth;
  explicit suite_keys(const esp_suite& s, std::uint8_t seed = 1)
      : enc(test_key(s.c().key_size + s.c().salt_size, seed)),
        auth(test_key(s.c().aead || s.integ == integ_id::none ? 0 : s.i().key_size, static_cast<std::uint8_t>(seed + 100))) {}
};

// A buffer with guard bytes on both sides; intact() says none of them changed.
struct guarded {
  static constexpr std::size_t guard = 64;
  static constexpr std::uint8_t pattern = 0xcd;
  std::vector<std::uint8_t> all;
  explicit guarded(std::size_t n) : all(n + 2 * guard, pattern) {}
  std::span<std::uint8_t> inside() { return {all.data() + guard, all.size() - 2 * guard}; }
  bool intact() const {
    return std::all_of(all.begin(), all.begin() + guard, [](auto b) { return b == pattern; }) &&
           std::all_of(all.end() - guard, all.end(), [](auto b) { return b == pattern; });
  }
};

}  // namespace encap::test
