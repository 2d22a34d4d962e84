// encap/layers/iptfs.hpp — IP-TFS (RFC 9347): ESP tunnel mode with next header 144
// (AGGFRAG). Each ESP payload starts with an AGGFRAG header — 4 bytes (sub-type 0: type,
// reserved, block offset), 24 with congestion control (sub-type 1: + loss event rate,
// RTT and delays, TVal, TEcho; RFC 9347 §6.1, Linux include/uapi/linux/ip.h
// ip_iptfs_cc_hdr) — then inner packets back to back, split across outer packets where
// they do not fit. So an inner packet is never too big: the figure that matters is the
// payload each outer packet carries. Sizing only. param = 1 with congestion control.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t iptfs_header_size = 4;
inline constexpr std::size_t iptfs_cc_header_size = 24;

constexpr layer_rule iptfs_rule(bool congestion_control = false) noexcept {
  return {.kind = layer_kind::iptfs, .header_size = congestion_control ? iptfs_cc_header_size : iptfs_header_size,
          .param = static_cast<std::uint16_t>(congestion_control)};
}

}  // namespace v0
}  // namespace encap
