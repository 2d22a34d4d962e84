// Security review, one test per point (docs/security.md): constant-time ICV comparison,
// key material wiped when an SA is destroyed, no plaintext left after a failed ICV,
// RFC 8221 refusals. IV uniqueness and sequence exhaustion are in test_esp_sa.cpp.
#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <new>
#include <vector>

#include "support/backends.hpp"
#include "support/packets.hpp"

using namespace encap;
using sa_t = esp_sa<botan_backend>;

TEST_SUITE("security") {
  TEST_CASE("ICV comparison takes the same time wherever the first difference is") {
    // An early-exit comparison of 4096 bytes differs ~100x between a difference at the
    // first byte and one at the last; ct_equal must not. The two are timed alternately
    // and the fastest of 15 rounds kept, so other load on the machine cannot tip it.
    std::vector<std::uint8_t> a(4096, 0x5a), first = a, last = a;
    first[0] ^= 1;
    last[4095] ^= 1;
    auto once = [&](const std::vector<std::uint8_t>& b) {
      const auto t0 = std::chrono::steady_clock::now();
      bool r = false;
      for (int i = 0; i < 500; ++i) r |= ct_equal(a.data(), b.data(), a.size());
      const auto t1 = std::chrono::steady_clock::now();
      CHECK_FALSE(r);
      return std::chrono::duration<double>(t1 - t0).count();
    };
    double tf = 1e9, tl = 1e9;
    for (int round = 0; round < 15; ++round) {
      tf = std::min(tf, once(first));
      tl = std::min(tl, once(last));
    }
    CAPTURE(tf);
    CAPTURE(tl);
    CHECK(tf > tl / 2);
    CHECK(tf < tl * 2);
    CHECK(ct_equal(a.data(), a.data(), a.size()));
  }

  TEST_CASE("an SA's copies of its keys are wiped when it is destroyed") {
    const esp_suite s = aes256_cbc_hmac_sha1_96::value;
    std::vector<std::uint8_t> ek(32), ak(20);
    for (std::size_t i = 0; i < ek.size(); ++i) ek[i] = static_cast<std::uint8_t>(0xa0 + i);
    for (std::size_t i = 0; i < ak.size(); ++i) ak[i] = static_cast<std::uint8_t>(0x30 + i);
    alignas(sa_t) std::byte storage[sizeof(sa_t)];
    auto* sa = new (storage) sa_t({.spi = 1, .suite = s, .keys = {ek, ak}});
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(storage);
    auto contains = [&](const std::vector<std::uint8_t>& key) {
      return std::search(bytes, bytes + sizeof(sa_t), key.begin(), key.end()) != bytes + sizeof(sa_t);
    };
    REQUIRE(contains(ek));  // the SA holds them (for wireshark_sa)
    REQUIRE(contains(ak));
    sa->~sa_t();
    CHECK_FALSE(contains(ek));
    CHECK_FALSE(contains(ak));
  }

  TEST_CASE_TEMPLATE("no plaintext in the buffer after a failed ICV, for every suite", B, ENCAP_BACKENDS) {
    // Botan verifies first (HMAC/CMAC, GCM, GMAC, ChaCha20-Poly1305) or wipes (CCM);
    // intel-ipsec-mb decrypts in the verifying job and wipes the payload before returning.
    for (const auto& s : all_suites) {
      if (!B::supports(s) || s.c().mode == cipher_mode::none || s.c().mode == cipher_mode::gmac) continue;
      CAPTURE(to_string(s));
      const test::suite_keys k(s);
      esp_sa<B> out({.spi = 3, .suite = s, .keys = {k.enc, k.auth}, .allow_legacy = true});
      esp_sa<B> in({.spi = 3, .suite = s, .keys = {k.enc, k.auth}, .allow_legacy = true});
      std::vector<std::uint8_t> buf(64 + 300 + 64);
      const auto inner = test::inner_ipv4(300);
      std::copy(inner.begin(), inner.end(), buf.begin() + 64);
      frame f(buf, 64, 300);
      REQUIRE(out.encap(f, 4));
      buf[f.offset() + f.size() - 1] ^= 1;  // the last ICV byte
      frame g(buf, f.offset(), f.size());
      CHECK(in.decap(g).error() == errc::esp_bad_icv);
      // any 16-byte run of the inner payload in the buffer would be released plaintext
      for (std::size_t at = 28; at + 16 <= inner.size(); at += 16)
        CHECK(std::search(buf.begin(), buf.end(), inner.begin() + static_cast<std::ptrdiff_t>(at),
                          inner.begin() + static_cast<std::ptrdiff_t>(at + 16)) == buf.end());
    }
  }

  TEST_CASE("RFC 8221 MUST NOT algorithms are refused at setup unless legacy is asked for") {
    const esp_suite md5{cipher_id::aes128_cbc, integ_id::hmac_md5_96};
    const test::suite_keys k(md5);
    CHECK_THROWS_AS(sa_t({.spi = 1, .suite = md5, .keys = {k.enc, k.auth}}), std::invalid_argument);
    CHECK_NOTHROW(sa_t({.spi = 1, .suite = md5, .keys = {k.enc, k.auth}, .allow_legacy = true}));
    const esp_suite null_null{cipher_id::null, integ_id::none};
    CHECK_THROWS_AS(sa_t({.spi = 1, .suite = null_null, .keys = {}}), std::invalid_argument);  // never, even as legacy
    CHECK_THROWS_AS(sa_t({.spi = 1, .suite = null_null, .keys = {}, .allow_legacy = true}), std::invalid_argument);
    const esp_suite des3{cipher_id::des3_cbc, integ_id::hmac_sha1_96};
    const test::suite_keys kd(des3);
    CHECK_THROWS_AS(sa_t({.spi = 1, .suite = des3, .keys = {kd.enc, kd.auth}}), std::invalid_argument);
    // DES-CBC (RFC 8221 MUST NOT) is not in the tables at all
    CHECK_FALSE(parse_spec("ipv4/esp(des-cbc,hmac-sha1-96)/ipv4"));
  }
}
