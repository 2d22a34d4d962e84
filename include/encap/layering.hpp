// encap/layering.hpp — which layer may carry which: one table used by the typed stacks
// (as concepts, at compile time) and by the run-time spec (as error messages).
#pragma once

#include <cstdint>

#include "layers/esp.hpp"
#include "layers/l2tpv3.hpp"
#include "sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t layer_kind_count = 13;

constexpr std::uint32_t bit(layer_kind k) noexcept { return std::uint32_t{1} << static_cast<unsigned>(k); }
template <class... K>
constexpr std::uint32_t kinds(K... k) noexcept { return (0u | ... | bit(k)); }

// The payloads each layer can carry. ESP's set depends on the mode: tunnel mode carries
// an IP packet (next header 4 or 41), transport mode carries what IP would (RFC 4303 §3.1).
constexpr std::uint32_t payloads_of(layer_kind outer, esp_mode mode = esp_mode::tunnel) noexcept {
  using enum layer_kind;
  switch (outer) {
    case ipv4: case ipv6:  // IPIP, 6in4, IP6IP6, UDP, GRE, ESP, L2TPv3 (115), MPLS-in-IP (RFC 4023)
      return kinds(ipv4, ipv6, udp, gre, esp, l2tpv3, mpls);
    case udp:  // NAT-T ESP (RFC 3948), VXLAN, GENEVE, WireGuard, L2TPv3/UDP, MPLS/UDP (RFC 7510), GRE/UDP (RFC 8086)
      return kinds(esp, vxlan, geneve, wireguard, l2tpv3, mpls, gre);
    case gre:  // IP, transparent Ethernet bridging (0x6558), MPLS (0x8847)
      return kinds(ipv4, ipv6, ethernet, mpls);
    case esp:
      return mode == esp_mode::tunnel ? kinds(ipv4, ipv6) : kinds(udp, gre, l2tpv3, mpls);
    case ethernet:
      return kinds(ipv4, ipv6, mpls, pppoe, macsec);
    case macsec:
      return kinds(ipv4, ipv6, mpls, pppoe);
    case pppoe:
      return kinds(ipv4, ipv6, mpls);
    case mpls:  // IP, or an Ethernet pseudowire (RFC 4448)
      return kinds(ipv4, ipv6, ethernet, mpls);
    case vxlan:
      return kinds(ethernet);
    case geneve:  // Protocol Type: Transparent Ethernet Bridging, IPv4, IPv6
      return kinds(ethernet, ipv4, ipv6);
    case l2tpv3:  // pseudowires: Ethernet (RFC 4719), PPP
      return kinds(ethernet, pppoe);
    case wireguard:
      return kinds(ipv4, ipv6);
  }
  return 0;
}

constexpr bool may_carry(layer_kind outer, layer_kind inner, esp_mode mode = esp_mode::tunnel) noexcept {
  return (payloads_of(outer, mode) & bit(inner)) != 0;
}

// Layers that only ever ride inside another protocol and so cannot be the outermost
// (what a link carries): ESP, UDP, GRE, L2TPv3 need IP; VXLAN, GENEVE, WireGuard need
// UDP; MACsec needs Ethernet. IP, Ethernet, PPPoE and MPLS can stand on a link.
constexpr bool needs_carrier(layer_kind k) noexcept {
  using enum layer_kind;
  switch (k) {
    case ipv4: case ipv6: case ethernet: case pppoe: case mpls: return false;
    case udp: case gre: case esp: case vxlan: case geneve: case l2tpv3: case macsec: case wireguard: return true;
  }
  return true;
}

// The layers that may carry k (for messages).
constexpr std::uint32_t carriers_of(layer_kind k) noexcept {
  std::uint32_t m = 0;
  for (std::size_t o = 0; o < layer_kind_count; ++o)
    if (may_carry(static_cast<layer_kind>(o), k, esp_mode::tunnel) || may_carry(static_cast<layer_kind>(o), k, esp_mode::transport))
      m |= bit(static_cast<layer_kind>(o));
  return m;
}

// A layer's rule as it stands in a stack: L2TPv3 over UDP has 4 more header bytes.
constexpr layer_rule in_context(layer_rule r, layer_kind outer) noexcept {
  if (r.kind == layer_kind::l2tpv3 && outer == layer_kind::udp) r.header_size += l2tpv3_udp_extra_size;
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
