// sizing.hpp: the layer rule formulas and the calculators that fold over them.
#include <encap/layers/esp.hpp>
#include <encap/layers/gre.hpp>
#include <encap/layers/ip.hpp>
#include <encap/layers/udp.hpp>
#include <encap/layers/wireguard.hpp>
#include <encap/sizing.hpp>

#include <doctest/doctest.h>

#include <array>

using namespace encap;

namespace {
constexpr esp_suite cbc_sha1{cipher_id::aes256_cbc, integ_id::hmac_sha1_96};
constexpr esp_suite gcm16{cipher_id::aes256_gcm_16};
// The reference tunnel, outermost first: IPv4 / ESP tunnel / IPv4 (GRE delivery) / GRE.
constexpr std::array<layer_rule, 4> reference{ipv4_rule(), esp_rule(cbc_sha1), ipv4_rule(), gre_rule()};
}  // namespace

TEST_SUITE("sizing") {
  TEST_CASE("ESP overhead follows RFC 4303 §2.4: 8 + IV + roundup(n + 2, align) - n + ICV") {
    const layer_rule r = esp_rule(cbc_sha1);
    for (std::size_t n = 0; n < 2000; ++n) {
      const std::size_t expected = 8 + 16 + ((n + 2 + 15) / 16) * 16 + 12;  // DESIGN.md "ESP rules"
      CHECK(wire_size(r, n) == expected);
    }
    // GCM: 4-byte alignment (RFC 4106 §3: no block alignment beyond RFC 4303's 4 bytes)
    CHECK(wire_size(esp_rule(gcm16), 1400) == 8 + 8 + 1404 + 16);
    CHECK(wire_size(esp_rule(gcm16), 1401) == 8 + 8 + 1404 + 16);
    CHECK(wire_size(esp_rule(gcm16), 1403) == 8 + 8 + 1408 + 16);
  }

  TEST_CASE("the GRE-over-IPsec worked example of DESIGN.md, step by step") {
    // available to ESP 1500 - 20 = 1480; encrypted part floor((1480-36)/16)*16 = 1440
    CHECK(max_payload(ipv4_rule(), 1500) == std::size_t{1480});
    CHECK(max_payload(esp_rule(cbc_sha1), 1480) == std::size_t{1438});
    CHECK(esp_plaintext_mtu(reference, 1500) == std::size_t{1438});  // Cisco IOS "plaintext mtu 1438"
    CHECK(max_inner_size(reference, 1500) == std::size_t{1414});     // DF ping sweep: 1414
    CHECK(tcp_mss_ipv4(reference, 1500) == std::size_t{1374});
    CHECK(tcp_mss_ipv6(reference, 1500) == std::size_t{1354});
    CHECK(wire_size(reference, 1414, 1500) == 1496);                  // 4 of 1500 unused
    CHECK(wire_size(reference, 1415, 1500) == 1512);                  // one more byte: a new 16-byte block
    CHECK(fits(reference, 1414, 1500));
    CHECK_FALSE(fits(reference, 1415, 1500));
  }

  TEST_CASE("transport mode: the GRE delivery header is the outer header, max GRE payload 1434") {
    const std::array<layer_rule, 3> transport{ipv4_rule(), esp_rule(cbc_sha1), gre_rule()};
    CHECK(esp_plaintext_mtu(transport, 1500) == std::size_t{1438});
    CHECK(max_inner_size(transport, 1500) == std::size_t{1434});  // DESIGN.md
  }

  TEST_CASE("a 1400-byte tunnel MTU gives MSS 1360 (the folklore pair 'mtu 1400, adjust-mss 1360')") {
    CHECK(tcp_mss_ipv4(1400) == std::size_t{1360});
    CHECK(tcp_mss_ipv6(1400) == std::size_t{1340});
  }

  TEST_CASE("an MTU too small to carry anything is an error, never a wrapped number") {
    CHECK(max_inner_size(reference, 0) == errc::mtu_too_small);
    CHECK(max_inner_size(reference, 19) == errc::mtu_too_small);
    CHECK(max_inner_size(reference, 20 + 36 + 16) == errc::mtu_too_small);  // ESP fits only pad length + next header + 14
    // smallest MTU with one byte of inner packet: 20 + 8+16 + 32-byte body (for 20+4+1+2 bytes) + 12
    CHECK(required_mtu(reference, 1) == std::size_t{20 + 24 + 32 + 12});
    CHECK(max_inner_size(reference, 88) == std::size_t{6});   // body 32: 32 - 2 - 24 = 6
    CHECK(max_inner_size(reference, 87) == errc::mtu_too_small);
    CHECK(tcp_mss_ipv4(reference, 88) == errc::mtu_too_small);
    CHECK(tcp_mss_ipv4(40) == errc::mtu_too_small);
  }

  TEST_CASE("required_mtu is the smallest underlay MTU that carries the inner MTU") {
    CHECK(required_mtu(reference, 1414) == std::size_t{1496});  // plaintext 1438 needs a 1440-byte body: 20+24+1440+12
    for (std::size_t inner = 1; inner < 3000; inner += 7) {
      const auto m = required_mtu(reference, inner);
      REQUIRE(m);
      CHECK(max_inner_size(reference, m.val).value() >= inner);
      const auto below = max_inner_size(reference, m.val - 1);
      CHECK((!below || below.val < inner));
    }
    CHECK(required_mtu(reference, 0) == errc::size_out_of_range);
  }

  TEST_CASE("overhead range over inner sizes: CBC's sawtooth spans 16 bytes") {
    const auto r = overhead_over(reference, 1, 1414);
    // 20 + 8 + 16 + 12 + 20 + 4 = 80 fixed; padding + 2 adds 2..17
    CHECK(r.min == 82);
    CHECK(r.max == 97);
    CHECK(overhead(reference, r.min_at) == r.min);
    CHECK(overhead(reference, r.max_at) == r.max);
  }

  TEST_CASE("TFC padding pads to the boundary but never past the MTU (RFC 4303 §2.7, Linux tfcpad clamp)") {
    const layer_rule r = esp_rule(gcm16, {0, 256});
    CHECK(wire_size(r, 100) == 8 + 8 + 260 + 16);      // 100 -> 256, +2 -> 260 (4-aligned)
    CHECK(wire_size(r, 256) == 8 + 8 + 260 + 16);
    CHECK(wire_size(r, 257) == 8 + 8 + 516 + 16);
    // with room 1480 the cap is the max payload 1446: 1300 pads to 1446, not 1536
    CHECK(max_payload(r, 1480) == std::size_t{1446});
    CHECK(wire_size(r, 1300, 1480) == 1480);
    CHECK(wire_size(r, 1446, 1480) == 1480);
    CHECK(wire_size(r, 1447, 1480) > 1480);
  }

  TEST_CASE("extra padding adds exactly its bytes and lowers the max payload by them") {
    const layer_rule r = esp_rule(cbc_sha1, {32, 0});
    for (std::size_t n = 0; n < 100; ++n) CHECK(wire_size(r, n) == wire_size(esp_rule(cbc_sha1), n) + 32);
    CHECK(max_payload(r, 1480) == std::size_t{1438 - 32});
  }

  TEST_CASE("WireGuard pads to 16 but never past the MTU: 1440 over IPv4, 1420 over IPv6") {
    // wg-quick sets MTU 1420 = 1500 - 80 (IPv6 40 + UDP 8 + WireGuard 32); over IPv4 60 bytes
    const std::array<layer_rule, 3> wg4{ipv4_rule(), udp_rule(), wireguard_rule()};
    const std::array<layer_rule, 3> wg6{ipv6_rule(), udp_rule(), wireguard_rule()};
    CHECK(max_inner_size(wg4, 1500) == std::size_t{1440});
    CHECK(max_inner_size(wg6, 1500) == std::size_t{1420});
    CHECK(wire_size(wg6, 1420, 1500) == 1500);
    CHECK(wire_size(wg6, 1419, 1500) == 1500);   // padded up to the MTU, not to 1424
    CHECK(wire_size(wg6, 1409, 1500) == 1500);   // 1409 -> 1420 (cap), not 1424
    CHECK(wire_size(wg6, 1400, 1500) == 1488);   // 1400 -> 1408, + 80
    CHECK(wire_size(wg6, 1) == 40 + 8 + 16 + 16 + 16);
  }

  TEST_CASE("16-bit length fields bound the calculators above an MTU of 65535 (Linux loopback is 65536)") {
    // IPv4 Total Length counts the header (RFC 791 §3.1): GRE over IPv4 carries at most
    // 65535 - 20 - 4
    const std::array<layer_rule, 2> gre4{ipv4_rule(), gre_rule()};
    CHECK(max_inner_size(gre4, 65536) == std::size_t{65511});
    CHECK(tcp_mss_ipv4(gre4, 65536) == std::size_t{65471});
    CHECK(max_inner_size(gre4, 9000) == std::size_t{8976});  // below the limit nothing changes
    // IPv6 Payload Length excludes the 40-byte header (RFC 8200 §3): 65535 - 4 inside GRE
    const std::array<layer_rule, 2> gre6{ipv6_rule(), gre_rule()};
    CHECK(max_inner_size(gre6, 100000) == std::size_t{65531});
    // UDP Length counts its header (RFC 768): IPv6 / UDP / ESP-GCM carries at most
    // floor((65535 - 8 - 8 - 8 - 16) / 4) * 4 - 2 = 65490 ESP payload bytes
    const std::array<layer_rule, 3> v6_natt{ipv6_rule(), udp_rule(), esp_rule(gcm16)};
    CHECK(esp_plaintext_mtu(v6_natt, 200000) == std::size_t{65490});
    // the reference tunnel over IPv4: ESP gets 65535 - 20 = 65515, floor((65515 - 36) / 16) * 16 - 2 = 65470
    CHECK(esp_plaintext_mtu(reference, 65536) == std::size_t{65470});
    CHECK(max_inner_size(reference, 65536) == std::size_t{65470 - 24});
  }

  TEST_CASE("unlimited is a constant on every target, 32-bit included") {
    static_assert(unlimited > 65535 + 40);
    static_assert(unlimited + unlimited > unlimited);  // sums of two never wrap
    CHECK(max_payload(gre_rule(), unlimited) == unlimited);
  }
}
