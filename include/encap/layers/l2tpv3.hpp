// encap/layers/l2tpv3.hpp — L2TPv3 data messages (RFC 3931 §4.1): session ID and an
// optional 4- or 8-byte cookie, optionally the default L2-specific sublayer (4 bytes).
// Directly over IP (protocol 115); over UDP the header gains 4 bytes of flags/version
// and reserved (RFC 3931 §4.1.2.2) — layering.hpp applies that by context. Sizing only.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t l2tpv3_session_id_size = 4;
inline constexpr std::size_t l2tpv3_udp_extra_size = 4;
inline constexpr std::size_t l2tpv3_sublayer_size = 4;

constexpr bool l2tpv3_cookie_valid(std::size_t bytes) noexcept { return bytes == 0 || bytes == 4 || bytes == 8; }

constexpr layer_rule l2tpv3_rule(std::size_t cookie_bytes = 0, bool sublayer = false) noexcept {
  return {.kind = layer_kind::l2tpv3,
          .header_size = l2tpv3_session_id_size + cookie_bytes + (sublayer ? l2tpv3_sublayer_size : 0),
          .param = static_cast<std::uint16_t>(cookie_bytes | (sublayer ? 0x100 : 0))};
}

template <std::size_t CookieBytes = 0, bool Sublayer = false>
struct l2tpv3 {
  static_assert(l2tpv3_cookie_valid(CookieBytes), "an L2TPv3 cookie is 0, 4 or 8 bytes (RFC 3931 §4.1)");
  static constexpr layer_kind kind = layer_kind::l2tpv3;
  static constexpr layer_rule rule() noexcept { return l2tpv3_rule(CookieBytes, Sublayer); }
};

}  // namespace v0
}  // namespace encap
