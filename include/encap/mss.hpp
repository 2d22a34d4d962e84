// encap/mss.hpp — TCP MSS clamping in place, what "ip tcp adjust-mss" does: the MSS
// option of a SYN or SYN-ACK is lowered to the tunnel's figure so that TCP never sends
// segments the tunnel would have to fragment or refuse. The TCP checksum is updated
// incrementally (RFC 1624), so the payload is never read.
#pragma once

#include <cstdint>

#include "bytes.hpp"
#include "result.hpp"
#include "wire/ip.hpp"

namespace encap {
inline namespace v0 {

// The clamp for a tunnel MTU: the MTU less the IP and TCP headers (RFC 879, RFC 6691).
constexpr std::uint16_t mss_clamp_ipv4(std::size_t tunnel_mtu) noexcept {
  return static_cast<std::uint16_t>(tunnel_mtu > 40 ? tunnel_mtu - 40 : 0);
}
constexpr std::uint16_t mss_clamp_ipv6(std::size_t tunnel_mtu) noexcept {
  return static_cast<std::uint16_t>(tunnel_mtu > 60 ? tunnel_mtu - 60 : 0);
}

// Lowers the MSS option of an IPv4 or IPv6 TCP SYN / SYN-ACK to at most `mss`. Returns
// true if the packet changed; false for anything else (not TCP, not a SYN, no MSS
// option, already small enough, a non-first fragment, IPv6 extension headers).
// Malformed TCP options are left alone, as a router would.
inline bool clamp_tcp_mss(byte_span p, std::uint16_t mss) noexcept {
  std::size_t tcp = 0, end = 0;
  if (p.size() >= 20 && (p[0] >> 4) == 4) {
    const std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4, total = load_be16(&p[2]);
    if (p[9] != ip_proto::tcp || ihl < 20 || total > p.size() || (load_be16(&p[6]) & 0x1fff) != 0) return false;
    tcp = ihl;
    end = total;
  } else if (p.size() >= 40 && (p[0] >> 4) == 6) {
    if (p[6] != ip_proto::tcp) return false;
    tcp = 40;
    end = 40 + std::size_t{load_be16(&p[4])};
    if (end > p.size()) return false;
  } else {
    return false;
  }
  if (end < tcp + 20) return false;
  std::uint8_t* t = p.data() + tcp;
  if (!(t[13] & 0x02)) return false;  // SYN
  const std::size_t data_offset = static_cast<std::size_t>(t[12] >> 4) * 4;
  if (data_offset < 20 || tcp + data_offset > end) return false;
  for (std::size_t i = 20; i < data_offset;) {
    const std::uint8_t kind = t[i];
    if (kind == 0) break;                        // end of options
    if (kind == 1) { ++i; continue; }            // NOP
    if (i + 1 >= data_offset || t[i + 1] < 2 || i + t[i + 1] > data_offset) return false;
    if (kind == 2 && t[i + 1] == 4) {            // MSS
      const std::uint16_t old_mss = load_be16(&t[i + 2]);
      if (old_mss <= mss) return false;
      store_be16(&t[i + 2], mss);
      // RFC 1624 on 16-bit words of the TCP segment; at an odd offset the word straddles
      // two checksum words, which one's-complement arithmetic sees byte-swapped
      const bool odd = (i + 2) & 1;
      const auto sw = [](std::uint16_t v) { return static_cast<std::uint16_t>(v << 8 | v >> 8); };
      store_be16(&t[16], checksum_update(load_be16(&t[16]), odd ? sw(old_mss) : old_mss, odd ? sw(mss) : mss));
      return true;
    }
    i += t[i + 1];
  }
  return false;
}

}  // namespace v0
}  // namespace encap
