// encap/wire/esp.hpp — the ESP header and trailer on the wire (RFC 4303 §2), and what the
// ESP layer's codec checks about the next header once the ICV has passed. The SA state
// (sequence numbers, window, keys) is esp_sa's.
//
//   | SPI | Sequence Number | IV | payload | TFC padding | Padding 1, 2, 3... | Pad Length | Next Header | ICV |
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../bytes.hpp"
#include "../layers/esp.hpp"
#include "../result.hpp"
#include "walk.hpp"

namespace encap {
inline namespace v0 {

constexpr void write_esp_header(std::uint8_t* h, std::uint32_t spi, std::uint32_t seq_lo) noexcept {
  store_be32(h, spi);
  store_be32(h + 4, seq_lo);
}

// The padding's contents, 1, 2, 3, ... 255 (RFC 4303 §2.4).
inline constexpr auto esp_padding_bytes = [] {
  std::array<std::uint8_t, 255> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i + 1);
  return b;
}();

// Behind a payload of n bytes at t: TFC zeros up to p, then the padding 1, 2, 3, ...
// (RFC 4303 §2.4, §2.7), Pad Length and Next Header.
inline void write_esp_trailer(std::uint8_t* t, std::size_t n, std::size_t p, std::size_t pad_len, std::uint8_t next_header) noexcept {
  t += n;
  if (p > n) {
    std::memset(t, 0, p - n);
    t += p - n;
  }
  std::memcpy(t, esp_padding_bytes.data(), pad_len);  // one copy, not a byte loop
  t[pad_len] = static_cast<std::uint8_t>(pad_len);
  t[pad_len + 1] = next_header;
}

// The padding bytes of a decrypted body must be 1, 2, 3, ... (RFC 4303 §2.4).
constexpr bool esp_padding_valid(const std::uint8_t* pad, std::size_t pad_len) noexcept {
  if (!std::is_constant_evaluated()) return std::memcmp(pad, esp_padding_bytes.data(), pad_len) == 0;  // (decrypted and authenticated: no secret timing)
  for (std::size_t i = 0; i < pad_len; ++i)
    if (pad[i] != static_cast<std::uint8_t>(i + 1)) return false;
  return true;
}

// The ESP layer's codec, after the ICV passed and the trailer was stripped: is the next
// header what the stack carries? (An unauthenticated SA reports every failure after
// decryption as esp_bad_trailer: no padding or next-header oracle.)
constexpr errc decap_esp_next(decap_walk& w, const decap_next& next, std::uint8_t next_header, bool authenticated) noexcept {
  if (w.accept_proto(next, next_header) == errc::ok) return errc::ok;
  return authenticated ? errc::esp_bad_next_header : errc::esp_bad_trailer;
}

}  // namespace v0
}  // namespace encap
