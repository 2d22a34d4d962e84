// encap/layers/ip.hpp — IPv4 (RFC 791) and IPv6 (RFC 8200) as stack layers.
// IPIP, 6in4 and IP6IP6 are simply IP layers stacked.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t ipv4_header_size = 20;  // RFC 791, no options
inline constexpr std::size_t ipv6_header_size = 40;  // RFC 8200, no extension headers

constexpr layer_rule ipv4_rule() noexcept { return {.kind = layer_kind::ipv4, .header_size = ipv4_header_size}; }
constexpr layer_rule ipv6_rule() noexcept { return {.kind = layer_kind::ipv6, .header_size = ipv6_header_size}; }

}  // namespace v0
}  // namespace encap
