// encap/layers/mpls.hpp — an MPLS label stack (RFC 3032), 4 bytes a label. Sizing only.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t mpls_label_size = 4;

constexpr layer_rule mpls_rule(unsigned labels = 1) noexcept {
  return {.kind = layer_kind::mpls, .header_size = mpls_label_size * labels, .param = static_cast<std::uint16_t>(labels)};
}

template <unsigned Labels = 1>
struct mpls {
  static_assert(Labels >= 1 && Labels <= 16, "an MPLS stack has 1 to 16 labels here");
  static constexpr layer_kind kind = layer_kind::mpls;
  static constexpr layer_rule rule() noexcept { return mpls_rule(Labels); }
};

}  // namespace v0
}  // namespace encap
