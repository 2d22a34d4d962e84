// spec.hpp: the run-time stack spec parses into the rules the types produce, and bad
// specs get errors that point at the token and say what would be valid.
#include <encap/encap.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace encap;

namespace {
template <layer_stack S>
bool same_rules(const spec_result& r, const S& s) {
  if (!r) return false;
  const rule_span a = *r, b = rules_of(s);
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

spec_error error_of(std::string_view text) {
  const auto r = parse_spec(text);
  REQUIRE_FALSE(r);
  return r.error();
}
}  // namespace

TEST_SUITE("spec") {
  TEST_CASE("specs parse into exactly the rules of the equivalent typed stacks") {
    CHECK(same_rules(parse_spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre"),
                     ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{} / gre{}));
    CHECK(same_rules(parse_spec("ipv6/udp/esp(aes-128-gcm-16)/ipv4"),
                     ipv6{} / udp{} / esp<tunnel, aes128_gcm_16>{} / ipv4{}));
    CHECK(same_rules(parse_spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/gre(key,seq)"),
                     ipv4{} / esp<transport, aes256_cbc_hmac_sha1_96>{} / gre<gre_opt::key | gre_opt::seq>{}));
    CHECK(same_rules(parse_spec("ipv4/udp/vxlan/eth/ipv4"), ipv4{} / udp{} / vxlan{} / ethernet{} / ipv4{}));
    CHECK(same_rules(parse_spec("ipv4/udp/geneve(opt=8)/eth(vlan)"), ipv4{} / udp{} / geneve<8>{} / dot1q{}));
    CHECK(same_rules(parse_spec("ipv4/udp/l2tpv3(cookie=8)/eth"), ipv4{} / udp{} / l2tpv3<8>{} / ethernet{}));
    CHECK(same_rules(parse_spec("eth(qinq)/mpls(2)/ipv4"), qinq{} / mpls<2>{} / ipv4{}));
    CHECK(same_rules(parse_spec("eth/macsec/pppoe/ipv6"), ethernet{} / macsec{} / pppoe{} / ipv6{}));
    CHECK(same_rules(parse_spec("ipv6/udp/wg/ipv4"), ipv6{} / udp{} / wireguard{} / ipv4{}));
    CHECK(same_rules(parse_spec("ipv4/esp(aes-256-gcm-16,tfc=512)/ipv4"),
                     ipv4{} / esp<tunnel, aes256_gcm_16, tfc_padding<512>>{} / ipv4{}));
    CHECK(same_rules(parse_spec("ipv4/esp(aes-256-cbc,hmac-sha1-96,pad=32)/ipv4"),
                     ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96, extra_padding<32>>{} / ipv4{}));
  }

  TEST_CASE("ESP mode is read from what follows, and an explicit mode is checked against it") {
    const auto t = parse_spec("ipv4/esp(aes-128-gcm-16)/ipv6");
    REQUIRE(t);
    CHECK(t->modes[1] == esp_mode::tunnel);
    const auto tr = parse_spec("ipv4/esp(aes-128-gcm-16)/gre/ipv4");
    REQUIRE(tr);
    CHECK(tr->modes[1] == esp_mode::transport);
    const auto last = parse_spec("ipv4/esp(aes-128-gcm-16)");
    REQUIRE(last);
    CHECK(last->modes[1] == esp_mode::tunnel);
    const auto e = error_of("ipv4/esp(aes-128-gcm-16,transport)/ipv4");
    CHECK(e.offset == 35);
    CHECK(e.message.find("transport mode cannot carry 'ipv4'") != std::string::npos);
    const auto e2 = error_of("ipv4/esp(aes-128-gcm-16,tunnel)/gre");
    CHECK(e2.offset == 32);
    CHECK(e2.message.find("it carries: ipv4, ipv6") != std::string::npos);
  }

  TEST_CASE("errors point at the offending token and list what is valid") {
    auto e = error_of("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gree");
    CHECK(e.offset == 40);
    CHECK(e.length == 4);
    CHECK(e.message.find("unknown layer 'gree'; valid layers: ipv4,") == 0);

    e = error_of("ipv4/esp(aes-256-cbx,hmac-sha1-96)/ipv4");
    CHECK(e.offset == 9);
    CHECK(e.message.find("aes-256-cbc") != std::string::npos);  // lists the valid ciphers

    e = error_of("ipv4/esp(aes-128-gcm-16,hmac-sha1-96)/ipv4");
    CHECK(e.offset == 24);
    CHECK(e.message.find("AEAD") != std::string::npos);

    e = error_of("ipv4/esp(aes-128-cbc)/ipv4");
    CHECK(e.message.find("needs an integrity algorithm") != std::string::npos);
    CHECK(parse_spec("ipv4/esp(aes-128-cbc,none)/ipv4"));  // explicitly unauthenticated

    e = error_of("ipv4/esp(null,none)/ipv4");
    CHECK(e.message.find("NULL with NULL") != std::string::npos);

    e = error_of("ipv4/udp/ipv4");
    CHECK(e.offset == 9);
    CHECK(e.message == "'udp' cannot carry 'ipv4'; it carries: gre, esp, mpls, vxlan, geneve, l2tpv3, wireguard, openvpn, gtpu");

    e = error_of("ipv4/gre(key,key)");
    CHECK(e.offset == 13);
    e = error_of("ipv4/gre(ttl)");
    CHECK(e.message.find("valid: csum, key, key=N, seq") != std::string::npos);
    e = error_of("ipv4/esp(aes-256-cbc,hmac-sha1-96,pad=8)/ipv4");
    CHECK(e.message.find("multiple of the suite's alignment (16 bytes)") != std::string::npos);
    e = error_of("ipv4/esp");
    CHECK(e.message.find("esp needs a cipher") == 0);
    e = error_of("ipv4//gre");
    CHECK(e.offset == 5);
    e = error_of("ipv4/esp(aes-128-gcm-16");
    CHECK(e.message.find("unbalanced") != std::string::npos);
    e = error_of("");
    CHECK(e.message.find("empty layer") == 0);
    e = error_of("ipv4/udp/geneve(opt=6)");
    CHECK(e.message.find("4-byte units") != std::string::npos);
    e = error_of("ipv4(x)");
    CHECK(e.message == "unknown IPv4 option 'x'; valid: src=ADDRESS, dst=ADDRESS, ttl=N, options=N");
    CHECK(e.offset == 5);
  }

  TEST_CASE("format() shows the spec with a caret under the token") {
    const std::string text = "ipv4/udp/ipv4";
    const auto r = parse_spec(text);
    CHECK(r.error().format(text) == "error: 'udp' cannot carry 'ipv4'; it carries: gre, esp, mpls, vxlan, geneve, "
                                  "l2tpv3, wireguard, openvpn, gtpu\n  ipv4/udp/ipv4\n           ^^^^");
  }

  TEST_CASE("the canonical spelling parses back to the same rules") {
    for (const char* text : {"ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre(csum,key,seq)", "ipv6/udp/esp(chacha20-poly1305)/ipv6",
                             "ipv4/esp(aes-256-gcm-16,tfc=512)/ipv4", "eth(qinq)/mpls(3)/ipv4", "ipv4/udp/l2tpv3(cookie=4,sublayer)/eth",
                             "eth/macsec(nosci)/ipv4", "ipv4/udp/geneve(opt=16)/eth/ipv6", "ipv4/esp(aes-128-cbc,none,transport)/udp"}) {
      CAPTURE(text);
      const auto a = parse_spec(text);
      REQUIRE(a);
      const std::string canon = to_string(*a);
      const auto b = parse_spec(canon);
      REQUIRE(b);
      CHECK(a->rules == b->rules);
      CHECK(to_string(*b) == canon);
    }
  }

  TEST_CASE("more than max_layers layers is refused") {
    std::string text = "ipv4";
    for (std::size_t i = 1; i < max_layers; ++i) text += "/ipv4";
    CHECK(parse_spec(text));
    text += "/ipv4";
    CHECK(error_of(text).message.find("too many layers") == 0);
  }

  TEST_CASE("every suite name in the tables parses") {
    for (const auto& s : all_suites) {
      const std::string text = "ipv4/esp(" + to_string(s) + ")/ipv4";
      CAPTURE(text);
      const auto r = parse_spec(text);
      REQUIRE(r);
      CHECK(r->rules[1] == esp_rule(s));
    }
  }

  TEST_CASE("a stack stands on something and its innermost layer carries something") {
    // ESP, UDP and GRE ride in IP: as the outermost layer nothing would carry them
    for (const char* text : {"esp(aes-256-gcm-16)/ipv4", "udp/esp(aes-256-gcm-16)/ipv4", "gre/ipv4", "vxlan/eth"}) {
      CAPTURE(text);
      const auto e = error_of(text);
      CHECK(e.offset == 0);
      CHECK(e.message.find("cannot be the outermost layer") != std::string::npos);
    }
    CHECK(error_of("udp/esp(aes-256-gcm-16)/ipv4").message.find("it rides in: ipv4, ipv6") != std::string::npos);
    // a trailing UDP names no payload (NAT-T needs its ESP, VXLAN its vxlan, ...)
    const auto u = error_of("ipv4/udp");
    CHECK(u.offset == 5);
    CHECK(u.message.find("carries nothing") != std::string::npos);
    CHECK(parse_spec("ipv4/esp(aes-128-gcm-16,transport)/udp"));  // the protected UDP header in transport mode
    CHECK(parse_spec("pppoe/ipv4"));                               // PPPoE, Ethernet and MPLS stand on a link
    CHECK(parse_spec("ipv4/gre"));
  }

  TEST_CASE("an ESP option given twice is an error, as a mode given twice is") {
    const auto p = error_of("ipv4/esp(aes-256-cbc,hmac-sha1-96,pad=16,pad=32)/ipv4");
    CHECK(p.message == "ESP option 'pad' given twice");
    CHECK(p.offset == std::string_view("ipv4/esp(aes-256-cbc,hmac-sha1-96,pad=16,").size());
    CHECK(error_of("ipv4/esp(aes-256-gcm-16,tfc=512,tfc=256)/ipv4").message == "ESP option 'tfc' given twice");
    CHECK(error_of("ipv4/esp(aes-256-gcm-16,tunnel,tunnel)/ipv4").message == "ESP mode given twice");
  }

  TEST_CASE("values for the run-time endpoint: addresses (RFC 4291 §2.2 text forms), TTL, UDP ports, GRE key") {
    const auto r = parse_spec("ipv6(src=2001:db8::1,dst=::ffff:192.0.2.7,hops=9)/udp(4500)/esp(aes-128-gcm-16)/ipv4(src=10.0.0.1,dst=10.0.0.2,ttl=7)/gre(key=4000000000,seq)");
    REQUIRE_MESSAGE(r, r.error().message);
    const std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const std::array<std::uint8_t, 16> b{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
    CHECK(r->values[0].v6.src == a);
    CHECK(r->values[0].v6.dst == b);
    CHECK(r->values[0].v6.hop_limit == 9);
    CHECK(r->values[1].ports.src_port == 4500);
    CHECK(r->values[3].v4.src == std::array<std::uint8_t, 4>{10, 0, 0, 1});
    CHECK(r->values[3].v4.ttl == 7);
    CHECK(r->values[4].gre_key == 4000000000u);
    CHECK(r->rules[4] == gre_rule(gre_opt::key | gre_opt::seq));  // key=N sets the K bit
    // every IPv6 text form of one address
    for (const char* t : {"2001:db8:0:0:0:0:0:1", "2001:DB8::1", "2001:db8:0::0:1", "2001:0db8:0000:0000:0000:0000:0000:0001"}) {
      CAPTURE(t);
      const auto x = parse_spec(std::string("ipv6(src=") + t + ")/ipv4");
      REQUIRE(x);
      CHECK(x->values[0].v6.src == a);
    }
    const std::array<std::uint8_t, 16> zero{};
    CHECK(parse_spec("ipv6(src=::)/ipv4")->values[0].v6.src == zero);
    for (const char* t : {"2001:db8::1::2", "2001:db8:1", "1:2:3:4:5:6:7:8:9", "12345::1", "2001:db8::g", ":1::2", "1:2:3:4:5:6:7:"}) {
      CAPTURE(t);
      const auto e = error_of(std::string("ipv6(src=") + t + ")/ipv4");
      CHECK(e.message == std::string("not an IPv6 address: '") + t + "'");
      CHECK(e.offset == 5);
    }
    for (const char* t : {"10.0.0", "10.0.0.256", "10.0.0.1.2", "10..0.1", "a.b.c.d"}) {
      CAPTURE(t);
      CHECK(error_of(std::string("ipv4(dst=") + t + ")/gre").message == std::string("not an IPv4 address: '") + t + "'");
    }
    CHECK(error_of("ipv4(ttl=0)/gre").message == "ttl is 1 to 255");
    CHECK(error_of("ipv4(src=10.0.0.1,src=10.0.0.2)/gre").message == "'src' given twice");
    CHECK(error_of("ipv4(hops=3,foo)/gre").message == "unknown IPv4 option 'foo'; valid: src=ADDRESS, dst=ADDRESS, ttl=N, options=N");
  }

  TEST_CASE("udp(N): ESP in UDP is port 4500 (RFC 3948 §2); 500 is IKE's (RFC 7296 §2)") {
    CHECK(parse_spec("ipv4/udp(4500)/esp(aes-256-gcm-16)/ipv4"));
    const auto ike = error_of("ipv4/udp(500)/esp(aes-256-gcm-16)/ipv4");
    CHECK(ike.message == "UDP 500 is IKE's port (RFC 7296 §2); ESP in UDP uses 4500 (RFC 3948 §2)");
    CHECK(ike.offset == 9);
    CHECK(error_of("ipv4/udp(4501)/esp(aes-256-gcm-16)/ipv4").message.find("uses port 4500") != std::string::npos);
    // a NAT-mapped peer port, said explicitly
    const auto nat = parse_spec("ipv4/udp(sport=4500,dport=61000)/esp(aes-256-gcm-16)/ipv4");
    REQUIRE(nat);
    CHECK(nat->values[1].ports.dst_port == 61000);
    CHECK(parse_spec("ipv4/udp(4789)/vxlan/eth"));  // other overlays keep their own ports
    CHECK(error_of("ipv4/udp(0)/vxlan/eth").message == "a UDP port is 1 to 65535");
    CHECK(error_of("ipv4/udp(4500,sport=1)/esp(aes-256-gcm-16)/ipv4").message == "the source port given twice");
  }
}

