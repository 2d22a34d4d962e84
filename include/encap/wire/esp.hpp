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

// One 8-byte store: the AEADs read SPI || Seq back at once as their AAD, and a wide load
// over two narrower stores still in flight waits for them (no store forwarding).
constexpr void write_esp_header(std::uint8_t* h, std::uint32_t spi, std::uint32_t seq_lo) noexcept {
  store_be64(h, std::uint64_t{spi} << 32 | seq_lo);
}

// The padding's contents, 1, 2, 3, ... 255 (RFC 4303 §2.4).
inline constexpr auto esp_padding_bytes = [] {
  std::array<std::uint8_t, 255> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i + 1);
  return b;
}();

// Behind a payload of n bytes at t: TFC zeros up to p, then the padding 1, 2, 3, ...
// (RFC 4303 §2.4, §2.7), Pad Length and Next Header. `tail`: the bytes from t + n that
// belong to the packet (trailer and ICV), which may be written before the ICV is.
inline void write_esp_trailer(std::uint8_t* t, std::size_t n, std::size_t p, std::size_t pad_len, std::uint8_t next_header,
                              std::size_t tail) noexcept {
  t += n;
  if (p > n) {
    std::memset(t, 0, p - n);
    t += p - n;
  }
  // one copy, not a byte loop; up to 8 bytes (AES-GCM, ChaCha20: 0-3) as one fixed store
  // over what Pad Length, Next Header and the ICV then overwrite
  if (pad_len <= 8 && tail - (p - n) >= 8) std::memcpy(t, esp_padding_bytes.data(), 8);
  else std::memcpy(t, esp_padding_bytes.data(), pad_len);
  t[pad_len] = static_cast<std::uint8_t>(pad_len);
  t[pad_len + 1] = next_header;
}

// The last eight bytes before Pad Length when the padding is k <= 8 bytes, big-endian,
// under a mask of its k bytes: 1, 2, ... k.
inline constexpr auto esp_padding_tail = [] {
  std::array<std::uint64_t, 9> v{};
  for (std::size_t k = 1; k < v.size(); ++k)
    for (std::size_t i = 0; i < k; ++i) v[k] |= std::uint64_t{i + 1} << (8 * (k - 1 - i));
  return v;
}();

// The padding bytes of a decrypted body must be 1, 2, 3, ... (RFC 4303 §2.4). `before`:
// how many bytes in front of `pad` may be read (the payload's).
constexpr bool esp_padding_valid(const std::uint8_t* pad, std::size_t pad_len, std::size_t before = 0) noexcept {
  // (decrypted and authenticated: no secret timing)
  if (pad_len == 0) return true;
  if (!std::is_constant_evaluated()) {
    if (pad_len <= 8 && pad_len + before >= 8) {  // one compare of the eight bytes ending at the padding's end
      const std::uint64_t mask = ~std::uint64_t{0} >> (64 - 8 * pad_len);
      return (load_be64(pad + pad_len - 8) & mask) == esp_padding_tail[pad_len];
    }
    return std::memcmp(pad, esp_padding_bytes.data(), pad_len) == 0;
  }
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
