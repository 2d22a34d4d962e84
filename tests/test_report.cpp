// tunnel-mtu's report (examples/tunnel_mtu_report.hpp, tunnel_mtu_emit.hpp): every labelled
// figure equals the figure it names, checked against formulas written here independently
// of encap's tables (the kernel's xfrm_state_mtu(), DESIGN.md's worked example, RFC 8200).
// Cisco's published outputs are checked through the CLI (tests/cmake/tunnel_mtu_cli.cmake).
#include "../examples/tunnel_mtu_emit.hpp"
#include "../examples/tunnel_mtu_report.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace encap;
namespace rep = encap::report;

namespace {

stack_spec spec(const std::string& text) {
  auto r = parse_spec(text);
  REQUIRE_MESSAGE(r.has_value(), text);
  return *r;
}

// Linux net/xfrm/xfrm_state.c, xfrm_state_mtu() (esp4_get_mtu()/esp6_get_mtu() before 5.12),
// with esp_init_state()'s header_len (net/ipv4/esp4.c, net/ipv6/esp6.c): the ESP header and
// IV, the outer IP header in tunnel mode, 8 more for UDP_ENCAP_ESPINUDP.
//   return ((mtu - x->props.header_len - crypto_aead_authsize(aead) - net_adj) & ~(blksize - 1)) + net_adj - 2;
// with blksize = ALIGN(crypto_aead_blocksize(aead), 4) and net_adj the IP header in transport mode.
enum class encap_type { none, espinudp, espintcp };
unsigned kernel_xfrm_state_mtu(unsigned mtu, bool tunnel, bool ipv6, encap_type encap, unsigned ivsize, unsigned authsize,
                               unsigned blocksize) {
  unsigned header_len = 8 + ivsize;          // sizeof(struct ip_esp_hdr) + crypto_aead_ivsize()
  if (tunnel) header_len += ipv6 ? 40 : 20;  // sizeof(struct ipv6hdr) / sizeof(struct iphdr)
  if (encap == encap_type::espinudp) header_len += 8;  // sizeof(struct udphdr)
  if (encap == encap_type::espintcp) header_len += 2;  // "only the length field, TCP encap is done by the socket"
  const unsigned blksize = (blocksize + 3) & ~3u;
  const unsigned net_adj = tunnel ? 0 : ipv6 ? 40 : 20;
  return ((mtu - header_len - authsize - net_adj) & ~(blksize - 1)) + net_adj - 2;
}

// The kernel's view of each suite: crypto_aead_ivsize / blocksize of the xfrm algorithm
// (crypto/ and net/xfrm/xfrm_algo.c) and the ICV in bytes (authsize; the integrity
// algorithms' truncation from RFC 2404, 2403, 3566, 4494, 4868). strongSwan's names.
struct kernel_alg { const char* proposal; unsigned iv, block, icv; };
constexpr kernel_alg kernel_algs[] = {
    {"aes128-sha1", 16, 16, 12},        // cbc(aes) + hmac(sha1) 96
    {"aes256-sha1", 16, 16, 12},
    {"aes256-sha256", 16, 16, 16},      // hmac(sha256) 128 (RFC 4868)
    {"aes192-sha384", 16, 16, 24},
    {"aes256-sha512", 16, 16, 32},
    {"aes128-md5", 16, 16, 12},
    {"aes128-aesxcbc", 16, 16, 12},
    {"3des-sha1", 8, 8, 12},            // cbc(des3_ede)
    {"aes128ctr-sha256", 8, 1, 16},     // rfc3686(ctr(aes))
    {"aes128gcm8", 8, 1, 8},            // rfc4106(gcm(aes))
    {"aes128gcm12", 8, 1, 12},
    {"aes256gcm16", 8, 1, 16},
    {"aes128ccm16", 8, 1, 16},          // rfc4309(ccm(aes))
    {"aes256gmac", 8, 1, 16},           // rfc4543(gcm(aes))
    {"chacha20poly1305", 8, 1, 16},     // rfc7539esp(chacha20,poly1305)
    {"null-sha256", 0, 1, 16},          // ecb(cipher_null)
};

}  // namespace

TEST_SUITE("report") {
  TEST_CASE("Cisco 'plaintext mtu' and Linux xfrm_state_mtu() equal the kernel's formula: tunnel, transport, NAT-T, TCP") {
    int checked = 0;
    for (const kernel_alg& a : kernel_algs)
      for (const bool ipv6 : {false, true})
        for (const bool tunnel : {true, false})
          for (const encap_type encap : {encap_type::none, encap_type::espinudp, encap_type::espintcp})
            for (unsigned mtu = 1280; mtu <= 9000; mtu += 97) {
              const std::string ip = ipv6 ? "ipv6" : "ipv4";
              const std::string carrier = encap == encap_type::espinudp ? "/udp" : encap == encap_type::espintcp ? "/tcp" : "";
              const std::string text = ip + carrier + "/esp(" + a.proposal + (tunnel ? ")/ipv4/gre" : ",transport)/gre");
              const stack_spec s = spec(text);
              const auto e = rep::esp_figures(s, mtu);
              REQUIRE(e.present);
              REQUIRE(e.linux_mtu.has_value());
              const unsigned want = kernel_xfrm_state_mtu(mtu, tunnel, ipv6, encap, a.iv, a.icv, a.block);
              CHECK_MESSAGE(e.linux_mtu.val == want, text, " at ", mtu);
              if (encap != encap_type::espintcp) {
                CHECK_MESSAGE(e.vendor == e.linux_mtu, text, " at ", mtu);  // Cisco's is the same figure
                // encap's own figure is the ESP payload: the kernel's less the kept IP header
                CHECK_MESSAGE(e.plaintext.val + (tunnel ? 0 : ipv6 ? 40 : 20) == want, text, " at ", mtu);
              }
              ++checked;
            }
    CHECK(checked == 16 * 2 * 2 * 3 * 80);
  }

  TEST_CASE("the worked example, step by step (DESIGN.md: 1480, 36, 1440, 1438, 1414, 1374, 1496)") {
    const stack_spec s = spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre");
    const auto steps = rep::explain(s, 1500);
    auto value_of = [&](const std::string& what) -> std::size_t {
      for (const auto& e : steps)
        if (e.what == what) return e.value;
      FAIL("no step ", what);
      return 0;
    };
    CHECK(value_of("underlay MTU") == 1500);
    CHECK(steps[1].what == "ipv4");
    CHECK(steps[1].value == 1480);
    CHECK(value_of("esp fixed parts") == 36);
    CHECK(value_of("esp encrypted part") == 1440);
    CHECK(value_of("esp payload") == 1438);
    CHECK(value_of("gre") == 1414);
    CHECK(value_of("max inner packet") == 1414);
    CHECK(value_of("TCP MSS (IPv4)") == 1374);
    CHECK(value_of("TCP MSS (IPv6)") == 1354);
    CHECK(value_of("on the wire") == 1496);
    CHECK(steps[3].formula == "floor((1480 - 36) / 16) * 16");
  }

  TEST_CASE("the packet layout of the largest reference packet adds up to the wire size (DESIGN.md: 1496)") {
    const stack_spec s = spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre");
    const auto segs = rep::packet_layout(s, 1500);
    // outer IPv4 20, SPI+seq 8, IV 16, delivery IPv4 20, GRE 4, inner 1414, no padding
    // (1438 + 2 = 1440 is already a multiple of 16), pad length + next header 2, ICV 12
    const std::vector<std::size_t> want{20, 8, 16, 20, 4, 1414, 2, 12};
    REQUIRE(segs.size() == want.size());
    std::size_t at = 0;
    for (std::size_t i = 0; i < segs.size(); ++i) {
      CHECK(segs[i].length == want[i]);
      CHECK(segs[i].offset == at);
      at += segs[i].length;
    }
    CHECK(at == 1496);
    CHECK_FALSE(segs[2].encrypted);  // the IV travels in the clear
    CHECK(segs[3].encrypted);
    CHECK(segs[6].encrypted);        // pad length and next header are inside the ciphertext
    CHECK_FALSE(segs[7].encrypted);  // the ICV is not
    const std::string svg = rep::diagram_svg(s, 1500);
    CHECK(svg.find("<svg") == 0);
    CHECK(svg.find("1496 bytes on the wire, 4 of 1500 unused") != std::string::npos);
  }

  TEST_CASE("IPv6's 1280 (RFC 8200 §5), IPv4's 68 (RFC 791) and the 16-bit length limits") {
    // an IPv6 tunnel through a 1300-byte underlay: 1300 - 20 - 8 - 16 - 12 = 1244 -> 1232 - 2 = 1230 < 1280.
    // Carrying 1280: 1280 + 2 -> 1296 (a multiple of 16) + 8 + 16 + 12 + 20 = 1352.
    const auto w = rep::limit_warnings(spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv6"), 1300);
    REQUIRE(w.size() == 1);
    CHECK(w[0].find("its MTU 1230 is below IPv6's minimum of 1280") != std::string::npos);
    CHECK(w[0].find("raise the underlay MTU to 1352") != std::string::npos);
    CHECK(rep::limit_warnings(spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv6"), 1352).empty());
    // an IPv6 underlay below 1280 is itself a broken link
    const auto u = rep::limit_warnings(spec("ipv6/gre/ipv4"), 1200);
    REQUIRE(u.size() == 1);
    CHECK(u[0].find("layer 1 (ipv6) runs over a 1200-byte link MTU") != std::string::npos);
    // a tunnel that says it carries IPv4 gets no IPv6 warning
    CHECK(rep::limit_warnings(spec("ipv4/gre/ipv4"), 1300).empty());
    // GRE may carry IPv6 too: the warning is conditional
    CHECK(rep::limit_warnings(spec("ipv4/gre"), 1300).at(0).find("if the tunnel carries IPv6") == 0);
    // IPv4 links below 68
    CHECK(rep::limit_warnings(spec("ipv4/ipv4"), 60).at(0).find("below IPv4's minimum of 68") != std::string::npos);
    // 16-bit lengths: IPv4 65535; with Ethernet in front, 65549; IPv6 65535 + 40
    CHECK_FALSE(rep::mtu_problem(spec("ipv4/gre/ipv4"), 65535));
    CHECK(rep::mtu_problem(spec("ipv4/gre/ipv4"), 65536)->find("IPv4's Total Length is 16 bits") != std::string::npos);
    CHECK_FALSE(rep::mtu_problem(spec("eth/ipv4/gre/ipv4"), 65549));
    CHECK(rep::mtu_problem(spec("eth/ipv4/gre/ipv4"), 65550)->find("at most 65549") != std::string::npos);
    CHECK_FALSE(rep::mtu_problem(spec("ipv6/gre/ipv4"), 65575));
    CHECK(rep::mtu_problem(spec("ipv6/gre/ipv4"), 65576));
  }

  TEST_CASE("below IP, --mtu is the frame: the report says so and names the IP MTU") {
    const auto m = rep::mtu_meaning(spec("eth(vlan)/ipv4/gre/ipv4"), 1518);
    REQUIRE(m);
    CHECK(m->find("the whole eth frame") != std::string::npos);
    CHECK(m->find("IP MTU of the ipv4 layer it carries is 1500") != std::string::npos);  // 1518 - 14 - 4
    CHECK_FALSE(rep::mtu_meaning(spec("ipv4/gre/ipv4"), 1500));
  }

  TEST_CASE("--emit: each platform's lines carry the reference figures (1414, MSS 1374 and 1354; ping -s 1386)") {
    const stack_spec s = spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre");
    std::string error;
    auto has = [&](const char* platform, const char* line) {
      const auto out = rep::emit(platform, s, 1500, {}, error);
      REQUIRE_MESSAGE(out, platform, ": ", error);
      CHECK_MESSAGE(out->find(line) != std::string::npos, platform, " lacks '", line, "' in\n", *out);
    };
    has("cisco", "\n ip mtu 1414\n ip tcp adjust-mss 1374\n ipv6 mtu 1414\n ipv6 tcp adjust-mss 1354\n");
    has("cisco", "ping PEER size 1414 df-bit");  // Cisco's size is the whole datagram
    has("linux", "ip link set dev tun0 mtu 1414\n");
    has("linux", "ping -M do -s 1386 -c 3 PEER");  // 1386 + 8 + 20 = 1414
    has("linux", "ping -M do -s 1387 -c 1 PEER");
    has("linux", "ping -6 -M do -s 1366 -c 3 PEER6");  // 1366 + 8 + 40 = 1414
    has("nft", "tcp option maxseg size > 1374 tcp option maxseg size set 1374");
    has("iptables", "--mss 1375:65535 -j TCPMSS --set-mss 1374");
    has("juniper", "set interfaces st0 unit 0 family inet mtu 1414");
    has("juniper", "set security flow tcp-mss ipsec-vpn mss 1354");  // one value for both families
    has("fortios", "set mtu 1414\n");
    has("windows", "ping -f -l 1386 PEER");
    CHECK_FALSE(rep::emit("wg", s, 1500, {}, error));
    CHECK(error.find("needs a stack with a wireguard layer") != std::string::npos);
    CHECK_FALSE(rep::emit("vyos", s, 1500, {}, error));
    CHECK(error.find("one of: cisco, linux") != std::string::npos);
    // wg-quick's MTU for WireGuard over IPv6 on 1500: 1420 (wg-quick(8)'s 80 bytes)
    const auto wg = rep::emit("wg", spec("ipv6/udp/wireguard/ipv4"), 1500, {}, error);
    REQUIRE(wg);
    CHECK(wg->find("[Interface]\nMTU = 1420\n") != std::string::npos);
    // a tunnel below 1280 gets no IPv6 lines (RFC 8200 §5)
    const auto small = rep::emit("cisco", s, 1300, {"Tunnel7", "10.0.0.2"}, error);
    REQUIRE(small);
    CHECK(small->find("interface Tunnel7") != std::string::npos);
    CHECK(small->find("\n ipv6") == std::string::npos);  // no "ipv6 mtu" line
    CHECK(small->find("ping 10.0.0.2 size 1206 df-bit") != std::string::npos);
  }
}

// The layers beyond ESP, each against arithmetic written here from its specification.
TEST_SUITE("report") {
  TEST_CASE("AH (RFC 4302 §2: 12 + ICV, padded to 4 bytes over IPv4 and 8 over IPv6; AES-GMAC + 8 IV, RFC 4543)") {
    auto inner = [](const char* text, std::size_t mtu = 1500) { return max_inner_size(spec(text), mtu).value_or(0); };
    CHECK(inner("ipv4/ah(hmac-sha1-96)/ipv4") == 1500 - 20 - (12 + 12));
    CHECK(inner("ipv4/ah(sha256)/ipv4") == 1500 - 20 - (12 + 16));          // 28: a multiple of 4
    CHECK(inner("ipv6/ah(sha256)/ipv6") == 1500 - 40 - 32);                 // 28 padded to 32 over IPv6
    CHECK(inner("ipv6/dstopts/ah(sha256)/ipv6") == 1500 - 40 - 8 - 32);     // still IPv6 after an extension header
    CHECK(inner("ipv4/ah(aes-gmac-128)/ipv4") == 1500 - 20 - (12 + 8 + 16));
    CHECK(inner("ipv6/ah(aes-gmac-256)/ipv4") == 1500 - 40 - 40);           // 36 padded to 40
    CHECK(inner("ipv4/ah(sha1)/gre") == 1500 - 20 - 24 - 4);                // transport: AH protects GRE
    // AH + ESP: ESP gets what AH leaves, 1456; floor((1456 - 36) / 16) * 16 - 2 = 1408 - 2 = 1406
    CHECK(inner("ipv4/ah(hmac-sha1-96)/esp(aes-256-cbc,hmac-sha1-96)/ipv4") == 1406);
    CHECK_FALSE(parse_spec("ipv4/ah/ipv4"));
    CHECK_FALSE(parse_spec("ipv4/ah(aes-256-cbc)/ipv4"));
  }

  TEST_CASE("ESP in TCP (RFC 8229 §3: a 2-byte length before each ESP packet); the kernel leaves the TCP header out") {
    // 1500 - 20 (IPv4) - 20 (TCP) = 1460; ESP 8 + 8 (IV) + 16 (ICV) + 2 (length) = 34: floor(1426 / 4) * 4 - 2 = 1422
    const stack_spec s = spec("ipv4/tcp/esp(aes-256-gcm-16)/ipv4");
    CHECK(max_inner_size(s, 1500).value_or(0) == 1422);
    const auto e = rep::esp_figures(s, 1500);
    CHECK(e.plaintext.val == 1422);
    // esp_init_state: header_len = 8 + 8 + 20 (tunnel) + 2 (TCP_ENCAP_ESPINTCP)
    CHECK(e.linux_mtu.val == ((1500 - (8 + 8 + 20 + 2) - 16) & ~3u) - 2);
    CHECK_FALSE(e.vendor.has_value());  // no Cisco figure for it
    CHECK(max_inner_size(spec("ipv4/tcp(options=12)/esp(aes-256-gcm-16)/ipv4"), 1500).value_or(0) == 1410);
    CHECK_FALSE(parse_spec("ipv4/tcp(options=42)/esp(aes-256-gcm-16)/ipv4"));
  }

  TEST_CASE("IP-TFS (RFC 9347: a 4-byte AGGFRAG header, 24 with congestion control): a payload per outer packet") {
    // ESP plaintext for AES-256-GCM over IPv4 at 1500: floor((1480 - 32) / 4) * 4 - 2 = 1446
    const auto t = rep::iptfs_of(spec("ipv4/esp(aes-256-gcm-16)/iptfs/ipv4"), 1500);
    REQUIRE(t.present);
    CHECK(t.payload == 1446 - 4);
    CHECK(t.overhead == 1500 - 1442);
    CHECK(rep::iptfs_of(spec("ipv4/esp(aes-256-gcm-16)/iptfs(cc)/ipv4"), 1500).payload == 1446 - 24);
    CHECK(rep::iptfs_cost(t, 1442) == doctest::Approx(58.0));  // a full outer packet's worth costs one overhead
    CHECK(rep::limit_warnings(spec("ipv4/esp(aes-256-gcm-16)/iptfs/ipv6"), 1000).empty());  // no tunnel MTU to be below 1280
    std::string error;
    CHECK_FALSE(rep::emit("linux", spec("ipv4/esp(aes-256-gcm-16)/iptfs/ipv4"), 1500, {}, error));
    CHECK_FALSE(parse_spec("ipv4/iptfs/ipv4"));  // AGGFRAG rides in ESP only
  }

  TEST_CASE("IPv6 extension headers (RFC 8200 §4) and IPv4 options (RFC 791)") {
    auto inner = [](const char* text) { return max_inner_size(spec(text), 1500).value_or(0); };
    CHECK(inner("ipv6/srh(3)/ipv6") == 1500 - 40 - (8 + 16 * 3));          // SRv6 H.Encaps with 3 segments
    CHECK(inner("ipv6/srh(2,tlv=8)/ipv6") == 1500 - 40 - (8 + 32 + 8));
    CHECK(inner("ipv6/hbh/dstopts(16)/frag/gre/ipv4") == 1500 - 40 - 8 - 16 - 8 - 4);
    CHECK(inner("ipv4(options=8)/gre/ipv4") == 1500 - 28 - 4);
    CHECK_FALSE(parse_spec("ipv6/dstopts/hbh/ipv6"));      // hop-by-hop comes first (RFC 8200 §4.3)
    CHECK_FALSE(parse_spec("ipv4/srh(2)/ipv6"));           // IPv6 only
    CHECK_FALSE(parse_spec("ipv6/hbh(12)/ipv6"));          // 8-byte units
    CHECK_FALSE(parse_spec("ipv6/srh(128)/ipv6"));
    CHECK_FALSE(parse_spec("ipv4(options=44)/gre/ipv4"));  // 40 at most
    CHECK_FALSE(parse_spec("ipv4(options=6)/gre/ipv4"));   // 4-byte words
  }

  TEST_CASE("OpenVPN's data channel: P_DATA_V2 4 bytes; AEAD + packet ID 4 + tag 16; CBC: HMAC, IV, PKCS#7") {
    auto inner = [](const char* text) { return max_inner_size(spec(text), 1500).value_or(0); };
    CHECK(inner("ipv4/udp/openvpn(aes-256-gcm)/ipv4") == 1500 - 20 - 8 - (4 + 4 + 16));       // 52 bytes of overhead
    CHECK(inner("ipv6/udp/openvpn(chacha20-poly1305)/ipv6") == 1500 - 40 - 8 - 24);
    CHECK(inner("ipv4/tcp/openvpn(aes-256-gcm)/ipv4") == 1500 - 20 - 20 - 2 - 24);           // + 2-byte length on TCP
    // CBC: 1472 - (4 + 20 SHA1 + 16 IV) = 1432 -> 1424 (16-byte blocks) - 4 (packet ID) - 1 (a pad byte at least)
    CHECK(inner("ipv4/udp/openvpn(aes-256-cbc,sha1)/ipv4") == 1419);
    CHECK(inner("ipv4/udp/openvpn(aes-256-cbc,sha1,comp)/ipv4") == 1418);
    CHECK(inner("ipv4/udp/openvpn(aes-128-cbc,sha256)/ipv4") == ((1472 - (4 + 32 + 16)) / 16) * 16 - 5);
    CHECK(inner("ipv4/udp/openvpn(aes-256-gcm)/eth") == 1448 - 14);                            // tap mode
    CHECK_FALSE(parse_spec("ipv4/udp/openvpn(aes-256-gcm,sha256)/ipv4"));  // AEAD takes no digest
    CHECK_FALSE(parse_spec("ipv4/udp/openvpn/ipv4"));
  }

  TEST_CASE("GTP-U (TS 29.281 §5.1: 8 bytes, 12 with the optional fields; PDU Session Container 4, TS 38.415)") {
    auto inner = [](const char* text) { return max_inner_size(spec(text), 1500).value_or(0); };
    CHECK(inner("ipv4/udp/gtpu/ipv4") == 1500 - 20 - 8 - 8);  // the usual 36 bytes of GTP-U over IPv4
    CHECK(inner("ipv4/udp/gtpu(seq)/ipv4") == 1500 - 20 - 8 - 12);
    CHECK(inner("ipv6/udp/gtpu(pdu_session)/ipv4") == 1500 - 40 - 8 - 16);
    CHECK_FALSE(parse_spec("ipv4/udp/gtpu(ext=6)/ipv4"));
  }

  TEST_CASE("every layer in the table parses, prints and parses back to the same rules") {
    const char* specs[] = {"ipv4(options=4)/ah(hmac-sha1-96)/esp(aes-128-gcm-16)/ipv4", "ipv6/hbh(16)/dstopts/srh(2,tlv=8)/frag/udp/vxlan/eth/ipv4",
                           "ipv4/tcp(options=12)/openvpn(aes-128-cbc,sha256,comp,v1)/eth", "ipv4/esp(aes-256-gcm-16)/iptfs(cc)/ipv6",
                           "ipv4/udp/gtpu(ext=8)/ipv6", "ipv6/ah(aes-gmac-192)/gre/mpls(2)/ipv4"};
    for (const char* text : specs) {
      const stack_spec a = spec(text);
      const stack_spec b = spec(to_string(a));
      CHECK_MESSAGE(a.rules == b.rules, text, " -> ", to_string(a));
    }
    // and the names come from the table
    for (const layer_info& l : layer_table) CHECK(layer_by_name(l.name).kind == l.kind);
  }
}
