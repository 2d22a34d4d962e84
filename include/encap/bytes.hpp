// encap/bytes.hpp — big-endian loads and stores, and the Internet checksum (RFC 1071)
// with its incremental update (RFC 1624). Through memcpy: no alignment or aliasing games.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace encap {
inline namespace v0 {

using byte_span = std::span<std::uint8_t>;
using const_byte_span = std::span<const std::uint8_t>;

// Byte-wise in constant evaluation; one load or store and a byte swap at run time.
constexpr std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  if (std::is_constant_evaluated()) return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
constexpr std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  if (std::is_constant_evaluated())
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
constexpr std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  if (std::is_constant_evaluated()) return std::uint64_t{load_be32(p)} << 32 | load_be32(p + 4);
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
constexpr void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  if (std::is_constant_evaluated()) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
    return;
  }
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
constexpr void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  if (std::is_constant_evaluated()) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
    return;
  }
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
constexpr void store_be64(std::uint8_t* p, std::uint64_t v) noexcept {
  if (std::is_constant_evaluated()) {
    store_be32(p, static_cast<std::uint32_t>(v >> 32));
    store_be32(p + 4, static_cast<std::uint32_t>(v));
    return;
  }
  v = __builtin_bswap64(v);  // one store: an 8-byte load of it later forwards (two 4-byte stores would not)
  std::memcpy(p, &v, 8);
}

// One's-complement sum of 16-bit words (RFC 1071), not yet complemented. Adds 32-bit
// words into a 64-bit accumulator (RFC 1071 §2(B): the sum is byte-order and word-size
// independent modulo the end-around carry), then folds to 32 bits for further adding.
constexpr std::uint32_t checksum_add(std::uint32_t sum, const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t acc = 0;
  if (std::is_constant_evaluated() || std::endian::native != std::endian::little) {
    for (; n >= 4; n -= 4, p += 4) acc += load_be32(p);
    if (n >= 2) { acc += load_be16(p); p += 2; n -= 2; }
    if (n) acc += static_cast<std::uint32_t>(p[0]) << 8;
  } else {
    // words as they lie in memory, no byte swap per word: the sum of the swapped words is
    // the swapped sum, so one swap of the folded 16 bits at the end (RFC 1071 §2(B))
    for (; n >= 4; n -= 4, p += 4) {
      std::uint32_t w;
      std::memcpy(&w, p, 4);
      acc += w;
    }
    if (n >= 2) {
      std::uint16_t w;
      std::memcpy(&w, p, 2);
      acc += w;
      p += 2;
      n -= 2;
    }
    if (n) acc += p[0];  // the high byte of a big-endian word: the low byte here
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = __builtin_bswap16(static_cast<std::uint16_t>(acc));
  }
  acc += sum;
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<std::uint32_t>(acc);
}
constexpr std::uint16_t checksum_fold(std::uint32_t sum) noexcept {
  sum = (sum & 0xffff) + (sum >> 16);  // at most 0x1fffe
  sum = (sum & 0xffff) + (sum >> 16);  // at most 0xffff
  return static_cast<std::uint16_t>(~sum & 0xffff);
}
// The two fixed 20-byte IPv4 header paths sum five 32-bit words into 64 bits and skip the
// folds: folded with end-around carries, a nonzero sum S is 1 + (S - 1) mod 0xffff (2^16 = 1
// mod 0xffff), so its checksum is one multiply-based remainder away, and it verifies (folds
// to all ones) exactly when S is a multiple of 0xffff.
constexpr std::uint16_t checksum_of_sum(std::uint64_t nonzero_sum) noexcept {
  return static_cast<std::uint16_t>(0xfffe - (nonzero_sum - 1) % 0xffff);
}
// Whether x is a multiple of 0xffff, by one multiply: x times the inverse of 0xffff
// modulo 2^64 is at most (2^64 - 1) / 0xffff exactly for the multiples (Granlund and
// Montgomery). Written out: GCC compiled "x % 0xffff == 0" to a 64-bit divide in one of two
// inlined copies.
constexpr bool multiple_of_ffff(std::uint64_t x) noexcept {
  constexpr std::uint64_t inverse = [] {
    std::uint64_t v = 0xffff;  // Newton's iteration: each step doubles the correct low bits
    for (int i = 0; i < 5; ++i) v *= 2 - 0xffff * v;
    return v;
  }();
  static_assert(inverse * 0xffff == 1);
  return x * inverse <= ~std::uint64_t{0} / 0xffff;
}
constexpr std::uint16_t internet_checksum(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) noexcept {
  return checksum_fold(checksum_add(sum, p, n));
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') when a 16-bit word changes from m to m'.
constexpr std::uint16_t checksum_update(std::uint16_t hc, std::uint16_t m, std::uint16_t m_new) noexcept {
  std::uint32_t sum = static_cast<std::uint16_t>(~hc) + static_cast<std::uint32_t>(static_cast<std::uint16_t>(~m)) + m_new;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

}  // namespace v0
}  // namespace encap
