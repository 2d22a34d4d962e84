// encap/layers/udp.hpp — UDP (RFC 768), as used for ESP NAT traversal (RFC 3948),
// VXLAN, GENEVE, WireGuard and L2TPv3 over UDP.
#pragma once

#include <cstdint>

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t udp_header_size = 8;
inline constexpr std::uint16_t nat_t_port = 4500;  // RFC 3948 §2

inline constexpr std::size_t udp_max_size = 65535;  // the Length field counts the header (RFC 768)

constexpr layer_rule udp_rule() noexcept {
  return {.kind = layer_kind::udp, .header_size = udp_header_size, .max_size = udp_max_size};
}

struct udp {
  static constexpr layer_kind kind = layer_kind::udp;
  static constexpr layer_rule rule() noexcept { return udp_rule(); }

  std::uint16_t src_port = nat_t_port;
  std::uint16_t dst_port = nat_t_port;
};

}  // namespace v0
}  // namespace encap
