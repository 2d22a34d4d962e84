// encap/layers/geneve.hpp — GENEVE (RFC 8926): an 8-byte base header plus 0..252
// bytes of options in 4-byte units, over UDP. Sizing only.
#pragma once

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t geneve_header_size = 8;
inline constexpr std::size_t geneve_max_options_size = 63 * 4;  // 6-bit Opt Len in 4-byte multiples

constexpr bool geneve_options_valid(std::size_t bytes) noexcept { return bytes % 4 == 0 && bytes <= geneve_max_options_size; }

constexpr layer_rule geneve_rule(std::size_t option_bytes = 0) noexcept {
  return {.kind = layer_kind::geneve, .header_size = geneve_header_size + option_bytes,
          .param = static_cast<std::uint16_t>(option_bytes)};
}

template <std::size_t OptionBytes = 0>
struct geneve {
  static_assert(geneve_options_valid(OptionBytes), "GENEVE options are 0..252 bytes in 4-byte units (RFC 8926 §3.4)");
  static constexpr layer_kind kind = layer_kind::geneve;
  static constexpr layer_rule rule() noexcept { return geneve_rule(OptionBytes); }
};

}  // namespace v0
}  // namespace encap
