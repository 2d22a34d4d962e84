// encap/layers/ipv4.hpp — the IPv4 layer (RFC 791). Sizes come from the type;
// addresses and TTL are values.
#pragma once

#include <array>
#include <cstdint>

#include "ip.hpp"

namespace encap {
inline namespace v0 {

struct ipv4 {
  static constexpr layer_kind kind = layer_kind::ipv4;
  static constexpr layer_rule rule() noexcept { return ipv4_rule(); }

  std::array<std::uint8_t, 4> src{};
  std::array<std::uint8_t, 4> dst{};
  std::uint8_t ttl = 64;
};

}  // namespace v0
}  // namespace encap
