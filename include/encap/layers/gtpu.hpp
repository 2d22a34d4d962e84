// encap/layers/gtpu.hpp — GTP-U (3GPP TS 29.281 §5.1): flags, type, length, TEID = 8
// bytes; with any of the E, S, PN flags the sequence number, N-PDU number and next
// extension header type follow (4 more); extension headers are multiples of 4 bytes
// (§5.2). A 5G N3/N9 packet carries a PDU Session Container (TS 38.415 §5.5.2: 4 bytes for
// the usual QFI-only content): 8 + 4 + 4 = 16. Over UDP port 2152. Sizing only.
// param: the extension header bytes (bits 0-11), optional fields present (bit 12).
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t gtpu_header_size = 8;
inline constexpr std::size_t gtpu_optional_size = 4;
inline constexpr std::size_t gtpu_pdu_session_size = 4;
inline constexpr std::uint16_t gtpu_optional_flag = 0x1000;

constexpr bool gtpu_ext_valid(std::size_t bytes) noexcept { return bytes % 4 == 0 && bytes <= 1020; }

constexpr layer_rule gtpu_rule(bool optional_fields = false, std::size_t ext_bytes = 0) noexcept {
  const bool opt = optional_fields || ext_bytes > 0;
  return {.kind = layer_kind::gtpu, .header_size = gtpu_header_size + (opt ? gtpu_optional_size : 0) + ext_bytes,
          .param = static_cast<std::uint16_t>(ext_bytes | (opt ? gtpu_optional_flag : 0))};
}

}  // namespace v0
}  // namespace encap
