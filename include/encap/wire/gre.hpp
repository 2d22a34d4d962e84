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

// The header as decap reads it: no optionals to build per packet, `flags` says which of
// key and seq are there (gre_flag_k, gre_flag_s).
struct gre_header {
  std::uint16_t flags = 0, protocol = 0;
  std::uint32_t key = 0, seq = 0;
  std::size_t header_length = 4;
};

// Validates version 0, no routing or reserved bits, the checksum if present, and that
// the key is present and equal exactly when one is configured.
constexpr result<gre_header> read_gre(const_byte_span p, std::optional<std::uint32_t> expected_key) noexcept {
  if (p.size() < 4) return errc::truncated;
  gre_header h{load_be16(&p[0]), load_be16(&p[2])};
  if (h.flags == 0 && !expected_key) return h;  // RFC 2784's bare header: nothing else to check
  if ((h.flags & 0x7) != 0) return errc::gre_bad_version;
  if (h.flags & (gre_flag_r | 0x0ff8)) return errc::gre_reserved_bits;
  const bool c = h.flags & gre_flag_c, k = h.flags & gre_flag_k, s = h.flags & gre_flag_s;
  const std::size_t need = std::size_t{4} + std::size_t{4} * (std::size_t{c} + std::size_t{k} + std::size_t{s});
  if (p.size() < need) return errc::truncated;
  if (c) {
    if (internet_checksum(p.data(), p.size()) != 0) return errc::gre_bad_checksum;
    h.header_length += 4;
  }
  if (k) { h.key = load_be32(&p[h.header_length]); h.header_length += 4; }
  if (s) { h.seq = load_be32(&p[h.header_length]); h.header_length += 4; }
  if (k != expected_key.has_value() || (k && h.key != *expected_key)) return errc::gre_key_mismatch;
  return h;
}

struct gre_parsed {
  std::size_t header_length = 0;
  std::uint16_t protocol = 0;
  std::optional<std::uint32_t> key, seq;
};

// read_gre, with key and seq as optionals.
constexpr result<gre_parsed> parse_gre(const_byte_span p, std::optional<std::uint32_t> expected_key) noexcept {
  const auto r = read_gre(p, expected_key);
  if (!r) return r.error();
  const gre_header& h = r.value();
  gre_parsed out{h.header_length, h.protocol, {}, {}};
  if (h.flags & gre_flag_k) out.key = h.key;
  if (h.flags & gre_flag_s) out.seq = h.seq;
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
  const auto r = read_gre(f.data(), key);
  if (!r) return r.error();
  const gre_header& h = r.value();
  const std::uint16_t pt = h.protocol;
  if (next.inner) {
    if (w.accept_inner(next, pt == ether_type::ipv4, pt == ether_type::ipv6) != errc::ok) return errc::gre_unexpected_protocol;
  } else if (pt != (next.proto == ip_proto::ipv6 ? ether_type::ipv6 : ether_type::ipv4)) {
    return errc::gre_unexpected_protocol;
  }
  w.gre_seq = h.flags & gre_flag_s ? std::optional<std::uint32_t>(h.seq) : std::nullopt;
  (void)f.pull(h.header_length);
  return errc::ok;
}

}  // namespace v0
}  // namespace encap
