// encap/layers/ipv6.hpp — the IPv6 layer (RFC 8200).
#pragma once

#include <array>
#include <cstdint>

#include "ip.hpp"

namespace encap {
inline namespace v0 {

struct ipv6 {
  static constexpr layer_kind kind = layer_kind::ipv6;
  static constexpr layer_rule rule() noexcept { return ipv6_rule(); }

  std::array<std::uint8_t, 16> src{};
  std::array<std::uint8_t, 16> dst{};
  std::uint8_t hop_limit = 64;
};

}  // namespace v0
}  // namespace encap
