// encap/layers/esp.hpp — ESP (RFC 4303) as a stack layer: tunnel or transport mode,
// a suite from crypto/suites.hpp, and a padding policy.
//
//   SPI(4) | Seq(4) | IV | payload | TFC pad | padding | pad length(1) | next header(1) | ICV
//   (payload + TFC + padding + 2) is a multiple of align = lcm(cipher block, 4)
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>

#include "../crypto/suites.hpp"
#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

inline constexpr std::size_t esp_header_size = 8;   // SPI + sequence number
inline constexpr std::size_t esp_trailer_fixed = 2;  // pad length + next header
inline constexpr std::size_t esp_max_pad = 255;      // the pad length field is one byte

enum class esp_mode : std::uint8_t { tunnel, transport };
struct tunnel { static constexpr esp_mode value = esp_mode::tunnel; };
struct transport { static constexpr esp_mode value = esp_mode::transport; };

// Padding policy. minimal: the fewest pad bytes the alignment needs (RFC 4303 §2.4).
// extra: that plus a fixed number of bytes (a multiple of the alignment, so the
// ciphertext stays aligned; the pad length field caps the total at 255).
// tfc: Traffic Flow Confidentiality padding (RFC 4303 §2.7) of the payload up to a
// multiple of the boundary, never past what the MTU allows (as Linux clamps tfcpad).
struct esp_padding {
  std::size_t extra = 0;
  std::size_t tfc_boundary = 0;
  friend constexpr bool operator==(const esp_padding&, const esp_padding&) = default;
};

struct minimal_padding { static constexpr esp_padding value{}; };
template <std::size_t Bytes> struct extra_padding { static constexpr esp_padding value{Bytes, 0}; };
template <std::size_t Boundary> struct tfc_padding { static constexpr esp_padding value{0, Boundary}; };

enum class padding_error : std::uint8_t { ok, extra_not_aligned, extra_exceeds_pad_length, tfc_boundary_too_large };

constexpr padding_error check_padding(const esp_suite& s, const esp_padding& p) noexcept {
  if (p.extra % s.align() != 0) return padding_error::extra_not_aligned;
  if (p.extra + s.align() - 1 > esp_max_pad) return padding_error::extra_exceeds_pad_length;
  if (p.tfc_boundary > 65535) return padding_error::tfc_boundary_too_large;
  return padding_error::ok;
}

constexpr layer_rule esp_rule(const esp_suite& s, const esp_padding& p = {}) noexcept {
  return {.kind = layer_kind::esp,
          .header_size = esp_header_size + s.iv_size(),
          .trailer_size = s.icv_size(),
          .align = s.align(),
          .body_extra = esp_trailer_fixed,
          .extra_padding = p.extra,
          .pad_to = p.tfc_boundary,
          .param = s.code()};
}

namespace detail {
template <class T>
concept esp_mode_tag = std::is_same_v<T, tunnel> || std::is_same_v<T, transport>;
template <class T>
concept esp_suite_tag = requires { { T::value } -> std::convertible_to<esp_suite>; } && !esp_mode_tag<T>;
template <class T>
concept esp_padding_tag = requires { { T::value } -> std::convertible_to<esp_padding>; };
// The values of well-formed arguments; placeholders otherwise, so that a misplaced
// argument gives the one error below and nothing after it.
template <class T> constexpr esp_mode mode_of_tag() noexcept { if constexpr (esp_mode_tag<T>) return T::value; else return esp_mode::tunnel; }
template <class T> constexpr esp_suite suite_of_tag() noexcept {
  if constexpr (esp_suite_tag<T>) return T::value; else return {cipher_id::aes128_gcm_16};
}
template <class T> constexpr esp_padding padding_of_tag() noexcept { if constexpr (esp_padding_tag<T>) return T::value; else return {}; }
}  // namespace detail

template <class Mode, class Suite, class Padding = minimal_padding>
struct esp {
  static_assert(detail::esp_mode_tag<Mode> && detail::esp_suite_tag<Suite> && detail::esp_padding_tag<Padding>,
                "esp<Mode, Suite[, Padding]>: the mode (tunnel or transport) comes first, then the suite, "
                "e.g. esp<tunnel, aes256_gcm_16>");

  static constexpr layer_kind kind = layer_kind::esp;
  static constexpr esp_mode mode = detail::mode_of_tag<Mode>();
  static constexpr esp_suite suite = detail::suite_of_tag<Suite>();
  static constexpr esp_padding padding = detail::padding_of_tag<Padding>();

  static_assert(suite.valid(), "invalid ESP suite");
  static_assert(check_padding(suite, padding) != padding_error::extra_not_aligned,
                "extra ESP padding must be a multiple of the suite's alignment");
  static_assert(check_padding(suite, padding) != padding_error::extra_exceeds_pad_length,
                "extra ESP padding plus alignment exceeds the 255-byte pad length field");
  static_assert(mode == esp_mode::tunnel || padding.tfc_boundary == 0,
                "TFC padding needs tunnel mode: only an inner IP header says where the payload ends (RFC 4303 §2.7)");

  static constexpr layer_rule rule() noexcept { return esp_rule(suite, padding); }

  std::uint32_t spi = 0;
};

}  // namespace v0
}  // namespace encap
