// encap/layers/ah.hpp — IPsec Authentication Header (RFC 4302 §2): next header, payload
// length, reserved (4), SPI (4), sequence number (4), then the ICV, the whole padded to a
// multiple of 4 bytes over IPv4 and 8 over IPv6 (RFC 4302 §2.2, §3.3.3.2.1; layering.hpp
// applies the IPv6 rule by context). AES-GMAC (RFC 4543 §3) puts an 8-byte IV before its
// 16-byte ICV. AH authenticates, it does not encrypt: nothing is padded to a block.
// Sizing only.
#pragma once

#include "../crypto/suites.hpp"
#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t ah_fixed_size = 12;
inline constexpr std::size_t ah_gmac_iv_size = 8;
inline constexpr std::size_t ah_gmac_icv_size = 16;
inline constexpr std::uint16_t ah_gmac_flag = 0x100;

// param: the integrity algorithm (integ_id), or ah_gmac_flag | key bits / 8 for AES-GMAC.
constexpr layer_rule ah_rule(integ_id integ) noexcept {
  return {.kind = layer_kind::ah, .header_size = round_up(ah_fixed_size + info(integ).icv_size, 4),
          .param = static_cast<std::uint16_t>(integ)};
}
constexpr layer_rule ah_gmac_rule(std::size_t key_bits) noexcept {
  return {.kind = layer_kind::ah, .header_size = round_up(ah_fixed_size + ah_gmac_iv_size + ah_gmac_icv_size, 4),
          .param = static_cast<std::uint16_t>(ah_gmac_flag | (key_bits / 8))};
}

}  // namespace v0
}  // namespace encap
