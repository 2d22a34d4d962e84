// encap/layers/pppoe.hpp — PPPoE session header (RFC 2516) plus the PPP protocol
// field: the reason DSL links have an MTU of 1492. Sizing only.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t pppoe_header_size = 6 + 2;  // ver/type, code, session, length + PPP protocol

constexpr layer_rule pppoe_rule() noexcept { return {.kind = layer_kind::pppoe, .header_size = pppoe_header_size}; }

struct pppoe {
  static constexpr layer_kind kind = layer_kind::pppoe;
  static constexpr layer_rule rule() noexcept { return pppoe_rule(); }
};

}  // namespace v0
}  // namespace encap
