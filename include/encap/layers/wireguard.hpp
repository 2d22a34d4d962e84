// encap/layers/wireguard.hpp — WireGuard transport data messages: type(1), reserved(3),
// receiver index(4), counter(8), then the encrypted packet padded to a multiple of 16
// bytes but never past the MTU, then the 16-byte Poly1305 tag (WireGuard whitepaper
// §5.4.6; Linux drivers/net/wireguard/send.c calculate_skb_padding). Sizing only.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t wireguard_header_size = 16;
inline constexpr std::size_t wireguard_tag_size = 16;
inline constexpr std::size_t wireguard_padding_multiple = 16;

constexpr layer_rule wireguard_rule() noexcept {
  return {.kind = layer_kind::wireguard, .header_size = wireguard_header_size,
          .trailer_size = wireguard_tag_size, .pad_to = wireguard_padding_multiple};
}

struct wireguard {
  static constexpr layer_kind kind = layer_kind::wireguard;
  static constexpr layer_rule rule() noexcept { return wireguard_rule(); }
};

}  // namespace v0
}  // namespace encap
