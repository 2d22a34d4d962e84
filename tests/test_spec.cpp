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
    CHECK(e.message == "'udp' cannot carry 'ipv4'; it carries: gre, esp, mpls, vxlan, geneve, l2tpv3, wireguard");

    e = error_of("ipv4/gre(key,key)");
    CHECK(e.offset == 13);
    e = error_of("ipv4/gre(ttl)");
    CHECK(e.message.find("valid: csum, key, seq") != std::string::npos);
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
    CHECK(e.message == "'ipv4' takes no arguments");
    CHECK(e.offset == 5);
  }

  TEST_CASE("format() shows the spec with a caret under the token") {
    const std::string text = "ipv4/udp/ipv4";
    const auto r = parse_spec(text);
    CHECK(r.error().format(text) == "error: 'udp' cannot carry 'ipv4'; it carries: gre, esp, mpls, vxlan, geneve, "
                                  "l2tpv3, wireguard\n  ipv4/udp/ipv4\n           ^^^^");
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
}
