// stack.hpp: typed stacks in packet order, checked at compile time. Most of this file
// is static_assert: if it compiles, the constexpr math holds.
#include <encap/encap.hpp>

#include <doctest/doctest.h>

#include <type_traits>

using namespace encap;

namespace {

// ---- the reference scenario (DESIGN.md; Cisco IOS "plaintext mtu 1438") --------------
constexpr auto gre_over_ipsec = ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{} / gre{};
static_assert(esp_plaintext_mtu(gre_over_ipsec, 1500) == 1438);
static_assert(max_inner_size(gre_over_ipsec, 1500) == 1414);
static_assert(tcp_mss_ipv4(gre_over_ipsec, 1500) == 1374);
static_assert(tcp_mss_ipv6(gre_over_ipsec, 1500) == 1354);
static_assert(wire_size(gre_over_ipsec, 1414, 1500) == 1496);
static_assert(required_mtu(gre_over_ipsec, 1414) == 1496);
static_assert(max_inner_size(gre_over_ipsec, 60) == errc::mtu_too_small);

constexpr auto gre_over_ipsec_transport = ipv4{} / esp<transport, aes256_cbc_hmac_sha1_96>{} / gre{};
static_assert(max_inner_size(gre_over_ipsec_transport, 1500) == 1434);  // DESIGN.md

// ---- sizing-only layers, against the figures Linux sets as default device MTUs --------
// net/ipv4/ip_tunnel.c: dev->mtu = 1500 - (20 + GRE header): gre0 1476, with key 1472
static_assert(max_inner_size(ipv4{} / gre{}, 1500) == 1476);
static_assert(max_inner_size(ipv4{} / gre<gre_opt::key>{}, 1500) == 1472);
static_assert(max_inner_size(ipv4{} / gre<gre_opt::csum | gre_opt::key | gre_opt::seq>{}, 1500) == 1464);
// ipip and sit (6in4): 1480
static_assert(max_inner_size(ipv4{} / ipv4{}, 1500) == 1480);
static_assert(max_inner_size(ipv4{} / ipv6{}, 1500) == 1480);
// drivers/net/vxlan: VXLAN_HEADROOM 50 (IPv4) and VXLAN6_HEADROOM 70 -> 1450 / 1430
static_assert(max_inner_size(ipv4{} / udp{} / vxlan{} / ethernet{}, 1500) == 1450);
static_assert(max_inner_size(ipv6{} / udp{} / vxlan{} / ethernet{}, 1500) == 1430);
// drivers/net/geneve.c: GENEVE_IPV4_HLEN = 14 + 20 + 8 + 8, plus option bytes
static_assert(max_inner_size(ipv4{} / udp{} / geneve<>{} / ethernet{}, 1500) == 1450);
static_assert(max_inner_size(ipv4{} / udp{} / geneve<8>{} / ethernet{}, 1500) == 1442);
// RFC 2516 §7: PPPoE MRU no greater than 1492
static_assert(max_payload(pppoe::rule(), 1500) == 1492);
// drivers/net/macsec.c: macsec device MTU = 1500 - (SecTAG 16 + ICV 16) = 1468
static_assert(max_payload(macsec<>::rule(), 1500) == 1468);
static_assert(max_payload(macsec<false>::rule(), 1500) == 1476);
// wg-quick: MTU 1420 = 1500 - 80 for an IPv6 underlay
static_assert(max_inner_size(ipv6{} / udp{} / wireguard{}, 1500) == 1420);
// MPLS: 4 bytes a label (RFC 3032)
static_assert(max_payload(mpls<3>::rule(), 1500) == 1488);
// 802.1Q and QinQ: 4 bytes a tag
static_assert(dot1q::rule().header_size == 18 && qinq::rule().header_size == 22);
// L2TPv3 over IP with an 8-byte cookie (RFC 3931): 4 + 8; over UDP 4 more
static_assert(max_inner_size(ipv4{} / l2tpv3<8>{} / ethernet{}, 1500) == 1500 - 20 - 12 - 14);
static_assert(max_inner_size(ipv4{} / udp{} / l2tpv3<8>{} / ethernet{}, 1500) == 1500 - 20 - 8 - 16 - 14);

// ---- the carrying rules, one concept each (an illegal a / b fails with the rule's name:
// tests/compile_fail/ checks the diagnostics themselves) ---------------------------------
static_assert(!stackable<udp, ipv4>);                                          // UDP does not carry IP
static_assert(!stackable<esp<tunnel, aes128_gcm_16>, gre<>>);                  // tunnel mode carries IP
static_assert(!stackable<esp<transport, aes128_gcm_16>, ipv4>);                // transport mode does not
static_assert(!esp_transport_mode_carries_no_ip_packet<esp<transport, aes128_gcm_16>, ipv6>);
static_assert(!esp_tunnel_mode_carries_an_ip_packet<esp<tunnel, aes128_gcm_16>, udp>);
static_assert(!udp_carries_esp_or_an_overlay_not_ip<udp, ipv6>);
static_assert(!stackable<vxlan, ipv4>);                                        // VXLAN carries Ethernet
static_assert(stackable<esp<transport, aes128_gcm_16>, udp>);
static_assert(stackable<udp, esp<tunnel, chacha20_poly1305>>);

// ---- stacks are plain constexpr values ---------------------------------------------------
static_assert(std::is_trivially_copyable_v<decltype(gre_over_ipsec)>);
static_assert(decltype(gre_over_ipsec)::size == 4);
static_assert(std::is_same_v<decltype(gre_over_ipsec),
                             const stack<ipv4, esp<tunnel, aes256_cbc_hmac_sha1_96>, ipv4, gre<>>>);

// ---- padding policies are in the type and in the math ----------------------------------
static_assert(max_inner_size(ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96, extra_padding<32>>{} / ipv4{}, 1500) ==
              1406);  // plaintext floor((1480 - 36 - 32) / 16) * 16 - 2
static_assert(max_inner_size(ipv4{} / esp<tunnel, aes256_gcm_16, tfc_padding<512>>{} / ipv4{}, 1500) ==
              max_inner_size(ipv4{} / esp<tunnel, aes256_gcm_16>{} / ipv4{}, 1500));

}  // namespace

TEST_SUITE("stack") {
  TEST_CASE("layer values are kept and reachable in packet order") {
    constexpr auto s = ipv4{{10, 0, 0, 1}, {10, 0, 0, 2}, 33} / udp{1234, 4500} / esp<tunnel, aes128_gcm_16>{0x1001} / ipv6{};
    static_assert(s.get<0>().ttl == 33);
    static_assert(s.get<1>().src_port == 1234);
    static_assert(s.get<2>().spi == 0x1001);
    CHECK(s.get<0>().dst[3] == 2);
  }

  TEST_CASE("typed calculators are the sizing.hpp functions over the same rules") {
    const rule_span r = rules_of(gre_over_ipsec);
    REQUIRE(r.size() == 4);
    CHECK(r[1] == esp_rule({cipher_id::aes256_cbc, integ_id::hmac_sha1_96}));
    for (std::size_t mtu = 100; mtu <= 9216; mtu += 37) {
      CHECK(max_inner_size(gre_over_ipsec, mtu).value_or(0) == max_inner_size(r, mtu).value_or(0));
    }
  }
}
