// encap/layering.hpp — which layer may carry which: one table used by the typed stacks
// (as concepts, at compile time) and by the run-time spec (as error messages).
#pragma once

#include <cstdint>

#include "layers/esp.hpp"
#include "layers/l2tpv3.hpp"
#include "sizing.hpp"

namespace encap {
inline namespace v0 {

// The payloads each layer can carry (layer_table.hpp). ESP's set depends on the mode:
// tunnel mode carries an IP packet (next header 4 or 41; or IP-TFS's 144), transport mode
// carries what IP would (RFC 4303 §3.1).
constexpr std::uint32_t payloads_of(layer_kind outer, esp_mode mode = esp_mode::tunnel) noexcept {
  const layer_info& l = layer_info_of(outer);
  return outer == layer_kind::esp && mode == esp_mode::transport ? l.carries_transport : l.carries;
}

constexpr bool may_carry(layer_kind outer, layer_kind inner, esp_mode mode = esp_mode::tunnel) noexcept {
  return (payloads_of(outer, mode) & bit(inner)) != 0;
}

// Layers that only ever ride inside another protocol cannot be the outermost (what a link
// carries): IP, Ethernet, PPPoE and MPLS can stand on a link.
constexpr bool needs_carrier(layer_kind k) noexcept { return !layer_info_of(k).on_link; }

// The layers that may carry k (for messages).
constexpr std::uint32_t carriers_of(layer_kind k) noexcept {
  std::uint32_t m = 0;
  for (std::size_t o = 0; o < layer_kind_count; ++o)
    if (may_carry(static_cast<layer_kind>(o), k, esp_mode::tunnel) || may_carry(static_cast<layer_kind>(o), k, esp_mode::transport))
      m |= bit(static_cast<layer_kind>(o));
  return m;
}

// A layer's rule as it stands in a stack: what its carrier adds to it.
//   L2TPv3 over UDP: 4 more header bytes (RFC 3931 §4.1.2.2)
//   ESP in TCP: each ESP packet behind a 2-byte length (RFC 8229 §3)
//   OpenVPN over TCP: each packet behind a 2-byte length (OpenVPN's TCP framing)
//   AH: 12 + ICV padded to 4 bytes over IPv4, to 8 over IPv6 and its extension headers
//       (RFC 4302 §2.2, §3.3.3.2.1)
constexpr layer_rule in_context(layer_rule r, layer_kind outer) noexcept {
  using enum layer_kind;
  if (r.kind == l2tpv3 && outer == udp) r.header_size += l2tpv3_udp_extra_size;
  if ((r.kind == esp || r.kind == openvpn) && outer == tcp) r.header_size += 2;
  if (r.kind == ah && (bit(outer) & (bit(ipv6) | bit(hbh) | layer_sets::v6_ext)))
    r.header_size = round_up(r.header_size, 8);
  return r;
}

// The inner packet's own header: a trailing IP layer names what the tunnel carries
// ("esp(...)/ipv4": tunnel mode carrying IPv4; "ipv4/ipv4": IPIP) and adds no bytes,
// while IP layers further out are headers the encapsulation writes.
constexpr layer_rule as_inner_header(layer_rule r) noexcept {
  r.header_size = 0;
  r.inner_header = true;
  return r;
}

// Rules as they stand in a stack, outermost first: each in the context of its carrier,
// and a trailing IP layer as the inner packet's header. Typed stacks and the run-time
// spec both finish their rules here, so they agree byte for byte.
constexpr void place_in_stack(layer_rule* rules, std::size_t count) noexcept {
  for (std::size_t i = 1; i < count; ++i) rules[i] = in_context(rules[i], rules[i - 1].kind);
  if (count > 1 && is_ip(rules[count - 1].kind)) rules[count - 1] = as_inner_header(rules[count - 1]);
}

}  // namespace v0
}  // namespace encap
