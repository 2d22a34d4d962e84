// encap/wire/walk.hpp — what the per-layer codecs (wire/ipv4.hpp, ipv6.hpp, udp.hpp,
// gre.hpp, esp.hpp) pass from one layer to the next as a packet is built or opened.
// The typed endpoint and the run-time one fold over the same codecs with these, so they
// write the same bytes and report the same errors.
#pragma once

#include <cstdint>
#include <optional>

#include "../result.hpp"
#include "ip.hpp"

namespace encap {
inline namespace v0 {

// Encapsulation, innermost layer first.
struct encap_walk {
  inner_ip_info inner{};            // the inner packet's version, DSCP/ECN and DF
  std::uint8_t* udp = nullptr;      // a UDP header waiting for its IPv6 pseudo-header checksum
};

// What may follow a layer, for decapsulation.
struct decap_next {
  std::uint8_t proto = 0;           // the next layer's IP protocol number (not the inner packet)
  std::uint8_t inner = 0;           // the inner packet follows: bit 0 IPv4 accepted, bit 1 IPv6 accepted
  static constexpr std::uint8_t inner_v4 = 1, inner_v6 = 2;
};

// Decapsulation, outermost layer first.
struct decap_walk {
  std::uint32_t layer = 0;                  // the layer being opened (an error's detail)
  std::optional<std::uint8_t> outer_ecn;    // the outermost IP header's ECN (RFC 6040)
  std::uint8_t inner_version = 0;           // what the last layer said it carries
  std::optional<std::uint32_t> gre_seq;     // RFC 2890
  const std::uint8_t* ip_src = nullptr;     // the enclosing IP header's addresses (UDP checksum)
  const std::uint8_t* ip_dst = nullptr;
  bool ipv6 = false;
  const std::uint8_t* outer_source = nullptr;  // the outermost IP source and UDP source port (decap_info)
  bool outer_ipv6 = false;
  std::uint16_t outer_source_port = 0;

  // The layer says the inner packet is IPv4 (v4) or IPv6 (v6): is that what the stack carries?
  constexpr errc accept_inner(const decap_next& n, bool v4, bool v6) noexcept {
    if (!((v4 && (n.inner & decap_next::inner_v4)) || (v6 && (n.inner & decap_next::inner_v6))))
      return errc::ip_unexpected_protocol;
    inner_version = v4 ? 4 : 6;
    return errc::ok;
  }
  // The layer names the protocol that follows it (IP protocol, ESP next header).
  constexpr errc accept_proto(const decap_next& n, std::uint8_t proto) noexcept {
    if (n.inner) return accept_inner(n, proto == ip_proto::ipv4, proto == ip_proto::ipv6);
    return proto == n.proto ? errc::ok : errc::ip_unexpected_protocol;
  }
};

}  // namespace v0
}  // namespace encap
