// encap/layers/vxlan.hpp — VXLAN (RFC 7348): an 8-byte header over UDP carrying an
// Ethernet frame. Sizing only.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t vxlan_header_size = 8;

constexpr layer_rule vxlan_rule() noexcept { return {.kind = layer_kind::vxlan, .header_size = vxlan_header_size}; }

struct vxlan {
  static constexpr layer_kind kind = layer_kind::vxlan;
  static constexpr layer_rule rule() noexcept { return vxlan_rule(); }
};

}  // namespace v0
}  // namespace encap
