// encap/endpoint_common.hpp — what the typed endpoint (endpoint.hpp) and the run-time one
// (runtime_endpoint.hpp) share around their layers: options, the result of a decap, the
// checks before anything is written, and the inner packet's checks after every layer.
#pragma once

#include <cstdint>
#include <optional>

#include "frame.hpp"
#include "layers/gre.hpp"
#include "result.hpp"
#include "sizing.hpp"
#include "wire/ip.hpp"
#include "wire/walk.hpp"

// Inline every call in the function (GCC, Clang): one packet's whole path, unrolled over
// its layers, with the frame's bounds in registers rather than reloaded by each codec
// (typed encap of 64 B AES-GCM: 728 instructions outside the cipher before, 559 after).
// Define ENCAP_FLATTEN empty before including encap to trade that for compile time.
#ifndef ENCAP_FLATTEN
#if defined(__GNUC__)
#define ENCAP_FLATTEN [[gnu::flatten]]
#else
#define ENCAP_FLATTEN
#endif
#endif

// The layer walk, kept out of line where a faster path is tried first (the typed
// endpoint's header template): its registers and stack are not the fast path's.
#if defined(__GNUC__)
#define ENCAP_NOINLINE [[gnu::noinline]]
#else
#define ENCAP_NOINLINE
#endif

namespace encap {
inline namespace v0 {

// Which outer headers decap compares with the stack's own (the peer's view: a received
// packet's source is the stack's dst, its destination the stack's src; UDP ports likewise).
enum class outer_check : std::uint8_t {
  automatic,  // every IP address and UDP port of the tunnel's headers when the stack has no ESP
              // (nothing else authenticates a plain GRE/IPIP/UDP packet); none with ESP, whose
              // SPI and ICV do, and where NAT may rewrite the outer address and port (RFC 3948)
  addresses,  // those addresses and ports always
  none,       // nothing: the caller filters (e.g. by socket)
};

struct tunnel_options {
  std::size_t mtu = 1500;             // path MTU: the most the outermost layer may emit
  df_policy df = df_policy::copy;     // outer IPv4 DF: copied from the inner packet (IPv6 inner: set)
  outer_check check = outer_check::automatic;
};

struct decap_info {
  std::uint8_t inner_version = 0;       // 4 or 6
  std::optional<std::uint32_t> gre_seq; // the GRE sequence number, when present (RFC 2890)
  // Where the packet came from: the outermost IP header's source address (4 or 16 bytes,
  // in the caller's buffer, in front of the inner packet) and the first UDP header's
  // source port (0 without UDP). With NAT-T, an authenticated packet from a new address
  // or port is how a NAT's new mapping shows (RFC 3948 §2.2, RFC 7296 §2.23): the
  // embedder (its IKE daemon) decides whether to send there; the SA is found by SPI alone
  // (RFC 4301 §4.1), so it opens either way, unless the run-time endpoint's table binds
  // the SA to a peer (sa_table.hpp).
  const std::uint8_t* outer_source = nullptr;
  bool outer_ipv6 = false;
  std::uint16_t outer_source_port = 0;
};

// The IP protocol number (IPv4 Protocol, IPv6 / ESP Next Header) that names a layer.
constexpr std::uint8_t ip_proto_of(layer_kind k) noexcept {
  switch (k) {
    case layer_kind::ipv4: return ip_proto::ipv4;
    case layer_kind::ipv6: return ip_proto::ipv6;
    case layer_kind::udp: return ip_proto::udp;
    case layer_kind::gre: return ip_proto::gre;
    case layer_kind::esp: return ip_proto::esp;
    default: return 255;
  }
}

// Whether encap can write these layers from a header template (endpoint.hpp,
// runtime_endpoint.hpp): one ESP layer, and besides it only IPv4, UDP over IPv4 (whose
// checksum is zero, RFC 3948 §2.1) and GRE without checksum (one over the payload, and
// UDP's over IPv6, stay on the layer walk). The inner packet's own header is not written.
constexpr bool header_template_shape(rule_span rules) noexcept {
  std::size_t esp = 0;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const layer_rule& r = rules[i];
    if (r.inner_header) continue;
    esp += r.kind == layer_kind::esp;
    if (r.kind == layer_kind::ipv6) return false;
    if (r.kind == layer_kind::gre && has(static_cast<gre_opt>(r.param), gre_opt::csum)) return false;
    if (r.kind == layer_kind::udp && (i == 0 || rules[i - 1].kind != layer_kind::ipv4)) return false;
  }
  return esp == 1;
}

// What encap refuses before touching anything: a packet that is not IP (or not of the
// `version` the stack's last layer names; 0: either), larger than the tunnel MTU
// (packet_too_big when DF is set or the inner packet is IPv6, needs_fragmentation
// otherwise; detail carries the tunnel MTU), or a frame without the room.
inline result<inner_ip_info> admit_inner(const frame& f, std::uint8_t version, std::size_t max_inner, std::size_t headroom,
                                         std::size_t tailroom) noexcept {
  const auto inner = peek_ip(f.data());
  if (!inner) return inner.error();
  if (version && inner.value().version != version) return errc::bad_inner_packet;
  if (max_inner == 0) return errc::mtu_too_small;
  if (f.size() > max_inner)
    return result<inner_ip_info>(inner.value().df ? errc::packet_too_big : errc::needs_fragmentation, static_cast<std::uint32_t>(max_inner));
  if (f.headroom() < headroom) return errc::no_headroom;
  if (f.tailroom() < tailroom) return errc::no_tailroom;
  return inner.value();
}

// What admit_inner found, as the outer headers take it. GCC 12.2 at -O2, with encap
// flattened, copies the version and TOS as one 2-byte vector and then value-numbers the TOS
// as the zero of result's error paths: every outer header lost its DSCP/ECN (test_endpoint's
// DSCP case caught it, on the layer walk and on the header template). Read from the packet
// again, the TOS stays. (-O3, Clang, -fno-tree-slp-vectorize or -fno-tree-pre do not show
// it. The first workaround, an asm reading the copy from memory, cost a store-forwarding
// stall: about 8 ns a packet.)
inline inner_ip_info inner_for_outer(const inner_ip_info& inner, const frame& f) noexcept {
  inner_ip_info copy = inner;
  copy.tos = ip_tos(f.data().data());
  return copy;
}

// After every layer: the inner packet's length field, less any TFC padding, and RFC 6040
// ECN. An error's detail is `layers` (the inner packet).
inline result<decap_info> decap_inner_packet(frame& f, const decap_walk& c, std::size_t layers) noexcept {
  const auto at = static_cast<std::uint32_t>(layers);
  const auto p = f.data();
  const std::uint8_t version = p.empty() ? 0 : p[0] >> 4;
  std::size_t len = 0, min_len = 40;
  if (version == 4 && p.size() >= 20) {
    len = load_be16(&p[2]);
    const std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4;
    min_len = ihl < 20 ? len + 1 : ihl;  // the header itself: IHL of at least 5 words
  } else if (version == 6 && p.size() >= 40) {
    len = 40 + std::size_t{load_be16(&p[4])};
  }
  if (len < min_len || len > p.size() || version != c.inner_version) return result<decap_info>(errc::bad_inner_packet, at);
  (void)f.truncate(len);
  if (c.outer_ecn && *c.outer_ecn != ecn::not_ect) {  // (a Not-ECT outer leaves any inner as it is)
    const std::uint8_t tos = ip_tos(p.data());
    const auto e2 = ecn_decap(tos & 3, *c.outer_ecn);
    if (!e2) return result<decap_info>(e2.error(), at);
    if (e2.value() != (tos & 3)) set_ecn(f.data(), e2.value());
  }
  // Built where the caller keeps it (GCC assembled a decap_info on the stack and copied it in
  // wide loads over its narrow stores: store-forwarding stalls, 64-byte AES-GCM decap 68 -> 56 ns)
  return result<decap_info>(std::in_place, version, c.gre_seq ? std::optional<std::uint32_t>(*c.gre_seq) : std::nullopt,
                            c.outer_source, c.outer_ipv6, c.outer_source_port);
}

}  // namespace v0
}  // namespace encap
