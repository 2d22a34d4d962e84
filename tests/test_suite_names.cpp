// crypto/suite_names.hpp: every accepted spelling against its source. Each row's
// expectation is written from the source, not from encap's tables: the IANA IKEv2
// Transform Type 1 (encryption) and Type 3 (integrity) IDs and the key size in bits that
// the name means there, checked against the suite the parser returns.
//   IANA: https://www.iana.org/assignments/ikev2-parameters (Transform Type 1: 12 AES-CBC,
//         13 AES-CTR, 14/15/16 AES-CCM 8/12/16, 18/19/20 AES-GCM 8/12/16, 21 NULL_AUTH_AES_GMAC,
//         28 ChaCha20-Poly1305, 3 3DES, 11 NULL; Type 3: 1 HMAC_MD5_96, 2 HMAC_SHA1_96,
//         5 AES_XCBC_96, 8 AES_CMAC_96, 12/13/14 HMAC_SHA2_256_128/384_192/512_256)
//   strongSwan 5.9 proposal keywords (src/libstrongswan/crypto/proposal/proposal_keywords_static.txt)
//   Cisco IOS Security Command Reference, "crypto ipsec transform-set"
//   Linux ip-xfrm(8) and net/xfrm/xfrm_algo.c (algorithm names, default truncations)
#include <encap/crypto/botan.hpp>
#include <encap/crypto/suite_names.hpp>
#include <encap/sa_config.hpp>
#include <encap/spec.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace encap;

namespace {

struct row {
  const char* text;
  std::size_t keymat;           // xfrm: the key's length in bytes (salt included)
  std::uint16_t encr_id;        // IANA Transform Type 1
  std::size_t key_bits;         // the AES (or ChaCha20) key size the name means
  std::uint16_t integ_id_iana;  // IANA Transform Type 3 (0: none, an AEAD)
  const char* dialect;
};

// clang-format off
constexpr row rows[] = {
    // strongSwan ESP proposals
    {"aes256gcm16", 0, 20, 256, 0, "strongSwan"},
    {"aes128gcm8", 0, 18, 128, 0, "strongSwan"},
    {"aes192gcm12", 0, 19, 192, 0, "strongSwan"},
    {"aes128gcm128", 0, 20, 128, 0, "strongSwan"},     // the ICV in bits, as strongSwan also accepts
    {"aes256-sha256", 0, 12, 256, 12, "strongSwan"},
    {"aes128-sha1", 0, 12, 128, 2, "strongSwan"},
    {"aes256-sha512", 0, 12, 256, 14, "strongSwan"},
    {"aes192-sha384", 0, 12, 192, 13, "strongSwan"},
    {"chacha20poly1305", 0, 28, 256, 0, "strongSwan"},
    {"aes128ccm16", 0, 16, 128, 0, "strongSwan"},
    {"aes256ccm8", 0, 14, 256, 0, "strongSwan"},
    {"aes256gmac", 0, 21, 256, 0, "strongSwan"},
    {"aes128ctr-sha256", 0, 13, 128, 12, "strongSwan"},
    {"aes128-aesxcbc", 0, 12, 128, 5, "strongSwan"},
    {"aes128-aescmac", 0, 12, 128, 8, "strongSwan"},
    {"aes256gcm16-prfsha384-ecp384", 0, 20, 256, 0, "strongSwan"},  // an IKE proposal: PRF and group noted
    {"aes256-sha256-modp2048", 0, 12, 256, 12, "strongSwan"},
    {"aes128gcm16-x25519-esn", 0, 20, 128, 0, "strongSwan"},
    // Cisco IOS transform sets
    {"esp-aes 256 esp-sha-hmac", 0, 12, 256, 2, "Cisco IOS"},
    {"esp-aes esp-sha256-hmac", 0, 12, 128, 12, "Cisco IOS"},       // esp-aes alone is 128 bits
    {"esp-aes 192 esp-sha384-hmac", 0, 12, 192, 13, "Cisco IOS"},
    {"esp-gcm 256", 0, 20, 256, 0, "Cisco IOS"},
    {"esp-gcm", 0, 20, 128, 0, "Cisco IOS"},
    {"esp-gmac 128", 0, 21, 128, 0, "Cisco IOS"},
    {"esp-null esp-sha-hmac", 0, 11, 0, 2, "Cisco IOS"},
    {"crypto ipsec transform-set TS esp-aes 256 esp-sha512-hmac", 0, 12, 256, 14, "Cisco IOS"},
    // Linux ip xfrm: aead NAME KEY ICV-BITS; enc NAME KEY + auth-trunc NAME KEY BITS
    {"rfc4106(gcm(aes)) 128", 36, 20, 256, 0, "Linux xfrm"},
    {"rfc4106(gcm(aes)) 64", 20, 18, 128, 0, "Linux xfrm"},
    {"rfc4309(ccm(aes)) 128", 19, 16, 128, 0, "Linux xfrm"},
    {"rfc4543(gcm(aes)) 128", 36, 21, 256, 0, "Linux xfrm"},
    {"rfc7539esp(chacha20,poly1305) 128", 36, 28, 256, 0, "Linux xfrm"},
    {"cbc(aes) hmac(sha256) 128", 32, 12, 256, 12, "Linux xfrm"},
    {"cbc(aes) hmac(sha1) 96", 16, 12, 128, 2, "Linux xfrm"},
    {"cbc(aes) hmac(sha1)", 16, 12, 128, 2, "Linux xfrm"},            // 'auth hmac(sha1)': the kernel's 96
    {"rfc3686(ctr(aes)) hmac(sha512) 256", 36, 13, 256, 14, "Linux xfrm"},
    // encap's own
    {"aes-256-gcm-16", 0, 20, 256, 0, "encap"},
    {"aes-256-gcm", 0, 20, 256, 0, "encap"},                          // ICV 16, as vendors default
    {"aes-128-ccm", 0, 16, 128, 0, "encap"},
    {"aes-256-cbc,hmac-sha1-96", 0, 12, 256, 2, "encap"},
};
// clang-format on

}  // namespace

TEST_SUITE("suite_names") {
  TEST_CASE("every accepted spelling means what its source defines (IANA transform IDs and key sizes)") {
    for (const row& r : rows) {
      const std::string text = r.text;
      CAPTURE(text);
      const auto n = parse_suite_name(r.text, r.keymat);
      REQUIRE_MESSAGE(n, n.error().format(r.text));
      CHECK(n->suite.c().ikev2_id == r.encr_id);
      CHECK(n->suite.c().key_size * 8 == r.key_bits);
      CHECK((n->suite.c().aead ? 0 : n->suite.i().ikev2_id) == r.integ_id_iana);
      CHECK(n->dialect == r.dialect);
    }
  }

  TEST_CASE("strongSwan: -esn/-noesn recorded; key exchange groups and PRFs noted as irrelevant to the data path") {
    const auto a = parse_suite_name("aes128gcm16-x25519-esn");
    REQUIRE(a);
    CHECK(a->esn == true);
    REQUIRE(a->notes.size() == 1);
    CHECK(a->notes[0] == "x25519: a key exchange (Diffie-Hellman) group, irrelevant to the data path");
    CHECK(parse_suite_name("aes128gcm16-noesn")->esn == false);
    CHECK_FALSE(parse_suite_name("aes128gcm16")->esn.has_value());
    CHECK(parse_suite_name("aes256gcm16-prfsha384-ecp384")->notes.size() == 2);
  }

  TEST_CASE("refusals say why, at the token") {
    struct bad { const char* text; std::size_t keymat; std::size_t offset; const char* message; };
    for (const bad& b : {
             bad{"aes256", 0, 0, "aes256 needs an integrity algorithm, e.g. aes256-sha256"},
             bad{"aes256-sha256_96", 0, 7, "HMAC-SHA-256-96 (strongSwan's sha256_96, the pre-RFC 4868 truncation) is not supported: use sha256 (128 bits)"},
             bad{"aes256gcm16-aes128gcm16", 0, 12, "a second encryption algorithm: a proposal offering a choice is negotiated to one; name the one the SA uses"},
             bad{"esp-null", 0, 0, "esp-null needs an integrity transform, e.g. esp-null esp-sha256-hmac"},
             bad{"esp-aes 512 esp-sha-hmac", 0, 8, "an AES key is 128, 192 or 256 bits"},
             bad{"ah-sha-hmac", 0, 0, "an AH transform: encap carries ESP only"},
             bad{"cbc(aes) hmac(sha256)", 32, 9, "hmac(sha256) truncated to 96 bits (the kernel's default for 'auth', net/xfrm/xfrm_algo.c) is not hmac-sha256-128: use auth-trunc hmac(sha256) KEY 128"},
             bad{"rfc4106(gcm(aes))", 36, 0, "rfc4106(gcm(aes)) needs its ICV length in bits (ip xfrm: aead rfc4106(gcm(aes)) KEY ICV-BITS), e.g. 'rfc4106(gcm(aes)) 128'"},
             bad{"rfc4106(gcm(aes)) 128", 0, 0, "Linux xfrm names carry no AES key size: the key's length gives it; name the suite here, e.g. aes-256-gcm-16"},
             bad{"rfc4106(gcm(aes)) 100", 36, 18, "an ICV length is 64, 96 or 128 bits"},
         }) {
      CAPTURE(b.text);
      const auto n = parse_suite_name(b.text, b.keymat);
      REQUIRE_FALSE(n);
      CHECK(n.error().message == b.message);
      CHECK(n.error().offset == b.offset);
    }
  }

  TEST_CASE("an unknown name gets the nearest valid spellings") {
    CHECK(parse_suite_name("aes256gcm").error().message == "unknown suite name 'aes256gcm'; did you mean 'aes256gcm8', 'aes256gcm12', 'aes256gcm16'?");
    CHECK(parse_suite_name("aes-256-cbx").error().message.find("did you mean 'aes-256-cbc'") != std::string::npos);
    CHECK(parse_suite_name("esp-aes 256 esp-sha-hamc").error().message == "unknown transform 'esp-sha-hamc'; did you mean 'esp-sha-hmac'?");
    CHECK(parse_suite_name("chacha20poly1350").error().message.find("'chacha20poly1305'") != std::string::npos);
    CHECK(parse_suite_name("cbc(aes) hmac(sha265) 128", 32).error().message.find("did you mean 'hmac(sha256)'") != std::string::npos);
    CHECK(parse_suite_name("zzzzzzzzzzzzzzzzzzzz").error().message == "unknown suite name 'zzzzzzzzzzzzzzzzzzzz'");
  }

  TEST_CASE("the spec grammar (and so tunnel-mtu) takes the same names") {
    for (const char* t : {"ipv4/udp(4500)/esp(aes256gcm16-x25519)/ipv4", "ipv4/esp(esp-aes 256 esp-sha-hmac)/ipv4/gre",
                          "ipv4/esp(aes-256-gcm)/ipv4", "ipv4/esp(aes-256-cbc,sha256)/ipv4"}) {
      CAPTURE(t);
      const auto s = parse_spec(t);
      REQUIRE_MESSAGE(s, s.error().format(t));
    }
    CHECK(parse_spec("ipv4/udp(4500)/esp(aes256gcm16-x25519)/ipv4")->rules[2] == esp_rule(aes_256_gcm_16::value));
    CHECK(parse_spec("ipv4/esp(esp-aes 256 esp-sha-hmac)/ipv4/gre")->rules[1] == esp_rule(aes_256_cbc_hmac_sha1_96::value));
    const auto e = parse_spec("ipv4/esp(aes256gcm)/ipv4");
    REQUIRE_FALSE(e);
    CHECK(e.error().offset == 9);
    CHECK(e.error().message.find("did you mean 'aes256gcm8', 'aes256gcm12', 'aes256gcm16'") != std::string::npos);
  }
}

TEST_SUITE("sa_config") {
  TEST_CASE("ip xfrm state lines (ip-xfrm(8)) parse into SA configurations, keys checked against the suite") {
    const std::string k36 = "0x" + std::string(72, 'a'), k32 = "0x" + std::string(64, 'b'), k20 = "0x" + std::string(40, 'c');
    const auto g = parse_xfrm_state("ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0xc0de0001 reqid 1 mode tunnel "
                                    "replay-window 128 flag esn aead 'rfc4106(gcm(aes))' " + k36 + " 128 encap espinudp 4500 4501 0.0.0.0");
    REQUIRE_MESSAGE(g, g.error().message);
    CHECK(g->spi == 0xc0de0001);
    CHECK(g->suite == aes_256_gcm_16::value);
    CHECK(g->esn);
    CHECK(g->replay_window == 128);
    CHECK(g->mode == esp_mode::tunnel);
    CHECK(g->encap_sport == 4500);
    CHECK(g->encap_dport == 4501);
    CHECK(g->encryption_key == std::vector<std::uint8_t>(36, 0xaa));
    CHECK(g->src == "192.0.2.1");
    const auto c = parse_xfrm_state("src 2001:db8::1 dst 2001:db8::2 proto esp spi 4096 mode transport enc cbc(aes) " + k32 +
                                    " auth-trunc hmac(sha1) " + k20 + " 96");
    REQUIRE_MESSAGE(c, c.error().message);
    CHECK(c->suite == aes_256_cbc_hmac_sha1_96::value);
    CHECK(c->ipv6);
    CHECK(c->integrity_key.size() == 20);
    // the esp_sa takes the configuration as it is
    const esp_sa<botan_backend> sa(c->config());
    CHECK(sa.spi() == 4096);
  }

  TEST_CASE("bad xfrm lines: the error points at the token") {
    const std::string k32 = "0x" + std::string(64, 'b'), k20 = "0x" + std::string(40, 'c');
    struct bad { std::string line; std::string token; std::string message; };
    for (const bad& b : {
             bad{"src 1.1.1.1 dst 2.2.2.2 proto ah spi 0x1000 enc cbc(aes) " + k32, "ah", "encap carries ESP: proto esp, not ah"},
             bad{"src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x10 enc cbc(aes) " + k32, "0x10", "an SPI is 256 to 0xffffffff (RFC 4303 §2.1: 1-255 are reserved)"},
             bad{"src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1000 aead rfc4106(gcm(aes)) 0x0102 128", "0x0102",
                 "rfc4106(gcm(aes)) with a 2-byte key (salt included) and a 128-bit ICV is no suite encap knows"},
             bad{"src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1000 enc cbc(aes) " + k32 + " auth-trunc hmac(sha1) 0x0102 96", "0x0102",
                 "aes-256-cbc,hmac-sha1-96 takes a 20-byte integrity key, not 2"},
             bad{"src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1000 enc cbc(aes) " + k32 + " auth hmac(sha256) " + k32, k32.substr(0, 1),
                 "hmac(sha256) truncated to 96 bits (the kernel's default for 'auth', net/xfrm/xfrm_algo.c) is not hmac-sha256-128: use auth-trunc hmac(sha256) KEY 128"},
             bad{"src 1.1.1.1 dst 2.2.2.2 proto esp spi 0x1000 enc cbc(aes) " + k32 + " frobnicate 1", "frobnicate", "unknown ip xfrm state keyword 'frobnicate'"},
         }) {
      CAPTURE(b.line);
      const auto r = parse_xfrm_state(b.line);
      REQUIRE_FALSE(r);
      CHECK(r.error().message == b.message);
      CHECK(b.line.substr(r.error().offset, b.token.size()) == b.token);
    }
  }

  TEST_CASE("Wireshark esp_sa lines: parse, and wireshark_sa() writes the same line back") {
    for (const std::string& line : {
             std::string("\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x00001001\",\"AES-CBC [RFC3602]\",\"0x") + std::string(64, '1') +
                 "\",\"HMAC-SHA-1-96 [RFC2404]\",\"0x" + std::string(40, '2') + "\"",
             std::string("\"IPv6\",\"2001:db8::1\",\"2001:db8::2\",\"0xc0de0002\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x") +
                 std::string(40, '3') + "\",\"NULL\",\"\"",
             std::string("\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x00002000\",\"AES-CTR [RFC3686]\",\"0x") + std::string(72, '4') +
                 "\",\"HMAC-SHA-256-128 [RFC4868]\",\"0x" + std::string(64, '5') + "\""}) {
      CAPTURE(line);
      const auto e = parse_wireshark_sa(line);
      REQUIRE_MESSAGE(e, e.error().format(line));
      CHECK(wireshark_sa(*e) == line);
    }
    const auto e = parse_wireshark_sa("\"IPv4\",\"1.1.1.1\",\"2.2.2.2\",\"0x00001001\",\"AES-CBC [RFC3602]\",\"0x0102\",\"NULL\",\"\"");
    REQUIRE_FALSE(e);
    CHECK(e.error().message == "no AES-CBC [RFC3602] suite takes a 2-byte key");
    CHECK(e.error().offset == std::string_view("\"IPv4\",\"1.1.1.1\",\"2.2.2.2\",\"0x00001001\",\"AES-CBC [RFC3602]\",").size());
  }
}
