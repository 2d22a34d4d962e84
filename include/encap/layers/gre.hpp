// encap/layers/gre.hpp — GRE (RFC 2784) with the key and sequence number options
// (RFC 2890). Each present option adds 4 bytes; the checksum option carries the
// checksum and a reserved half-word.
#pragma once

#include <cstdint>

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

// Which optional fields are present; the C, K, S bits of the GRE header.
enum class gre_opt : std::uint8_t { none = 0, csum = 1, key = 2, seq = 4 };
constexpr gre_opt operator|(gre_opt a, gre_opt b) noexcept {
  return static_cast<gre_opt>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(gre_opt set, gre_opt o) noexcept { return (static_cast<unsigned>(set) & static_cast<unsigned>(o)) != 0; }

inline constexpr std::size_t gre_base_header_size = 4;  // C|R|K|S|..|Ver, Protocol Type

constexpr std::size_t gre_header_size(gre_opt o) noexcept {
  return gre_base_header_size + std::size_t{4} * (std::size_t{has(o, gre_opt::csum)} + std::size_t{has(o, gre_opt::key)} +
                                                  std::size_t{has(o, gre_opt::seq)});
}

constexpr layer_rule gre_rule(gre_opt o = gre_opt::none) noexcept {
  return {.kind = layer_kind::gre, .header_size = gre_header_size(o), .param = static_cast<std::uint16_t>(o)};
}

template <gre_opt Options = gre_opt::none>
struct gre {
  static constexpr layer_kind kind = layer_kind::gre;
  static constexpr gre_opt options = Options;
  static constexpr layer_rule rule() noexcept { return gre_rule(Options); }

  std::uint32_t key = 0;  // used when Options has gre_opt::key
};

}  // namespace v0
}  // namespace encap
