// encap/fragment.hpp — IPv4 fragmentation before encryption (RFC 791 §3.2): an inner
// packet without DF that does not fit the tunnel is split so that no encrypted packet
// ever needs fragmenting ("pre-fragmentation", as IPsec gateways do). Into caller
// buffers; no allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "bytes.hpp"
#include "result.hpp"

namespace encap {
inline namespace v0 {

// Splits `packet` into fragments of at most `mtu` bytes, written to out[0..n) (each
// buffer large enough for one fragment); returns n. Options marked "copied" are repeated
// in every fragment, the others stay in the first (RFC 791 §3.1). A packet with DF set
// is refused (errc::packet_too_big, detail = mtu); one that fits is copied to out[0],
// which is trimmed to it. Each out[i] is trimmed to its fragment. A fragment whose
// offset would place data past 65535 bytes is refused (ip_bad_total_length).
inline result<std::size_t> fragment_ipv4(const_byte_span packet, std::size_t mtu, std::span<byte_span> out) noexcept {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) return errc::bad_inner_packet;
  const std::size_t ihl = std::size_t{packet[0] & 0x0fu} * 4, total = load_be16(&packet[2]);
  if (ihl < 20 || total < ihl || total > packet.size()) return errc::bad_inner_packet;
  const std::uint16_t frag = load_be16(&packet[6]);
  if (total <= mtu) {
    if (out.empty() || out[0].size() < total) return errc::no_tailroom;
    std::memcpy(out[0].data(), packet.data(), total);
    out[0] = out[0].first(total);
    return std::size_t{1};
  }
  if (frag & 0x4000) return result<std::size_t>(errc::packet_too_big, static_cast<std::uint32_t>(mtu));
  // the copied options, for fragments after the first
  std::uint8_t later_opts[40];
  std::size_t later_len = 0;
  for (std::size_t i = 20; i < ihl;) {
    const std::uint8_t type = packet[i];
    if (type == 0) break;
    if (type == 1) { ++i; continue; }
    if (i + 1 >= ihl || packet[i + 1] < 2 || i + packet[i + 1] > ihl) return errc::bad_inner_packet;
    if (type & 0x80) { std::memcpy(later_opts + later_len, &packet[i], packet[i + 1]); later_len += packet[i + 1]; }
    i += packet[i + 1];
  }
  const std::size_t later_ihl = 20 + (later_len + 3) / 4 * 4;
  if (mtu < later_ihl + 8 || mtu < ihl + 8) return errc::mtu_too_small;

  const std::size_t data = total - ihl;
  const std::size_t base_offset = std::size_t{frag & 0x1fffu} * 8;
  // the reassembled datagram must fit IPv4's 16-bit length, or the last offsets would
  // overflow the 13-bit field into the flags
  if (ihl + base_offset + data > 65535) return errc::ip_bad_total_length;
  const bool more_after = frag & 0x2000;  // this packet is itself a non-last fragment
  std::size_t done = 0, n = 0;
  while (done < data) {
    const std::size_t h = n == 0 ? ihl : later_ihl;
    std::size_t chunk = (mtu - h) / 8 * 8;
    const bool last = done + chunk >= data;
    if (last) chunk = data - done;
    if (n >= out.size() || out[n].size() < h + chunk) return errc::no_tailroom;
    std::uint8_t* f = out[n].data();
    if (n == 0) {
      std::memcpy(f, packet.data(), ihl);
    } else {
      std::memcpy(f, packet.data(), 20);
      std::memcpy(f + 20, later_opts, later_len);
      std::memset(f + 20 + later_len, 0, later_ihl - 20 - later_len);  // end-of-options padding
      f[0] = static_cast<std::uint8_t>(0x40 | later_ihl / 4);
    }
    std::memcpy(f + h, packet.data() + ihl + done, chunk);
    store_be16(f + 2, static_cast<std::uint16_t>(h + chunk));
    const std::size_t offset = (base_offset + done) / 8;
    store_be16(f + 6, static_cast<std::uint16_t>(((!last || more_after) ? 0x2000 : 0) | offset));
    store_be16(f + 10, 0);
    store_be16(f + 10, internet_checksum(f, h));
    out[n] = out[n].first(h + chunk);
    done += chunk;
    ++n;
  }
  return n;
}

}  // namespace v0
}  // namespace encap
