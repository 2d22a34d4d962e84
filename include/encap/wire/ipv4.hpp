// encap/wire/ipv4.hpp — the IPv4 layer's codec (RFC 791): an outer header written in
// front of a packet, and an outer header checked and stripped.
#pragma once

#include <cstring>

#include "../frame.hpp"
#include "../layers/ip.hpp"
#include "../layers/ipv4.hpp"
#include "ip.hpp"
#include "walk.hpp"

namespace encap {
inline namespace v0 {

// The outer IPv4 DF bit: the policy applied to the inner packet's (IPv6 inner: set).
constexpr bool outer_df(df_policy df, bool inner_df) noexcept {
  return df == df_policy::set || (df == df_policy::copy && inner_df);
}

// DSCP and ECN copied from the inner packet (RFC 6040 normal mode); DF per policy.
// The frame has the headroom (checked by the endpoint before anything is written).
inline void encap_ipv4(frame& f, encap_walk& w, const ipv4& l, std::uint8_t protocol, std::uint16_t id, df_policy df) noexcept {
  (void)f.push(ipv4_header_size);
  write_ipv4(f.begin(), f.size(), {l.src, l.dst, w.inner.tos, l.ttl, protocol, id, outer_df(df, w.inner.df)});
  w.udp = nullptr;  // RFC 3948 §2.1: UDP checksum zero over IPv4
}

// Whether the header comes from the peer: its src is the tunnel's dst, its dst the tunnel's src.
inline bool ipv4_from_peer(const std::uint8_t* h, const ipv4& peer) noexcept {
  return std::memcmp(h + 12, peer.dst.data(), 4) == 0 && std::memcmp(h + 16, peer.src.data(), 4) == 0;
}

// A checked header into the walk (addresses, the outermost ECN), then stripped.
inline void take_ipv4(frame& f, decap_walk& w, const ipv4_parsed& h) noexcept {
  const std::uint8_t* p = f.begin();
  if (!w.outer_ecn) {  // the outermost IP header
    w.outer_ecn = static_cast<std::uint8_t>(h.tos & 3);
    w.outer_source = p + 12;
  }
  w.ip_src = p + 12;
  w.ip_dst = p + 16;
  w.ipv6 = false;
  (void)f.truncate(h.total_length);
  (void)f.pull(h.header_length);
}

// `peer`: when set, the packet must come from its dst and go to its src (the tunnel's view).
inline errc decap_ipv4(frame& f, decap_walk& w, const decap_next& next, const ipv4* peer) noexcept {
  const auto h = parse_ipv4(f.data());
  if (!h) return h.error();
  if (const errc e = w.accept_proto(next, h.value().protocol); e != errc::ok) return e;
  if (peer && !ipv4_from_peer(f.begin(), *peer)) return errc::ip_unexpected_address;
  take_ipv4(f, w, h.value());
  return errc::ok;
}

}  // namespace v0
}  // namespace encap
