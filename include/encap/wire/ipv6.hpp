// encap/wire/ipv6.hpp — the IPv6 layer's codec (RFC 8200): an outer header written in
// front of a packet (and the checksum of a UDP header it carries), and an outer header
// checked and stripped.
#pragma once

#include <cstring>

#include "../frame.hpp"
#include "../layers/ip.hpp"
#include "../layers/ipv6.hpp"
#include "ip.hpp"
#include "walk.hpp"

namespace encap {
inline namespace v0 {

inline void encap_ipv6(frame& f, encap_walk& w, const ipv6& l, std::uint8_t next_header) noexcept {
  (void)f.push(ipv6_header_size);
  write_ipv6(f.begin(), f.size() - ipv6_header_size, {l.src, l.dst, w.inner.tos, l.hop_limit, next_header, 0});
  if (w.udp) {  // RFC 8200 §8.1: UDP over IPv6 needs its checksum
    const std::size_t ulen = load_be16(w.udp + 4);
    const std::uint16_t sum = internet_checksum(w.udp, ulen, ipv6_pseudo_sum(l.src.data(), l.dst.data(), ulen, ip_proto::udp));
    store_be16(w.udp + 6, sum == 0 ? 0xffff : sum);
    w.udp = nullptr;
  }
}

inline errc decap_ipv6(frame& f, decap_walk& w, const decap_next& next, const ipv6* peer) noexcept {
  const byte_span p = f.data();
  const auto h = parse_ipv6(p);
  if (!h) return h.error();
  if (const errc e = w.accept_proto(next, h.value().next_header); e != errc::ok) return e;
  if (peer && (std::memcmp(p.data() + 8, peer->dst.data(), 16) != 0 || std::memcmp(p.data() + 24, peer->src.data(), 16) != 0))
    return errc::ip_unexpected_address;
  if (!w.outer_ecn) {  // the outermost IP header
    w.outer_ecn = static_cast<std::uint8_t>(h.value().traffic_class & 3);
    w.outer_source = p.data() + 8;
    w.outer_ipv6 = true;
  }
  w.ip_src = p.data() + 8;
  w.ip_dst = p.data() + 24;
  w.ipv6 = true;
  (void)f.truncate(ipv6_header_size + h.value().payload_length);
  (void)f.pull(ipv6_header_size);
  return errc::ok;
}

}  // namespace v0
}  // namespace encap
