// encap/icmp.hpp — the messages that make path MTU discovery work through a tunnel:
// ICMP Destination Unreachable / Fragmentation Needed with the next-hop MTU (RFC 792,
// RFC 1191) and ICMPv6 Packet Too Big (RFC 4443), built into a caller buffer, and a
// token bucket to rate-limit them (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "bytes.hpp"
#include "result.hpp"
#include "wire/ip.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t icmpv4_max_size = 576;   // RFC 1812 §4.3.2.3: quote as much as fits in 576
inline constexpr std::size_t icmpv6_max_size = 1280;  // RFC 4443 §2.4(c): as much as fits in the IPv6 minimum MTU

// ICMP type 3 code 4 in answer to the IPv4 packet `offending`, from `router` (the
// tunnel endpoint's address) to the offending packet's source. Returns the size written.
inline result<std::size_t> build_icmp_frag_needed(byte_span out, const_byte_span offending, std::uint16_t next_hop_mtu,
                                                  const std::array<std::uint8_t, 4>& router) noexcept {
  if (offending.size() < 20 || (offending[0] >> 4) != 4) return errc::bad_inner_packet;
  const std::size_t quote = std::min(offending.size(), icmpv4_max_size - 28);
  const std::size_t total = 28 + quote;
  if (out.size() < total) return errc::no_tailroom;
  std::array<std::uint8_t, 4> dst{};
  std::memcpy(dst.data(), &offending[12], 4);
  write_ipv4(out.data(), total, {router, dst, 0xc0 /* CS6: network control */, 64, 1 /* ICMP */, 0, false});
  std::uint8_t* m = out.data() + 20;
  m[0] = 3;  // Destination Unreachable
  m[1] = 4;  // fragmentation needed and DF set
  store_be16(m + 2, 0);
  store_be16(m + 4, 0);             // unused (RFC 1191 §4)
  store_be16(m + 6, next_hop_mtu);  // Next-Hop MTU
  std::memcpy(m + 8, offending.data(), quote);
  store_be16(m + 2, internet_checksum(m, 8 + quote));
  return total;
}

// ICMPv6 type 2 (Packet Too Big) in answer to the IPv6 packet `offending`.
inline result<std::size_t> build_icmpv6_packet_too_big(byte_span out, const_byte_span offending, std::uint32_t mtu,
                                                       const std::array<std::uint8_t, 16>& router) noexcept {
  if (offending.size() < 40 || (offending[0] >> 4) != 6) return errc::bad_inner_packet;
  const std::size_t quote = std::min(offending.size(), icmpv6_max_size - 48);
  const std::size_t total = 48 + quote;
  if (out.size() < total) return errc::no_tailroom;
  std::array<std::uint8_t, 16> dst{};
  std::memcpy(dst.data(), &offending[8], 16);
  write_ipv6(out.data(), 8 + quote, {router, dst, 0xc0, 255, 58 /* ICMPv6 */, 0});
  std::uint8_t* m = out.data() + 40;
  m[0] = 2;
  m[1] = 0;
  store_be16(m + 2, 0);
  store_be32(m + 4, mtu);
  std::memcpy(m + 8, offending.data(), quote);
  store_be16(m + 2, internet_checksum(m, 8 + quote, ipv6_pseudo_sum(router.data(), dst.data(), 8 + quote, 58)));
  return total;
}

// A token bucket: `rate` messages a second, bursts of up to `burst`. Time comes from the
// caller (nanoseconds, monotonic), so it costs no system call and tests are exact.
class token_bucket {
 public:
  constexpr token_bucket(std::uint32_t rate_per_second, std::uint32_t burst) noexcept
      : rate_(rate_per_second), burst_(burst), tokens_(std::uint64_t{burst} * 1'000'000'000u) {}

  constexpr bool allow(std::uint64_t now_ns) noexcept {
    const std::uint64_t cap = std::uint64_t{burst_} * 1'000'000'000u;
    if (now_ns > last_) {
      const std::uint64_t add = (now_ns - last_) * rate_;
      tokens_ = add > cap - tokens_ ? cap : tokens_ + add;
      last_ = now_ns;
    }
    if (tokens_ < 1'000'000'000u) return false;
    tokens_ -= 1'000'000'000u;
    return true;
  }

 private:
  std::uint64_t rate_, burst_;
  std::uint64_t tokens_;  // in token-nanoseconds: one message = 1e9
  std::uint64_t last_ = 0;
};

}  // namespace v0
}  // namespace encap
