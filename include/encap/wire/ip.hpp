// encap/wire/ip.hpp — IPv4 (RFC 791) and IPv6 (RFC 8200) headers on the wire: build,
// parse-and-validate, and the tunnel rules for DSCP, ECN (RFC 6040) and DF.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../bytes.hpp"
#include "../result.hpp"

namespace encap {
inline namespace v0 {

// IANA protocol numbers used as IPv4 Protocol / IPv6 Next Header / ESP Next Header.
namespace ip_proto {
inline constexpr std::uint8_t ipv4 = 4, tcp = 6, udp = 17, ipv6 = 41, gre = 47, esp = 50, no_next = 59;
}

enum class df_policy : std::uint8_t { copy, set, clear };  // outer IPv4 DF from the inner packet, or fixed

// ECN codepoints (RFC 3168 §5).
namespace ecn {
inline constexpr std::uint8_t not_ect = 0, ect1 = 1, ect0 = 2, ce = 3;
}

// What an encapsulator needs to know of the inner packet.
struct inner_ip_info {
  std::uint8_t version = 0;  // 4 or 6
  std::uint8_t tos = 0;      // IPv4 TOS / IPv6 Traffic Class: DSCP << 2 | ECN
  bool df = false;           // IPv4 DF; IPv6 packets are never fragmented en route
  std::size_t length = 0;    // from the header's length field
};

// The TOS octet of an IPv4 packet or the Traffic Class of an IPv6 one (p: its first 2 bytes).
constexpr std::uint8_t ip_tos(const std::uint8_t* p) noexcept {
  return (p[0] >> 4) == 4 ? p[1] : static_cast<std::uint8_t>((p[0] & 0x0f) << 4 | p[1] >> 4);
}

// Reads the version, TOS/traffic class, DF and length of an IP packet, checking only
// what that needs. Used on the inner packet before encapsulation.
constexpr result<inner_ip_info> peek_ip(const_byte_span p) noexcept {
  if (p.empty()) return errc::bad_inner_packet;
  const std::uint8_t version = p[0] >> 4;
  if (version == 4) {
    if (p.size() < 20 || (p[0] & 0x0f) < 5) return errc::bad_inner_packet;
    const std::size_t total = load_be16(&p[2]);
    if (total != p.size()) return errc::bad_inner_packet;
    return inner_ip_info{4, ip_tos(p.data()), (p[6] & 0x40) != 0, total};
  }
  if (version == 6) {
    if (p.size() < 40) return errc::bad_inner_packet;
    const std::size_t total = 40 + std::size_t{load_be16(&p[4])};
    if (total != p.size()) return errc::bad_inner_packet;
    return inner_ip_info{6, ip_tos(p.data()), true, total};
  }
  return errc::bad_inner_packet;
}

// RFC 6040 §4.2, decapsulation: the inner ECN field after decap, or ecn_drop.
//              outer: Not-ECT  ECT(0)  ECT(1)  CE
//   inner Not-ECT     Not-ECT  Not-ECT Not-ECT drop
//   inner ECT(0)      ECT(0)   ECT(0)  ECT(1)  CE
//   inner ECT(1)      ECT(1)   ECT(1)  ECT(1)  CE
//   inner CE          CE       CE      CE      CE
constexpr result<std::uint8_t> ecn_decap(std::uint8_t inner, std::uint8_t outer) noexcept {
  if (inner == ecn::not_ect) return outer == ecn::ce ? result<std::uint8_t>(errc::ecn_drop) : ecn::not_ect;
  if (outer == ecn::ce) return ecn::ce;
  if (outer == ecn::ect1 && inner == ecn::ect0) return ecn::ect1;
  return inner;
}

// Sets the ECN field of an IP packet in place, keeping an IPv4 header checksum right.
constexpr void set_ecn(byte_span p, std::uint8_t value) noexcept {
  if ((p[0] >> 4) == 4) {
    const std::uint16_t old_word = load_be16(&p[0]);
    p[1] = static_cast<std::uint8_t>((p[1] & 0xfc) | value);
    store_be16(&p[10], checksum_update(load_be16(&p[10]), old_word, load_be16(&p[0])));
  } else {
    p[1] = static_cast<std::uint8_t>((p[1] & 0xcf) | value << 4);
  }
}

// ---- IPv4 --------------------------------------------------------------------------------

struct ipv4_fields {
  std::array<std::uint8_t, 4> src{}, dst{};
  std::uint8_t tos = 0, ttl = 64, protocol = 0;
  std::uint16_t id = 0;
  bool df = false;
};

// Writes a 20-byte header (no options) with its checksum.
constexpr void write_ipv4(std::uint8_t* h, std::size_t total_length, ipv4_fields f) noexcept {  // by value: 16 bytes in two registers
  const auto len = static_cast<std::uint16_t>(total_length);
  if (std::is_constant_evaluated()) {
    store_be32(h, (0x4500u | f.tos) << 16 | len);
    store_be32(h + 4, std::uint32_t{f.id} << 16 | (f.df ? 0x4000u : 0u));
    store_be32(h + 8, std::uint32_t{f.ttl} << 24 | std::uint32_t{f.protocol} << 16);
    for (std::size_t i = 0; i < 4; ++i) { h[12 + i] = f.src[i]; h[16 + i] = f.dst[i]; }
    store_be16(h + 10, internet_checksum(h, 20));
    return;
  }
  // The words as they will lie in memory, summed so (RFC 1071 §2(B): the sum of byte-swapped
  // words is the byte-swapped sum): no swap but the two 16-bit fields', and the checksum from
  // the values rather than by reading back the bytes just stored (narrow stores then wide
  // loads miss store forwarding: this was 18% of a 64-byte GCM encap)
  std::uint32_t src, dst;
  std::memcpy(&src, f.src.data(), 4);
  std::memcpy(&dst, f.dst.data(), 4);
  const std::uint64_t w01 = 0x45u | std::uint64_t{f.tos} << 8 | std::uint64_t{__builtin_bswap16(len)} << 16 |
                            std::uint64_t{__builtin_bswap16(f.id)} << 32 | (f.df ? std::uint64_t{0x40} << 48 : 0);
  const std::uint32_t w2 = f.ttl | std::uint32_t{f.protocol} << 8;  // TTL, Protocol, checksum zero
  const std::uint64_t addresses = src | std::uint64_t{dst} << 32;
  const std::uint64_t sum = (w01 & 0xffffffffu) + (w01 >> 32) + w2 + src + dst;  // nonzero: 0x45
  const std::uint32_t w2c = w2 | std::uint32_t{checksum_of_sum(sum)} << 16;
  std::memcpy(h, &w01, 8);
  std::memcpy(h + 8, &w2c, 4);
  std::memcpy(h + 12, &addresses, 8);
}

// The addresses are not copied out: they stay in the packet (bytes 12..19), where the
// checksum code reads them. (Copying them made GCC assemble the result with narrow
// stores and move it with a vector load: a store-forwarding stall on every packet.)
struct ipv4_parsed {
  std::size_t header_length = 0, total_length = 0;
  std::uint8_t tos = 0, protocol = 0, ttl = 0;
  bool df = false;
};

// Validates version, IHL, total length against the buffer, the header checksum, and
// that it is not a fragment. Trailing bytes past total length (link padding) are allowed.
constexpr result<ipv4_parsed> parse_ipv4(const_byte_span p) noexcept {
  if (p.size() < 20) return errc::truncated;
  if (!std::is_constant_evaluated() && p[0] == 0x45) {  // no options, as nearly every packet: the same checks in wide loads
    const std::uint32_t w0 = load_be32(&p[0]), w1 = load_be32(&p[4]);
    const std::size_t total = w0 & 0xffff;
    if (total < 20) return errc::ip_bad_total_length;
    if (total > p.size()) return errc::truncated;
    // RFC 1071 over the five words as they lie. The folded one's-complement sum is all ones
    // exactly when the plain sum (nonzero: the version is 4) is a multiple of 0xffff, since
    // 2^16 = 1 mod 0xffff; and byte order does not matter, a swap multiplying by 2^8, which
    // is prime to 0xffff. One multiply and a compare instead of four folds.
    const auto word = [&](std::size_t at) {
      std::uint32_t w;
      std::memcpy(&w, p.data() + at, 4);  // (one load each: a copied array went through the stack)
      return std::uint64_t{w};
    };
    if (!multiple_of_ffff(word(0) + word(4) + word(8) + word(12) + word(16))) return errc::ip_bad_checksum;
    if (w1 & 0x3fff) return errc::ip_fragment;  // MF or a fragment offset
    return ipv4_parsed{20, total, p[1], p[9], p[8], (w1 & 0x4000) != 0};
  }
  if ((p[0] >> 4) != 4) return errc::ip_bad_version;
  const std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4;
  if (ihl < 20) return errc::ip_bad_header_length;
  if (ihl > p.size()) return errc::truncated;
  const std::size_t total = load_be16(&p[2]);
  if (total < ihl) return errc::ip_bad_total_length;
  if (total > p.size()) return errc::truncated;
  if (internet_checksum(p.data(), ihl) != 0) return errc::ip_bad_checksum;
  const std::uint16_t frag = load_be16(&p[6]);
  if ((frag & 0x2000) || (frag & 0x1fff)) return errc::ip_fragment;  // MF or a fragment offset
  return ipv4_parsed{ihl, total, p[1], p[9], p[8], (frag & 0x4000) != 0};
}

// ---- IPv6 --------------------------------------------------------------------------------

struct ipv6_fields {
  std::array<std::uint8_t, 16> src{}, dst{};
  std::uint8_t traffic_class = 0, hop_limit = 64, next_header = 0;
  std::uint32_t flow_label = 0;
};

constexpr void write_ipv6(std::uint8_t* h, std::size_t payload_length, const ipv6_fields& f) noexcept {
  store_be32(h, 0x60000000u | std::uint32_t{f.traffic_class} << 20 | (f.flow_label & 0xfffff));
  store_be16(h + 4, static_cast<std::uint16_t>(payload_length));
  h[6] = f.next_header;
  h[7] = f.hop_limit;
  for (std::size_t i = 0; i < 16; ++i) { h[8 + i] = f.src[i]; h[24 + i] = f.dst[i]; }
}

struct ipv6_parsed {  // addresses stay in the packet (bytes 8..39), as for IPv4
  std::size_t payload_length = 0;
  std::uint8_t traffic_class = 0, next_header = 0, hop_limit = 0;
};

// Validates version and payload length against the buffer. Extension headers are not
// walked: a next header other than the one the stack expects is reported by the caller.
constexpr result<ipv6_parsed> parse_ipv6(const_byte_span p) noexcept {
  if (p.size() < 40) return errc::truncated;
  if ((p[0] >> 4) != 6) return errc::ip_bad_version;
  const std::size_t payload = load_be16(&p[4]);
  if (40 + payload > p.size()) return errc::truncated;
  if (payload == 0) return errc::ip_bad_total_length;  // jumbograms (RFC 2675) are not tunnelled here
  return ipv6_parsed{payload, ip_tos(p.data()), p[6], p[7]};
}

// Pseudo-header sum for UDP over IPv6 (RFC 8200 §8.1).
constexpr std::uint32_t ipv6_pseudo_sum(const std::uint8_t* src, const std::uint8_t* dst, std::size_t length,
                                        std::uint8_t next_header) noexcept {
  std::uint32_t sum = checksum_add(0, src, 16);
  sum = checksum_add(sum, dst, 16);
  sum += static_cast<std::uint32_t>(length >> 16) + static_cast<std::uint32_t>(length & 0xffff);
  return sum + next_header;
}

constexpr std::uint32_t ipv4_pseudo_sum(const std::uint8_t* src, const std::uint8_t* dst, std::size_t length,
                                        std::uint8_t protocol) noexcept {
  std::uint32_t sum = checksum_add(0, src, 4);
  sum = checksum_add(sum, dst, 4);
  return sum + static_cast<std::uint32_t>(length) + protocol;
}

}  // namespace v0
}  // namespace encap
