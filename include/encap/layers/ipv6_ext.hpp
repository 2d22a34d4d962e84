// encap/layers/ipv6_ext.hpp — IPv6 extension headers as layers (RFC 8200 §4): they sit
// between an IPv6 header and what it carries.
//   hop-by-hop (§4.3), destination options (§4.6): next header, length, options, the whole
//     a multiple of 8 bytes, 8..2048
//   routing type 4, the Segment Routing Header (RFC 8754 §2): 8 + 16 per segment + TLVs
//   fragment (§4.5): 8 bytes, in every fragment
// Sizing only. param: the total bytes (options), the segment count (SRH).
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t ipv6_ext_unit = 8;
inline constexpr std::size_t ipv6_ext_max_size = 2048;  // Hdr Ext Len is 8 bits of 8-byte units, + 1
inline constexpr std::size_t ipv6_fragment_header_size = 8;
inline constexpr std::size_t srh_fixed_size = 8;
inline constexpr std::size_t srh_segment_size = 16;
inline constexpr std::size_t srh_max_segments = 127;  // Last Entry is 8 bits; Hdr Ext Len caps the whole at 2048

constexpr bool ipv6_options_size_valid(std::size_t bytes) noexcept {
  return bytes >= ipv6_ext_unit && bytes <= ipv6_ext_max_size && bytes % ipv6_ext_unit == 0;
}
constexpr bool srh_valid(std::size_t segments, std::size_t tlv_bytes) noexcept {
  return segments >= 1 && segments <= srh_max_segments && tlv_bytes % ipv6_ext_unit == 0 &&
         srh_fixed_size + srh_segment_size * segments + tlv_bytes <= ipv6_ext_max_size;
}

constexpr layer_rule hbh_rule(std::size_t bytes = ipv6_ext_unit) noexcept {
  return {.kind = layer_kind::hbh, .header_size = bytes, .param = static_cast<std::uint16_t>(bytes)};
}
constexpr layer_rule dstopts_rule(std::size_t bytes = ipv6_ext_unit) noexcept {
  return {.kind = layer_kind::dstopts, .header_size = bytes, .param = static_cast<std::uint16_t>(bytes)};
}
// param: segments in the low byte, TLV bytes / 8 above it
constexpr layer_rule srh_rule(std::size_t segments, std::size_t tlv_bytes = 0) noexcept {
  return {.kind = layer_kind::srh, .header_size = srh_fixed_size + srh_segment_size * segments + tlv_bytes,
          .param = static_cast<std::uint16_t>(segments | (tlv_bytes / ipv6_ext_unit) << 8)};
}
constexpr layer_rule frag_rule() noexcept { return {.kind = layer_kind::frag, .header_size = ipv6_fragment_header_size}; }

}  // namespace v0
}  // namespace encap
