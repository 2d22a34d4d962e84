// encap/layers/macsec.hpp — MACsec (IEEE 802.1AE): a SecTAG of 8 bytes, or 16 with the
// SCI, after the MAC addresses, and an ICV (16 bytes for the GCM-AES suites) at the end.
// Stacked as eth/macsec/...: the original EtherType moves inside the protected data,
// so ethernet(14) + macsec(16 + 16) is exactly the 46 bytes a MACsec frame adds. Sizing only.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t macsec_sectag_size = 8;
inline constexpr std::size_t macsec_sci_size = 8;
inline constexpr std::size_t macsec_icv_size = 16;

constexpr layer_rule macsec_rule(bool sci = true, std::size_t icv = macsec_icv_size) noexcept {
  return {.kind = layer_kind::macsec, .header_size = macsec_sectag_size + (sci ? macsec_sci_size : 0),
          .trailer_size = icv, .param = static_cast<std::uint16_t>(sci)};
}

template <bool Sci = true>
struct macsec {
  static constexpr layer_kind kind = layer_kind::macsec;
  static constexpr layer_rule rule() noexcept { return macsec_rule(Sci); }
};

}  // namespace v0
}  // namespace encap
