// encap/layers/ethernet.hpp — Ethernet II framing with 0, 1 (802.1Q) or 2 (802.1ad
// QinQ) VLAN tags. Sizing only. The FCS is not counted: an MTU is measured without it,
// and frames carried inside VXLAN/GENEVE/GRE travel without one.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t ethernet_header_size = 14;  // destination, source, EtherType
inline constexpr std::size_t vlan_tag_size = 4;          // IEEE 802.1Q TPID + TCI

constexpr layer_rule ethernet_rule(unsigned tags = 0) noexcept {
  return {.kind = layer_kind::ethernet, .header_size = ethernet_header_size + vlan_tag_size * tags,
          .param = static_cast<std::uint16_t>(tags)};
}

template <unsigned Tags = 0>
struct ethernet {
  static_assert(Tags <= 2, "Ethernet carries at most two VLAN tags here (802.1Q, QinQ)");
  static constexpr layer_kind kind = layer_kind::ethernet;
  static constexpr layer_rule rule() noexcept { return ethernet_rule(Tags); }
};

using dot1q = ethernet<1>;
using qinq = ethernet<2>;

}  // namespace v0
}  // namespace encap
