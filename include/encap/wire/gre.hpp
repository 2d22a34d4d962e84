// encap/wire/gre.hpp — the GRE header (RFC 2784) with key and sequence number
// (RFC 2890) on the wire.
//
//   |C| |K|S| Reserved0 | Ver |  Protocol Type  |
//   |   Checksum (opt)  |  Reserved1 (opt)     |
//   |             Key (optional)                |
//   |        Sequence Number (optional)         |
#pragma once

#include <cstdint>
#include <optional>

#include "../bytes.hpp"
#include "../frame.hpp"
#include "../layers/gre.hpp"
#include "../result.hpp"
#include "ip.hpp"
#include "walk.hpp"

namespace encap {
inline namespace v0 {

namespace ether_type {
inline constexpr std::uint16_t ipv4 = 0x0800, ipv6 = 0x86dd, teb = 0x6558, mpls = 0x8847;
}

inline constexpr std::uint16_t gre_flag_c = 0x8000, gre_flag_r = 0x4000, gre_flag_k = 0x2000, gre_flag_s = 0x1000;

// Writes the header in front of `payload_length` bytes that already follow it; the
// checksum, if present, covers the header and the payload (RFC 2784 §2.5).
constexpr void write_gre(std::uint8_t* h, std::size_t payload_length, gre_opt o, std::uint16_t protocol,
                         std::uint32_t key, std::uint32_t seq) noexcept {
  std::uint16_t flags = 0;
  if (has(o, gre_opt::csum)) flags |= gre_flag_c;
  if (has(o, gre_opt::key)) flags |= gre_flag_k;
  if (has(o, gre_opt::seq)) flags |= gre_flag_s;
  store_be16(h, flags);
  store_be16(h + 2, protocol);
  std::uint8_t* p = h + 4;
  std::uint8_t* csum = nullptr;
  if (has(o, gre_opt::csum)) { csum = p; store_be32(p, 0); p += 4; }
  if (has(o, gre_opt::key)) { store_be32(p, key); p += 4; }
  if (has(o, gre_opt::seq)) { store_be32(p, seq); p += 4; }
  if (csum) store_be16(csum, internet_checksum(h, gre_header_size(o) + payload_length));
}

struct gre_parsed {
  std::size_t header_length = 0;
  std::uint16_t protocol = 0;
  std::optional<std::uint32_t> key, seq;
};

// Validates version 0, no routing or reserved bits, the checksum if present, and that
// the key is present and equal exactly when one is configured.
constexpr result<gre_parsed> parse_gre(const_byte_span p, std::optional<std::uint32_t> expected_key) noexcept {
  if (p.size() < 4) return errc::truncated;
  const std::uint16_t flags = load_be16(&p[0]);
  if (flags == 0 && !expected_key) return gre_parsed{4, load_be16(&p[2]), {}, {}};  // RFC 2784's bare header: nothing else to check
  if ((flags & 0x7) != 0) return errc::gre_bad_version;
  if (flags & (gre_flag_r | 0x0ff8)) return errc::gre_reserved_bits;
  gre_parsed out{};
  out.protocol = load_be16(&p[2]);
  std::size_t len = 4;
  const bool c = flags & gre_flag_c, k = flags & gre_flag_k, s = flags & gre_flag_s;
  const std::size_t need = std::size_t{4} + std::size_t{4} * (std::size_t{c} + std::size_t{k} + std::size_t{s});
  if (p.size() < need) return errc::truncated;
  if (c) {
    if (internet_checksum(p.data(), p.size()) != 0) return errc::gre_bad_checksum;
    len += 4;
  }
  if (k) { out.key = load_be32(&p[len]); len += 4; }
  if (s) { out.seq = load_be32(&p[len]); len += 4; }
  if (out.key != expected_key) return errc::gre_key_mismatch;
  out.header_length = len;
  return out;
}

// ---- the layer's codec ---------------------------------------------------------------------

// GRE carries IP here: the protocol type names the next header's version.
inline void encap_gre(frame& f, gre_opt o, bool next_is_ipv6, std::uint32_t key, std::uint32_t seq) noexcept {
  (void)f.push(gre_header_size(o));
  write_gre(f.begin(), f.size() - gre_header_size(o), o, next_is_ipv6 ? ether_type::ipv6 : ether_type::ipv4, key, seq);
}

// `next.proto` is ip_proto::ipv4 or ipv6 when a tunnel layer (not the inner packet) follows.
inline errc decap_gre(frame& f, decap_walk& w, const decap_next& next, std::optional<std::uint32_t> key) noexcept {
  const byte_span p = f.data();
  std::uint16_t pt = 0;
  std::size_t length = 4;
  std::optional<std::uint32_t> seq;
  if (!key && p.size() >= 4 && load_be16(p.data()) == 0) {  // the bare header (as parse_gre's first case), without building a gre_parsed
    pt = load_be16(p.data() + 2);
  } else {
    const auto h = parse_gre(p, key);
    if (!h) return h.error();
    pt = h.value().protocol;
    length = h.value().header_length;
    seq = h.value().seq;
  }
  if (next.inner) {
    if (w.accept_inner(next, pt == ether_type::ipv4, pt == ether_type::ipv6) != errc::ok) return errc::gre_unexpected_protocol;
  } else if (pt != (next.proto == ip_proto::ipv6 ? ether_type::ipv6 : ether_type::ipv4)) {
    return errc::gre_unexpected_protocol;
  }
  w.gre_seq = seq;
  (void)f.pull(length);
  return errc::ok;
}

}  // namespace v0
}  // namespace encap
