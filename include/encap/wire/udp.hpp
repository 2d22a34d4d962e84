// encap/wire/udp.hpp — the UDP header (RFC 768), ESP-in-UDP classification (RFC 3948),
// and the UDP layer's codec.
#pragma once

#include <cstdint>

#include "../bytes.hpp"
#include "../frame.hpp"
#include "../layers/udp.hpp"
#include "../result.hpp"
#include "ip.hpp"
#include "walk.hpp"

namespace encap {
inline namespace v0 {

// Checksum 0 ("none"); IPv6 callers fill it in once the pseudo-header is known.
constexpr void write_udp(std::uint8_t* h, std::uint16_t src_port, std::uint16_t dst_port, std::size_t length) noexcept {
  store_be16(h, src_port);
  store_be16(h + 2, dst_port);
  store_be16(h + 4, static_cast<std::uint16_t>(length));
  store_be16(h + 6, 0);
}

struct udp_parsed {
  std::uint16_t src_port = 0, dst_port = 0;
  std::size_t length = 0;
  std::uint16_t checksum = 0;
};

constexpr result<udp_parsed> parse_udp(const_byte_span p) noexcept {
  if (p.size() < 8) return errc::truncated;
  const std::size_t len = load_be16(&p[4]);
  if (len < 8 || len > p.size()) return errc::udp_bad_length;
  return udp_parsed{load_be16(&p[0]), load_be16(&p[2]), len, load_be16(&p[6])};
}

// RFC 3948 §2.2, §2.3: on port 4500 a one-byte 0xFF payload is a NAT-keepalive and a
// payload starting with four zero bytes (the non-ESP marker) is IKE, not ESP.
constexpr errc classify_nat_t(const_byte_span payload) noexcept {
  if (payload.size() == 1 && payload[0] == 0xff) return errc::nat_keepalive;
  if (payload.size() >= 4 && payload[0] == 0 && payload[1] == 0 && payload[2] == 0 && payload[3] == 0)
    return errc::non_esp_marker;
  return errc::ok;
}

// ---- the layer's codec ---------------------------------------------------------------------

// Over IPv6 the checksum is filled in by the IPv6 layer outside (encap_ipv6).
inline void encap_udp(frame& f, encap_walk& w, const udp& l) noexcept {
  (void)f.push(udp_header_size);
  write_udp(f.begin(), l.src_port, l.dst_port, f.size());
  w.udp = f.begin();
}

// `peer`: when set, the packet must come from its dst_port and go to its src_port.
// `esp_next`: ESP follows, so NAT-keepalives and IKE (non-ESP marker) are told apart.
inline errc decap_udp(frame& f, decap_walk& w, const udp* peer, bool esp_next) noexcept {
  const byte_span p = f.data();
  const auto h = parse_udp(p);
  if (!h) return h.error();
  if (peer && (load_be16(p.data()) != peer->dst_port || load_be16(p.data() + 2) != peer->src_port)) return errc::udp_unexpected_port;
  (void)f.truncate(h.value().length);
  if (h.value().checksum != 0 || w.ipv6) {
    if (h.value().checksum == 0 || !w.ip_src) return errc::udp_bad_checksum;  // IPv6 requires it (RFC 8200 §8.1)
    const std::uint32_t pseudo = w.ipv6 ? ipv6_pseudo_sum(w.ip_src, w.ip_dst, h.value().length, ip_proto::udp)
                                        : ipv4_pseudo_sum(w.ip_src, w.ip_dst, h.value().length, ip_proto::udp);
    if (internet_checksum(p.data(), h.value().length, pseudo) != 0) return errc::udp_bad_checksum;
  }
  if (!w.outer_source_port) w.outer_source_port = h.value().src_port;
  (void)f.pull(udp_header_size);
  return esp_next ? classify_nat_t(f.data()) : errc::ok;
}

}  // namespace v0
}  // namespace encap
