// encap/crypto/suites.hpp — ESP cipher and integrity algorithms as constexpr data.
// One row per algorithm, each citing its RFC; sizes only, no crypto code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../result.hpp"

namespace encap {
inline namespace v0 {

enum class cipher_id : std::uint8_t {
  null,
  aes128_cbc, aes192_cbc, aes256_cbc,
  des3_cbc,
  aes128_ctr, aes192_ctr, aes256_ctr,
  aes128_gcm_8, aes128_gcm_12, aes128_gcm_16,
  aes192_gcm_8, aes192_gcm_12, aes192_gcm_16,
  aes256_gcm_8, aes256_gcm_12, aes256_gcm_16,
  aes128_ccm_8, aes128_ccm_12, aes128_ccm_16,
  aes192_ccm_8, aes192_ccm_12, aes192_ccm_16,
  aes256_ccm_8, aes256_ccm_12, aes256_ccm_16,
  aes128_gmac, aes192_gmac, aes256_gmac,
  chacha20_poly1305,
};

enum class integ_id : std::uint8_t {
  unspecified,  // nothing given: fine for AEAD, an error for a plain cipher
  none,         // explicitly no integrity (allowed only when asked for in so many words)
  hmac_md5_96, hmac_sha1_96, aes_xcbc_96, aes_cmac_96,
  hmac_sha256_128, hmac_sha384_192, hmac_sha512_256,
};

enum class cipher_mode : std::uint8_t { none, cbc, ctr, gcm, ccm, gmac, chacha20_poly1305 };

struct cipher_info {
  cipher_id id;
  std::string_view name;            // spec name
  std::string_view wireshark_name;  // Wireshark 4.0 esp_sa encryption algorithm; empty: it cannot decrypt this
  cipher_mode mode;
  std::uint16_t ikev2_id;           // IANA IKEv2 Transform Type 1 ID
  std::size_t key_size;             // bytes, without salt
  std::size_t salt_size;            // bytes of keying material used as nonce salt
  std::size_t iv_size;              // explicit IV on the wire
  std::size_t block_size;           // cipher block (1 for stream-like modes)
  std::size_t icv_size;             // AEAD tag; 0 when a separate integrity algorithm is needed
  bool aead;                        // combined mode: carries its own ICV
  bool legacy;                      // RFC 8221 MUST NOT / SHOULD NOT: sizing only
  std::string_view rfc;
};

// RFC 3602 (CBC), 2451 (3DES), 3686 (CTR), 4106 (GCM), 4309 (CCM), 4543 (GMAC),
// 7634 (ChaCha20-Poly1305), 2410 (NULL). IKEv2 IDs from the IANA IKEv2 registry.
inline constexpr std::array<cipher_info, 30> ciphers{{
    {cipher_id::null, "null", "NULL", cipher_mode::none, 11, 0, 0, 0, 1, 0, false, false, "RFC 2410"},
    {cipher_id::aes128_cbc, "aes-128-cbc", "AES-CBC [RFC3602]", cipher_mode::cbc, 12, 16, 0, 16, 16, 0, false, false, "RFC 3602"},
    {cipher_id::aes192_cbc, "aes-192-cbc", "AES-CBC [RFC3602]", cipher_mode::cbc, 12, 24, 0, 16, 16, 0, false, false, "RFC 3602"},
    {cipher_id::aes256_cbc, "aes-256-cbc", "AES-CBC [RFC3602]", cipher_mode::cbc, 12, 32, 0, 16, 16, 0, false, false, "RFC 3602"},
    {cipher_id::des3_cbc, "3des-cbc", "TripleDES-CBC [RFC2451]", cipher_mode::cbc, 3, 24, 0, 8, 8, 0, false, true, "RFC 2451"},
    {cipher_id::aes128_ctr, "aes-128-ctr", "AES-CTR [RFC3686]", cipher_mode::ctr, 13, 16, 4, 8, 1, 0, false, false, "RFC 3686"},
    {cipher_id::aes192_ctr, "aes-192-ctr", "AES-CTR [RFC3686]", cipher_mode::ctr, 13, 24, 4, 8, 1, 0, false, false, "RFC 3686"},
    {cipher_id::aes256_ctr, "aes-256-ctr", "AES-CTR [RFC3686]", cipher_mode::ctr, 13, 32, 4, 8, 1, 0, false, false, "RFC 3686"},
    {cipher_id::aes128_gcm_8, "aes-128-gcm-8", "AES-GCM with 8 octet ICV [RFC4106]", cipher_mode::gcm, 18, 16, 4, 8, 1, 8, true, false, "RFC 4106"},
    {cipher_id::aes128_gcm_12, "aes-128-gcm-12", "AES-GCM with 12 octet ICV [RFC4106]", cipher_mode::gcm, 19, 16, 4, 8, 1, 12, true, false, "RFC 4106"},
    {cipher_id::aes128_gcm_16, "aes-128-gcm-16", "AES-GCM with 16 octet ICV [RFC4106]", cipher_mode::gcm, 20, 16, 4, 8, 1, 16, true, false, "RFC 4106"},
    {cipher_id::aes192_gcm_8, "aes-192-gcm-8", "AES-GCM with 8 octet ICV [RFC4106]", cipher_mode::gcm, 18, 24, 4, 8, 1, 8, true, false, "RFC 4106"},
    {cipher_id::aes192_gcm_12, "aes-192-gcm-12", "AES-GCM with 12 octet ICV [RFC4106]", cipher_mode::gcm, 19, 24, 4, 8, 1, 12, true, false, "RFC 4106"},
    {cipher_id::aes192_gcm_16, "aes-192-gcm-16", "AES-GCM with 16 octet ICV [RFC4106]", cipher_mode::gcm, 20, 24, 4, 8, 1, 16, true, false, "RFC 4106"},
    {cipher_id::aes256_gcm_8, "aes-256-gcm-8", "AES-GCM with 8 octet ICV [RFC4106]", cipher_mode::gcm, 18, 32, 4, 8, 1, 8, true, false, "RFC 4106"},
    {cipher_id::aes256_gcm_12, "aes-256-gcm-12", "AES-GCM with 12 octet ICV [RFC4106]", cipher_mode::gcm, 19, 32, 4, 8, 1, 12, true, false, "RFC 4106"},
    {cipher_id::aes256_gcm_16, "aes-256-gcm-16", "AES-GCM with 16 octet ICV [RFC4106]", cipher_mode::gcm, 20, 32, 4, 8, 1, 16, true, false, "RFC 4106"},
    {cipher_id::aes128_ccm_8, "aes-128-ccm-8", "", cipher_mode::ccm, 14, 16, 3, 8, 1, 8, true, false, "RFC 4309"},
    {cipher_id::aes128_ccm_12, "aes-128-ccm-12", "", cipher_mode::ccm, 15, 16, 3, 8, 1, 12, true, false, "RFC 4309"},
    {cipher_id::aes128_ccm_16, "aes-128-ccm-16", "", cipher_mode::ccm, 16, 16, 3, 8, 1, 16, true, false, "RFC 4309"},
    {cipher_id::aes192_ccm_8, "aes-192-ccm-8", "", cipher_mode::ccm, 14, 24, 3, 8, 1, 8, true, false, "RFC 4309"},
    {cipher_id::aes192_ccm_12, "aes-192-ccm-12", "", cipher_mode::ccm, 15, 24, 3, 8, 1, 12, true, false, "RFC 4309"},
    {cipher_id::aes192_ccm_16, "aes-192-ccm-16", "", cipher_mode::ccm, 16, 24, 3, 8, 1, 16, true, false, "RFC 4309"},
    {cipher_id::aes256_ccm_8, "aes-256-ccm-8", "", cipher_mode::ccm, 14, 32, 3, 8, 1, 8, true, false, "RFC 4309"},
    {cipher_id::aes256_ccm_12, "aes-256-ccm-12", "", cipher_mode::ccm, 15, 32, 3, 8, 1, 12, true, false, "RFC 4309"},
    {cipher_id::aes256_ccm_16, "aes-256-ccm-16", "", cipher_mode::ccm, 16, 32, 3, 8, 1, 16, true, false, "RFC 4309"},
    {cipher_id::aes128_gmac, "aes-128-gmac", "", cipher_mode::gmac, 21, 16, 4, 8, 1, 16, true, false, "RFC 4543"},
    {cipher_id::aes192_gmac, "aes-192-gmac", "", cipher_mode::gmac, 21, 24, 4, 8, 1, 16, true, false, "RFC 4543"},
    {cipher_id::aes256_gmac, "aes-256-gmac", "", cipher_mode::gmac, 21, 32, 4, 8, 1, 16, true, false, "RFC 4543"},
    {cipher_id::chacha20_poly1305, "chacha20-poly1305", "", cipher_mode::chacha20_poly1305, 28, 32, 4, 8, 1, 16, true, false, "RFC 7634"},
}};

// info(cipher_id) indexes the table: its rows are in the enum's order.
static_assert([] {
  for (std::size_t i = 0; i < ciphers.size(); ++i)
    if (static_cast<std::size_t>(ciphers[i].id) != i) return false;
  return true;
}());

struct integ_info {
  integ_id id;
  std::string_view name;
  std::string_view wireshark_name;
  std::uint16_t ikev2_id;  // IANA IKEv2 Transform Type 3 ID
  std::size_t key_size;
  std::size_t icv_size;    // truncated output carried on the wire
  bool legacy;
  std::string_view rfc;
};

// RFC 2403 (MD5), 2404 (SHA-1), 3566 (XCBC), 4494 (CMAC), 4868 (SHA-2).
inline constexpr std::array<integ_info, 9> integrities{{
    {integ_id::unspecified, "", "NULL", 0, 0, 0, false, ""},
    {integ_id::none, "none", "NULL", 0, 0, 0, false, "RFC 4303 §3.2"},
    {integ_id::hmac_md5_96, "hmac-md5-96", "HMAC-MD5-96 [RFC2403]", 1, 16, 12, true, "RFC 2403"},
    {integ_id::hmac_sha1_96, "hmac-sha1-96", "HMAC-SHA-1-96 [RFC2404]", 2, 20, 12, false, "RFC 2404"},
    {integ_id::aes_xcbc_96, "aes-xcbc-96", "", 5, 16, 12, false, "RFC 3566"},
    {integ_id::aes_cmac_96, "aes-cmac-96", "", 8, 16, 12, false, "RFC 4494"},
    {integ_id::hmac_sha256_128, "hmac-sha256-128", "HMAC-SHA-256-128 [RFC4868]", 12, 32, 16, false, "RFC 4868"},
    {integ_id::hmac_sha384_192, "hmac-sha384-192", "HMAC-SHA-384-192 [RFC4868]", 13, 48, 24, false, "RFC 4868"},
    {integ_id::hmac_sha512_256, "hmac-sha512-256", "HMAC-SHA-512-256 [RFC4868]", 14, 64, 32, false, "RFC 4868"},
}};

constexpr const cipher_info& info(cipher_id c) noexcept { return ciphers[static_cast<std::size_t>(c)]; }
constexpr const integ_info& info(integ_id i) noexcept { return integrities[static_cast<std::size_t>(i)]; }

// Why a cipher/integrity pair is not a suite. Each value names the rule.
enum class suite_error : std::uint8_t {
  ok,
  unknown_algorithm,               // a cipher_id or integ_id outside the tables (e.g. from_code of a foreign value)
  aead_has_its_own_icv,            // AES-GCM/CCM/GMAC, ChaCha20-Poly1305 take no integrity algorithm
  cipher_needs_integrity,          // CBC/CTR without integrity: say "none" to allow it explicitly
  null_needs_integrity,            // NULL encryption with no integrity protects nothing
};

constexpr std::string_view to_string(suite_error e) noexcept {
  switch (e) {
    case suite_error::ok: return "ok";
    case suite_error::unknown_algorithm: return "unknown cipher or integrity algorithm";
    case suite_error::aead_has_its_own_icv:
      return "a combined-mode (AEAD) cipher carries its own ICV and takes no separate integrity algorithm (RFC 7296 §3.3)";
    case suite_error::cipher_needs_integrity:
      return "a non-AEAD cipher needs an integrity algorithm; give 'none' to allow an unauthenticated SA explicitly (RFC 8221 §5)";
    case suite_error::null_needs_integrity:
      return "NULL encryption needs an integrity algorithm; NULL with NULL protects nothing (RFC 4303 §3.2)";
  }
  return "?";
}

// An ESP transform: cipher plus (for non-AEAD ciphers) an integrity algorithm.
struct esp_suite {
  cipher_id cipher{};
  integ_id integ = integ_id::unspecified;

  constexpr const cipher_info& c() const noexcept { return info(cipher); }
  constexpr const integ_info& i() const noexcept { return info(integ); }

  constexpr suite_error check() const noexcept {
    if (static_cast<std::size_t>(cipher) >= ciphers.size() || static_cast<std::size_t>(integ) >= integrities.size())
      return suite_error::unknown_algorithm;
    const bool has_integ = integ != integ_id::unspecified && integ != integ_id::none;
    if (c().aead) return has_integ ? suite_error::aead_has_its_own_icv : suite_error::ok;
    if (cipher == cipher_id::null) return has_integ ? suite_error::ok : suite_error::null_needs_integrity;
    if (integ == integ_id::unspecified) return suite_error::cipher_needs_integrity;
    return suite_error::ok;
  }
  constexpr bool valid() const noexcept { return check() == suite_error::ok; }
  constexpr bool authenticated() const noexcept { return c().aead || (integ != integ_id::none && integ != integ_id::unspecified); }
  constexpr bool legacy() const noexcept { return c().legacy || i().legacy; }

  constexpr std::size_t iv_size() const noexcept { return c().iv_size; }
  constexpr std::size_t icv_size() const noexcept { return c().aead ? c().icv_size : i().icv_size; }
  // RFC 4303 §2.4: the ciphertext ends on a 4-byte boundary and is a multiple of the block size
  constexpr std::size_t align() const noexcept { return c().block_size < 4 ? 4 : c().block_size; }

  constexpr std::uint16_t code() const noexcept {
    return static_cast<std::uint16_t>(static_cast<unsigned>(cipher) << 8 | static_cast<unsigned>(integ));
  }
  static constexpr esp_suite from_code(std::uint16_t v) noexcept {
    return {static_cast<cipher_id>(v >> 8), static_cast<integ_id>(v & 0xff)};
  }
  friend constexpr bool operator==(const esp_suite&, const esp_suite&) = default;
};

// A suite as the spec spells it: "aes-256-gcm-16", "aes-256-cbc,hmac-sha1-96".
inline std::string to_string(const esp_suite& s) {
  std::string out(s.c().name);
  if (s.integ != integ_id::unspecified) { out += ','; out += s.i().name; }
  return out;
}

// Every authenticated suite: each AEAD cipher alone, each other cipher (NULL included)
// with each integrity algorithm. 22 + 8 x 7 = 78.
inline constexpr std::size_t suite_count = 78;
inline constexpr std::array<esp_suite, suite_count> all_suites = [] {
  std::array<esp_suite, suite_count> out{};
  std::size_t n = 0;
  for (const auto& c : ciphers) {
    if (c.aead) { out[n++] = {c.id, integ_id::unspecified}; continue; }
    for (const auto& i : integrities)
      if (i.id != integ_id::unspecified && i.id != integ_id::none) out[n++] = {c.id, i.id};
  }
  return out;
}();

// Suites as types, for esp<Mode, Suite>: the suite is checked where it is named.
template <cipher_id C, integ_id I = integ_id::unspecified>
struct suite {
  static constexpr esp_suite value{C, I};
  static_assert(value.check() != suite_error::unknown_algorithm, "unknown cipher or integrity algorithm");
  static_assert(value.check() != suite_error::aead_has_its_own_icv,
                "AEAD cipher (GCM/CCM/GMAC/ChaCha20-Poly1305) carries its own ICV: remove the integrity algorithm");
  static_assert(value.check() != suite_error::cipher_needs_integrity,
                "non-AEAD cipher without integrity: name integ_id::none to allow an unauthenticated SA explicitly");
  static_assert(value.check() != suite_error::null_needs_integrity,
                "NULL encryption with no integrity protects nothing (RFC 4303 §3.2)");
};

// The common suites by their short names (every suite also has its spec spelling, below).
using aes128_cbc_hmac_sha1_96 = suite<cipher_id::aes128_cbc, integ_id::hmac_sha1_96>;
using aes256_cbc_hmac_sha1_96 = suite<cipher_id::aes256_cbc, integ_id::hmac_sha1_96>;
using aes128_cbc_hmac_sha256_128 = suite<cipher_id::aes128_cbc, integ_id::hmac_sha256_128>;
using aes256_cbc_hmac_sha256_128 = suite<cipher_id::aes256_cbc, integ_id::hmac_sha256_128>;
using aes256_cbc_hmac_sha512_256 = suite<cipher_id::aes256_cbc, integ_id::hmac_sha512_256>;
using aes128_ctr_hmac_sha1_96 = suite<cipher_id::aes128_ctr, integ_id::hmac_sha1_96>;
using aes128_gcm_16 = suite<cipher_id::aes128_gcm_16>;
using aes256_gcm_16 = suite<cipher_id::aes256_gcm_16>;
using aes128_ccm_16 = suite<cipher_id::aes128_ccm_16>;
using aes128_gmac = suite<cipher_id::aes128_gmac>;
using chacha20_poly1305 = suite<cipher_id::chacha20_poly1305>;
using null_hmac_sha256_128 = suite<cipher_id::null, integ_id::hmac_sha256_128>;

}  // namespace v0
}  // namespace encap

// Every suite by its spec spelling (aes_256_gcm_16, aes_256_cbc_hmac_sha1_96, ...), generated
// from the table above (by tools/gen_suite_aliases.cpp, which defines ENCAP_NO_SUITE_ALIASES).
#ifndef ENCAP_NO_SUITE_ALIASES
#include "suite_aliases.hpp"
#endif
