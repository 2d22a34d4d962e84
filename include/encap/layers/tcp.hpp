// encap/layers/tcp.hpp — TCP as a carrier (RFC 9293 §3.1: 20 bytes + options in 4-byte
// words, at most 40): ESP in TCP (RFC 8229: each ESP packet behind a 2-byte length) and
// OpenVPN over TCP. A stream, not datagrams: the figures are for one packet per segment,
// which is what an MSS of the tunnel's size gives. Sizing only. param = option bytes.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t tcp_header_size = 20;
inline constexpr std::size_t tcp_max_options = 40;
constexpr bool tcp_options_valid(std::size_t bytes) noexcept { return bytes <= tcp_max_options && bytes % 4 == 0; }

constexpr layer_rule tcp_rule(std::size_t option_bytes = 0) noexcept {
  return {.kind = layer_kind::tcp, .header_size = tcp_header_size + option_bytes,
          .param = static_cast<std::uint16_t>(option_bytes)};
}

}  // namespace v0
}  // namespace encap
