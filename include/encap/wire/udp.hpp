// encap/wire/udp.hpp — the UDP header (RFC 768) and ESP-in-UDP classification
// (RFC 3948).
#pragma once

#include <cstdint>

#include "../bytes.hpp"
#include "../result.hpp"

namespace encap {
inline namespace v0 {

// Checksum 0 ("none"); IPv6 callers fill it in once the pseudo-header is known.
constexpr void write_udp(std::uint8_t* h, std::uint16_t src_port, std::uint16_t dst_port, std::size_t length) noexcept {
  store_be16(h, src_port);
  store_be16(h + 2, dst_port);
  store_be16(h + 4, static_cast<std::uint16_t>(length));
  store_be16(h + 6, 0);
}

struct udp_parsed {
  std::uint16_t src_port = 0, dst_port = 0;
  std::size_t length = 0;
  std::uint16_t checksum = 0;
};

constexpr result<udp_parsed> parse_udp(const_byte_span p) noexcept {
  if (p.size() < 8) return errc::truncated;
  const std::size_t len = load_be16(&p[4]);
  if (len < 8 || len > p.size()) return errc::udp_bad_length;
  return udp_parsed{load_be16(&p[0]), load_be16(&p[2]), len, load_be16(&p[6])};
}

// RFC 3948 §2.2, §2.3: on port 4500 a one-byte 0xFF payload is a NAT-keepalive and a
// payload starting with four zero bytes (the non-ESP marker) is IKE, not ESP.
constexpr errc classify_nat_t(const_byte_span payload) noexcept {
  if (payload.size() == 1 && payload[0] == 0xff) return errc::nat_keepalive;
  if (payload.size() >= 4 && payload[0] == 0 && payload[1] == 0 && payload[2] == 0 && payload[3] == 0)
    return errc::non_esp_marker;
  return errc::ok;
}

}  // namespace v0
}  // namespace encap
