// encap/layer_table.hpp — every layer encap knows, one row each: its name in specs and
// reports, what it may carry, the numbers that announce it on the wire, its argument
// grammar and where its sizes come from. The single source for layering.hpp's carrying
// rules, the spec's names and messages and the reports. Standard library only.
//
// Adding a layer: an enumerator at the end of layer_kind, a row at the same index (the
// static_asserts check the order), its rule in layers/, and the cases the compiler then
// asks for (spec.hpp's argument parser and printer switch over every kind, no default).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace encap {
inline namespace v0 {

// What a layer is. The numbering is internal (and at most 32 kinds: the carrying sets are
// 32-bit masks).
enum class layer_kind : std::uint8_t {
  ipv4, ipv6, udp, gre, esp,
  ethernet, pppoe, mpls, vxlan, geneve, l2tpv3, macsec, wireguard,
  ah, tcp, iptfs, hbh, dstopts, srh, frag, openvpn, gtpu,
};

constexpr std::uint32_t bit(layer_kind k) noexcept { return std::uint32_t{1} << static_cast<unsigned>(k); }
template <class... K>
constexpr std::uint32_t kinds(K... k) noexcept { return (0u | ... | bit(k)); }

struct layer_info {
  layer_kind kind;
  std::string_view name;             // as specs and reports spell it
  std::string_view aliases;          // other accepted spellings, space-separated
  std::uint32_t carries;             // the layers it may carry (ESP: in tunnel mode)
  std::uint32_t carries_transport;   // ESP in transport mode (RFC 4303 §3.1); 0 for the rest
  bool on_link;                      // may be the outermost layer (what a link carries)
  bool data_path;                    // the endpoints build and open it; the rest are sizing only
  std::int16_t ip_proto;             // IP protocol / next header that announces it (-1: none)
  std::uint16_t ethertype;           // EtherType / GRE protocol type (0: none)
  std::uint16_t port;                // well-known UDP or TCP port (0: none)
  std::string_view grammar;          // its arguments, for help and messages
  std::string_view source;           // where its sizes come from
};

namespace layer_sets {
// What IP carries directly (IPIP, 6in4, IP6IP6, UDP, TCP, GRE, ESP, AH, L2TPv3, MPLS-in-IP);
// IPv6 adds its extension headers (RFC 8200 §4), which carry what IPv6 carries.
inline constexpr std::uint32_t over_ip = kinds(layer_kind::ipv4, layer_kind::ipv6, layer_kind::udp, layer_kind::tcp,
                                               layer_kind::gre, layer_kind::esp, layer_kind::ah, layer_kind::l2tpv3,
                                               layer_kind::mpls);
inline constexpr std::uint32_t v6_ext = kinds(layer_kind::dstopts, layer_kind::srh, layer_kind::frag);
}  // namespace layer_sets

inline constexpr layer_info layer_table[] = {
    {layer_kind::ipv4, "ipv4", "ip4 ip", layer_sets::over_ip, 0, true, true, 4, 0x0800, 0,
     "src=ADDRESS, dst=ADDRESS, ttl=N, options=N (0..40 bytes of IPv4 options, a multiple of 4)",
     "RFC 791: 20 bytes + options; Total Length 16 bits"},
    {layer_kind::ipv6, "ipv6", "ip6", layer_sets::over_ip | layer_sets::v6_ext | bit(layer_kind::hbh), 0, true, true, 41, 0x86DD, 0,
     "src=ADDRESS, dst=ADDRESS, hops=N", "RFC 8200: 40 bytes; Payload Length 16 bits"},
    {layer_kind::udp, "udp", "",
     kinds(layer_kind::esp, layer_kind::vxlan, layer_kind::geneve, layer_kind::wireguard, layer_kind::l2tpv3,
           layer_kind::mpls, layer_kind::gre, layer_kind::openvpn, layer_kind::gtpu),
     0, false, true, 17, 0, 0, "PORT, sport=N, dport=N", "RFC 768: 8 bytes; NAT-T RFC 3948"},
    {layer_kind::gre, "gre", "", kinds(layer_kind::ipv4, layer_kind::ipv6, layer_kind::ethernet, layer_kind::mpls), 0, false,
     true, 47, 0, 4754, "csum, key, key=N, seq", "RFC 2784, RFC 2890: 4 bytes + 4 per option"},
    {layer_kind::esp, "esp", "", kinds(layer_kind::ipv4, layer_kind::ipv6, layer_kind::iptfs),
     kinds(layer_kind::udp, layer_kind::tcp, layer_kind::gre, layer_kind::l2tpv3, layer_kind::mpls), false, true, 50, 0, 4500,
     "SUITE, tunnel|transport, pad=N, tfc=N", "RFC 4303: SPI, seq, IV, padding to the cipher's block, ICV"},
    {layer_kind::ethernet, "eth", "ethernet dot1q vlan qinq",
     kinds(layer_kind::ipv4, layer_kind::ipv6, layer_kind::mpls, layer_kind::pppoe, layer_kind::macsec), 0, true, false, 143,
     0x6558, 0, "vlan, qinq", "IEEE 802.3: 14 bytes, 802.1Q tags 4 each; no FCS"},
    {layer_kind::pppoe, "pppoe", "", kinds(layer_kind::ipv4, layer_kind::ipv6, layer_kind::mpls), 0, true, false, -1, 0x8864, 0,
     "", "RFC 2516: 6 bytes + 2 of PPP protocol"},
    {layer_kind::mpls, "mpls", "", kinds(layer_kind::ipv4, layer_kind::ipv6, layer_kind::ethernet, layer_kind::mpls), 0, true,
     false, 137, 0x8847, 6635, "N (labels, 1..16)", "RFC 3032: 4 bytes per label"},
    {layer_kind::vxlan, "vxlan", "", kinds(layer_kind::ethernet), 0, false, false, -1, 0, 4789, "", "RFC 7348: 8 bytes"},
    {layer_kind::geneve, "geneve", "", kinds(layer_kind::ethernet, layer_kind::ipv4, layer_kind::ipv6), 0, false, false, -1, 0,
     6081, "opt=N (0..252, a multiple of 4)", "RFC 8926: 8 bytes + options"},
    {layer_kind::l2tpv3, "l2tpv3", "", kinds(layer_kind::ethernet, layer_kind::pppoe), 0, false, false, 115, 0, 1701,
     "cookie=0|4|8, sublayer", "RFC 3931: session 4 + cookie + sublayer; +4 over UDP"},
    {layer_kind::macsec, "macsec", "", kinds(layer_kind::ipv4, layer_kind::ipv6, layer_kind::mpls, layer_kind::pppoe), 0,
     false, false, -1, 0x88E5, 0, "sci, nosci", "IEEE 802.1AE: SecTAG 16 (8 without SCI) + ICV 16"},
    {layer_kind::wireguard, "wireguard", "wg", kinds(layer_kind::ipv4, layer_kind::ipv6), 0, false, false, -1, 0, 51820, "",
     "WireGuard paper §5.4.6: 16 + padding to 16 + tag 16"},
    {layer_kind::ah, "ah", "", layer_sets::over_ip | kinds(layer_kind::ipv6), 0, false, false, 51, 0, 0,
     "INTEGRITY (hmac-sha1-96, hmac-sha256-128, aes-gmac-128, ...)",
     "RFC 4302: 12 + ICV, padded to 4 bytes (IPv4) or 8 (IPv6); AES-GMAC adds an 8-byte IV (RFC 4543)"},
    {layer_kind::tcp, "tcp", "", kinds(layer_kind::esp, layer_kind::openvpn), 0, false, false, 6, 0, 0,
     "PORT, options=N (0..40 bytes, a multiple of 4)",
     "RFC 9293: 20 bytes + options; a segment, so 'fits' means fits one segment"},
    {layer_kind::iptfs, "iptfs", "aggfrag", kinds(layer_kind::ipv4, layer_kind::ipv6), 0, false, false, 144, 0, 0, "cc",
     "RFC 9347: AGGFRAG header 4 bytes (24 with congestion control); inner packets are packed and split"},
    {layer_kind::hbh, "hbh", "hop-by-hop", layer_sets::over_ip | layer_sets::v6_ext, 0, false, false, 0, 0, 0,
     "N (total bytes, a multiple of 8, 8..2048)", "RFC 8200 §4.3: 2 + options, in 8-byte units"},
    {layer_kind::dstopts, "dstopts", "destination-options", layer_sets::over_ip | layer_sets::v6_ext, 0, false, false, 60, 0, 0,
     "N (total bytes, a multiple of 8, 8..2048)", "RFC 8200 §4.6: 2 + options, in 8-byte units"},
    {layer_kind::srh, "srh", "routing", layer_sets::over_ip | layer_sets::v6_ext, 0, false, false, 43, 0, 0,
     "N (segments, 1..127), tlv=N (bytes, a multiple of 8)", "RFC 8754 §2: 8 + 16 per segment + TLVs"},
    {layer_kind::frag, "frag", "fragment", layer_sets::over_ip | layer_sets::v6_ext, 0, false, false, 44, 0, 0, "",
     "RFC 8200 §4.5: 8 bytes in every fragment"},
    {layer_kind::openvpn, "openvpn", "", kinds(layer_kind::ipv4, layer_kind::ipv6, layer_kind::ethernet), 0, false, false, -1,
     0, 1194, "CIPHER[,AUTH], comp, v1",
     "OpenVPN 2.4+ data channel: P_DATA_V2 4 bytes; AEAD packet ID 4 + tag 16; CBC HMAC + IV, packet ID and PKCS#7 "
     "padding inside; +2 length over TCP"},
    {layer_kind::gtpu, "gtpu", "gtp-u gtp", kinds(layer_kind::ipv4, layer_kind::ipv6, layer_kind::ethernet), 0, false, false,
     -1, 0, 2152, "seq, pdu_session, ext=N",
     "3GPP TS 29.281 §5.1: 8 bytes, 12 with optional fields, + extension headers (PDU Session Container, TS 38.415: 4)"},
};

inline constexpr std::size_t layer_kind_count = sizeof layer_table / sizeof layer_table[0];

constexpr bool table_in_order() noexcept {
  for (std::size_t i = 0; i < layer_kind_count; ++i)
    if (static_cast<std::size_t>(layer_table[i].kind) != i) return false;
  return true;
}
static_assert(table_in_order(), "layer_table: one row per layer_kind, in the enumeration's order");
static_assert(layer_kind_count == static_cast<std::size_t>(layer_kind::gtpu) + 1, "layer_table: a row for every layer_kind");
static_assert(layer_kind_count <= 32, "the carrying sets are 32-bit masks");

constexpr const layer_info& layer_info_of(layer_kind k) noexcept { return layer_table[static_cast<std::size_t>(k)]; }

constexpr std::string_view to_string(layer_kind k) noexcept {
  return static_cast<std::size_t>(k) < layer_kind_count ? layer_info_of(k).name : std::string_view("?");
}

// The kind a spec name or alias means, or nothing.
struct layer_name_match { bool found = false; layer_kind kind{}; };
constexpr layer_name_match layer_by_name(std::string_view n) noexcept {
  for (const layer_info& l : layer_table) {
    if (l.name == n) return {true, l.kind};
    std::string_view a = l.aliases;
    while (!a.empty()) {
      const std::size_t sp = a.find(' ');
      if (a.substr(0, sp) == n) return {true, l.kind};
      a = sp == std::string_view::npos ? std::string_view{} : a.substr(sp + 1);
    }
  }
  return {};
}

}  // namespace v0
}  // namespace encap
