// encap/layers/ip.hpp — IPv4 (RFC 791) and IPv6 (RFC 8200) as stack layers.
// IPIP, 6in4 and IP6IP6 are simply IP layers stacked.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t ipv4_header_size = 20;  // RFC 791, no options
inline constexpr std::size_t ipv6_header_size = 40;  // RFC 8200, no extension headers

// The 16-bit length fields bound what a layer can emit: IPv4's Total Length counts the
// header (RFC 791 §3.1), IPv6's Payload Length does not (RFC 8200 §3; jumbograms, RFC
// 2675, are not supported).
inline constexpr std::size_t ipv4_max_size = 65535;
inline constexpr std::size_t ipv6_max_size = ipv6_header_size + 65535;

// IPv4 options: up to 40 bytes in 4-byte words (the IHL is 4 bits of 32-bit words, RFC
// 791 §3.1). Sizing only: the endpoints write 20-byte headers. param = option bytes.
inline constexpr std::size_t ipv4_max_options = 40;
constexpr bool ipv4_options_valid(std::size_t bytes) noexcept { return bytes <= ipv4_max_options && bytes % 4 == 0; }

constexpr layer_rule ipv4_rule(std::size_t option_bytes = 0) noexcept {
  return {.kind = layer_kind::ipv4, .header_size = ipv4_header_size + option_bytes, .max_size = ipv4_max_size,
          .param = static_cast<std::uint16_t>(option_bytes)};
}
constexpr layer_rule ipv6_rule() noexcept {
  return {.kind = layer_kind::ipv6, .header_size = ipv6_header_size, .max_size = ipv6_max_size};
}

}  // namespace v0
}  // namespace encap
