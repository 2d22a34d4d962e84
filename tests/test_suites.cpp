// crypto/suites.hpp: the cipher and integrity tables against their RFCs, and the
// rules that reject combinations making no sense.
#include <encap/crypto/suites.hpp>
#include <encap/layers/esp.hpp>

#include <doctest/doctest.h>

#include <type_traits>

using namespace encap;

TEST_SUITE("suites") {
  TEST_CASE("tables are indexed by their ids") {
    for (std::size_t i = 0; i < ciphers.size(); ++i) CHECK(static_cast<std::size_t>(ciphers[i].id) == i);
    for (std::size_t i = 0; i < integrities.size(); ++i) CHECK(static_cast<std::size_t>(integrities[i].id) == i);
  }

  TEST_CASE("IV, alignment and ICV per RFC") {
    // RFC 3602 §3: AES-CBC IV 16, block 16
    CHECK(esp_suite{cipher_id::aes128_cbc, integ_id::hmac_sha1_96}.iv_size() == 16);
    CHECK(esp_suite{cipher_id::aes128_cbc, integ_id::hmac_sha1_96}.align() == 16);
    // RFC 2404 §3: HMAC-SHA1-96 truncates to 96 bits
    CHECK(esp_suite{cipher_id::aes128_cbc, integ_id::hmac_sha1_96}.icv_size() == 12);
    // RFC 2451: 3DES-CBC IV 8, block 8
    CHECK(esp_suite{cipher_id::des3_cbc, integ_id::hmac_sha1_96}.align() == 8);
    CHECK(esp_suite{cipher_id::des3_cbc, integ_id::hmac_sha1_96}.iv_size() == 8);
    // RFC 3686 §3.1: AES-CTR IV 8, no padding beyond RFC 4303's 4-byte alignment
    CHECK(esp_suite{cipher_id::aes256_ctr, integ_id::hmac_sha256_128}.iv_size() == 8);
    CHECK(esp_suite{cipher_id::aes256_ctr, integ_id::hmac_sha256_128}.align() == 4);
    CHECK(esp_suite{cipher_id::aes256_ctr, integ_id::hmac_sha256_128}.icv_size() == 16);  // RFC 4868 §2.3
    // RFC 4106 §3.1, §6: GCM IV 8, ICV 8/12/16; 4-byte salt
    CHECK(esp_suite{cipher_id::aes128_gcm_8}.icv_size() == 8);
    CHECK(esp_suite{cipher_id::aes128_gcm_12}.icv_size() == 12);
    CHECK(esp_suite{cipher_id::aes256_gcm_16}.icv_size() == 16);
    CHECK(info(cipher_id::aes256_gcm_16).salt_size == 4);
    // RFC 4309 §3.1, §4: CCM IV 8, ICV 8/12/16; 3-byte salt
    CHECK(esp_suite{cipher_id::aes128_ccm_12}.icv_size() == 12);
    CHECK(info(cipher_id::aes128_ccm_8).salt_size == 3);
    // RFC 4543 §3.1: GMAC IV 8, ICV 16
    CHECK(esp_suite{cipher_id::aes128_gmac}.icv_size() == 16);
    CHECK(esp_suite{cipher_id::aes128_gmac}.iv_size() == 8);
    // RFC 7634 §2, §4: ChaCha20-Poly1305 IV 8, tag 16, 4-byte salt, no block alignment
    CHECK(esp_suite{cipher_id::chacha20_poly1305}.icv_size() == 16);
    CHECK(esp_suite{cipher_id::chacha20_poly1305}.align() == 4);
    // RFC 2410: NULL has no IV, block size 1 -> 4-byte alignment
    CHECK(esp_suite{cipher_id::null, integ_id::hmac_sha256_128}.iv_size() == 0);
    CHECK(esp_suite{cipher_id::null, integ_id::hmac_sha256_128}.align() == 4);
    // RFC 4868 §2.3: SHA-384-192, SHA-512-256
    CHECK(info(integ_id::hmac_sha384_192).icv_size == 24);
    CHECK(info(integ_id::hmac_sha512_256).icv_size == 32);
    CHECK(info(integ_id::hmac_sha512_256).key_size == 64);
    // RFC 3566, RFC 4494: AES-XCBC-MAC-96 and AES-CMAC-96
    CHECK(info(integ_id::aes_xcbc_96).icv_size == 12);
    CHECK(info(integ_id::aes_cmac_96).icv_size == 12);
  }

  TEST_CASE("an AEAD suite with a separate integrity algorithm is rejected") {
    CHECK(esp_suite{cipher_id::aes128_gcm_16, integ_id::hmac_sha1_96}.check() == suite_error::aead_has_its_own_icv);
    CHECK(esp_suite{cipher_id::chacha20_poly1305, integ_id::hmac_sha256_128}.check() == suite_error::aead_has_its_own_icv);
    CHECK(esp_suite{cipher_id::aes128_gmac, integ_id::aes_cmac_96}.check() == suite_error::aead_has_its_own_icv);
    CHECK(esp_suite{cipher_id::aes128_gcm_16, integ_id::none}.valid());  // IKEv2 may say NONE explicitly
  }

  TEST_CASE("a non-AEAD cipher without integrity is rejected unless 'none' is said explicitly") {
    CHECK(esp_suite{cipher_id::aes128_cbc}.check() == suite_error::cipher_needs_integrity);
    CHECK(esp_suite{cipher_id::aes128_ctr}.check() == suite_error::cipher_needs_integrity);
    CHECK(esp_suite{cipher_id::aes128_cbc, integ_id::none}.valid());
    CHECK_FALSE(esp_suite{cipher_id::aes128_cbc, integ_id::none}.authenticated());
  }

  TEST_CASE("NULL encryption with NULL integrity is rejected, even when 'none' is explicit") {
    CHECK(esp_suite{cipher_id::null}.check() == suite_error::null_needs_integrity);
    CHECK(esp_suite{cipher_id::null, integ_id::none}.check() == suite_error::null_needs_integrity);
    CHECK(esp_suite{cipher_id::null, integ_id::hmac_sha1_96}.valid());
  }

  TEST_CASE("all_suites lists every authenticated combination once, and all are valid") {
    for (std::size_t i = 0; i < all_suites.size(); ++i) {
      CHECK(all_suites[i].valid());
      CHECK(all_suites[i].authenticated());
      for (std::size_t j = 0; j < i; ++j) CHECK(all_suites[i] != all_suites[j]);
    }
  }

  TEST_CASE("padding policies: extra padding must keep alignment and fit the pad length field") {
    const esp_suite cbc{cipher_id::aes128_cbc, integ_id::hmac_sha1_96};
    CHECK(check_padding(cbc, {16, 0}) == padding_error::ok);
    CHECK(check_padding(cbc, {8, 0}) == padding_error::extra_not_aligned);
    CHECK(check_padding(cbc, {240, 0}) == padding_error::ok);         // 240 + 15 = 255
    CHECK(check_padding(cbc, {256, 0}) == padding_error::extra_exceeds_pad_length);
    const esp_suite gcm{cipher_id::aes128_gcm_16};
    CHECK(check_padding(gcm, {252, 0}) == padding_error::ok);         // 252 + 3 = 255
    CHECK(check_padding(gcm, {256, 0}) == padding_error::extra_exceeds_pad_length);
  }

  TEST_CASE("suite codes round-trip") {
    for (const auto& s : all_suites) CHECK(esp_suite::from_code(s.code()) == s);
  }

  TEST_CASE("every suite has an alias spelled as its spec string, generated from the table") {
    REQUIRE(suite_aliases.size() == all_suites.size());
    for (std::size_t i = 0; i < all_suites.size(); ++i) {
      CAPTURE(to_string(all_suites[i]));
      CHECK(suite_aliases[i].first == all_suites[i]);
      CHECK(suite_aliases[i].second == to_string(all_suites[i]));
    }
    static_assert(std::is_same_v<aes_256_gcm_16, aes256_gcm_16>);  // the short names are the same types
    static_assert(aes_256_cbc_hmac_sha1_96::value == esp_suite{cipher_id::aes256_cbc, integ_id::hmac_sha1_96});
    static_assert(aes_192_gmac::value.icv_size() == 16);
  }
}
