// encap/result.hpp — errors as values: errc, result<T>, std::error_code bridge.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace encap {
inline namespace v0 {

// Every failure the library reports. The name says which check failed.
enum class errc : std::uint8_t {
  ok = 0,
  // sizing and configuration
  mtu_too_small,          // nothing fits the given MTU
  size_out_of_range,      // a size parameter is outside what the layer allows
  no_such_layer,          // the stack has no layer of the kind asked about (e.g. no ESP)
  invalid_suite,          // cipher/integrity combination rejected
  invalid_key_size,       // key (+ salt) length does not match the suite
  unsupported_suite,      // this crypto backend does not implement the suite
  crypto_failure,         // the crypto backend refused the operation (a bug, never the packet)
  legacy_suite_refused,   // RFC 8221 MUST NOT: needs an explicit legacy opt-in
  // buffers
  no_headroom,            // the frame has too little room in front for the headers
  no_tailroom,            // the frame has too little room behind for the ESP trailer
  // encapsulation
  packet_too_big,         // DF set (or IPv6) and the packet exceeds the tunnel MTU: detail = MTU
  needs_fragmentation,    // no DF: the caller must fragment to detail = MTU first
  bad_inner_packet,       // the inner packet is not a well-formed IP packet
  sequence_exhausted,     // the SA's sequence number space is used up: rekey (RFC 4303 §3.3.3)
  sequence_backwards,     // a sequence number at or below one already used or accepted (nonce reuse, replays)
  // decapsulation: IP
  truncated,              // shorter than its headers say
  ip_bad_version,
  ip_bad_header_length,
  ip_bad_total_length,
  ip_bad_checksum,
  ip_fragment,            // a fragment: reassemble before decapsulating
  ip_unexpected_protocol, // the next-protocol field is not what the stack carries
  ip_unexpected_address,  // outer source/destination are not the tunnel's (tunnel_options::check)
  ecn_drop,               // RFC 6040: CE outer with a Not-ECT inner packet must be dropped
  // decapsulation: UDP / NAT-T
  udp_bad_length,
  udp_bad_checksum,
  udp_unexpected_port,    // source/destination port are not the tunnel's (tunnel_options::check)
  nat_keepalive,          // RFC 3948 §2.3 NAT-keepalive: not ESP, drop
  non_esp_marker,         // RFC 3948 §2.2 non-ESP marker: IKE, hand to the key manager
  // decapsulation: GRE
  gre_bad_version,
  gre_reserved_bits,      // routing present or reserved bits set (RFC 2784 §2.3)
  gre_bad_checksum,
  gre_key_mismatch,
  gre_unexpected_protocol,
  // decapsulation: ESP
  esp_unknown_spi,
  esp_replayed,           // already received (RFC 4303 §3.4.3)
  esp_too_old,            // left of the anti-replay window
  esp_bad_length,         // ciphertext not a multiple of the alignment, or too short
  esp_bad_icv,            // integrity check failed: nothing was released
  esp_bad_pad_length,     // pad length runs past the payload
  esp_bad_padding,        // padding bytes are not 1, 2, 3, ... (RFC 4303 §2.4)
  esp_bad_next_header,    // next header is not what the stack carries
  esp_dummy_packet,       // next header 59: a TFC dummy packet, drop silently (RFC 4303 §2.6)
  esp_bad_trailer,        // unauthenticated SA: any failure after decryption (one code: no padding oracle)
};

constexpr const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::mtu_too_small: return "MTU too small to carry any inner packet";
    case errc::size_out_of_range: return "size out of range";
    case errc::no_such_layer: return "the stack has no such layer";
    case errc::invalid_suite: return "invalid ESP suite";
    case errc::invalid_key_size: return "key size does not match the suite";
    case errc::unsupported_suite: return "suite not supported by this crypto backend";
    case errc::crypto_failure: return "crypto backend failure";
    case errc::legacy_suite_refused: return "legacy algorithm refused (RFC 8221); opt in explicitly";
    case errc::no_headroom: return "not enough headroom in the frame";
    case errc::no_tailroom: return "not enough tailroom in the frame";
    case errc::packet_too_big: return "packet too big for the tunnel MTU (DF set)";
    case errc::needs_fragmentation: return "packet exceeds the tunnel MTU: fragment it first";
    case errc::bad_inner_packet: return "inner packet is not a well-formed IP packet";
    case errc::sequence_exhausted: return "ESP sequence number space exhausted: rekey";
    case errc::sequence_backwards: return "ESP sequence number at or below one already used or accepted";
    case errc::truncated: return "packet truncated";
    case errc::ip_bad_version: return "IP: bad version";
    case errc::ip_bad_header_length: return "IPv4: bad header length";
    case errc::ip_bad_total_length: return "IP: length field does not match the packet";
    case errc::ip_bad_checksum: return "IPv4: bad header checksum";
    case errc::ip_fragment: return "IP: fragment (reassemble first)";
    case errc::ip_unexpected_protocol: return "IP: unexpected next protocol";
    case errc::ip_unexpected_address: return "IP: source or destination is not the tunnel's";
    case errc::ecn_drop: return "ECN: CE on a Not-ECT inner packet (RFC 6040): drop";
    case errc::udp_bad_length: return "UDP: bad length";
    case errc::udp_bad_checksum: return "UDP: bad checksum";
    case errc::udp_unexpected_port: return "UDP: port is not the tunnel's";
    case errc::nat_keepalive: return "UDP: NAT-keepalive, not ESP";
    case errc::non_esp_marker: return "UDP: non-ESP marker (IKE), not ESP";
    case errc::gre_bad_version: return "GRE: unknown version";
    case errc::gre_reserved_bits: return "GRE: routing or reserved bits set";
    case errc::gre_bad_checksum: return "GRE: bad checksum";
    case errc::gre_key_mismatch: return "GRE: key mismatch";
    case errc::gre_unexpected_protocol: return "GRE: unexpected protocol type";
    case errc::esp_unknown_spi: return "ESP: unknown SPI";
    case errc::esp_replayed: return "ESP: replayed sequence number";
    case errc::esp_too_old: return "ESP: sequence number left of the replay window";
    case errc::esp_bad_length: return "ESP: bad ciphertext length";
    case errc::esp_bad_icv: return "ESP: integrity check failed";
    case errc::esp_bad_pad_length: return "ESP: pad length past the payload";
    case errc::esp_bad_padding: return "ESP: bad padding bytes";
    case errc::esp_bad_next_header: return "ESP: unexpected next header";
    case errc::esp_dummy_packet: return "ESP: dummy packet (next header 59)";
    case errc::esp_bad_trailer: return "ESP: invalid trailer after decryption (unauthenticated SA)";
  }
  return "unknown encap error";
}

// A trivially copyable value-or-error with std::expected's member names.
// (Not std::expected: GCC 12 has it only in C++23, Clang 14 + libstdc++ 12 not at all.)
template <class T>
struct [[nodiscard]] result {
  static_assert(std::is_trivially_copyable_v<T>, "result<T> carries plain values");
  T val{};
  errc err = errc::ok;
  std::uint32_t detail = 0;  // more about the error: the MTU for packet_too_big, the layer for decap errors

  constexpr result() = default;
  constexpr result(T v) noexcept : val(v) {}                         // NOLINT: implicit by design
  constexpr result(errc e, std::uint32_t d = 0) noexcept : err(e), detail(d) {}  // NOLINT
  // An aggregate T's fields straight into the result, where the caller keeps it: no
  // temporary T assembled on the stack and copied (a wide reload of narrow stores stalls)
  template <class... A>
  constexpr explicit result(std::in_place_t, A&&... a) noexcept : val{std::forward<A>(a)...} {}
  constexpr bool has_value() const noexcept { return err == errc::ok; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr errc error() const noexcept { return err; }
  // On an error: a programming error. Not a constant expression; at run time it prints
  // which error to stderr, then aborts.
  constexpr const T& value() const& noexcept {  // a reference, as std::expected: h.value().field copies nothing
    if (!has_value()) bad_access(err, detail);
    return val;
  }
  constexpr T value() const&& noexcept {
    if (!has_value()) bad_access(err, detail);
    return val;
  }
  constexpr T value_or(T other) const noexcept { return has_value() ? val : other; }
  constexpr const T& operator*() const& noexcept { return value(); }
  constexpr T operator*() const&& noexcept { return value(); }
  friend constexpr bool operator==(const result& a, const result& b) noexcept {
    return a.err == b.err && (a.err != errc::ok || a.val == b.val);
  }
  friend constexpr bool operator==(const result& r, const T& v) noexcept { return r.has_value() && r.val == v; }
  friend constexpr bool operator==(const result& r, errc e) noexcept { return r.err == e; }

 private:
  // Out of line and cold: every value() on the data path stays a compare and a load.
  [[noreturn, gnu::cold, gnu::noinline]] static void bad_access(errc e, std::uint32_t d) noexcept {
    std::fprintf(stderr, "encap: result::value() called on an error: %s (errc %u, detail %u)\n", to_string(e),
                 static_cast<unsigned>(e), static_cast<unsigned>(d));
    std::abort();
  }
};

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "encap"; }
  std::string message(int ev) const override { return to_string(static_cast<errc>(ev)); }
};

inline const std::error_category& error_category() noexcept {
  static const error_category_impl cat;
  return cat;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace v0
}  // namespace encap

template <>
struct std::is_error_code_enum<encap::errc> : std::true_type {};
