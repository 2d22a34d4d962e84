// examples/tun_offload.hpp — TCP segmentation offload on a Linux TUN device, for the
// example tunnels: with IFF_VNET_HDR and TUNSETOFFLOAD (TSO4/TSO6 and checksum offload)
// the kernel hands the tunnel whole TCP super-packets of up to 64 KB, each behind a
// virtio_net_hdr (the virtio 1.x spec, §5.1.6), and one read replaces about 45. The
// tunnel cuts them into segments of the size the kernel chose (gso_size: the TUN's MTU
// less the headers) before encapsulating, as a NIC's TSO would on the wire: sequence
// numbers, IPv4 ID and lengths per segment, FIN/PSH on the last one only, CWR on the
// first only, both checksums recomputed (RFC 1071, the library's bytes.hpp). The other
// way, consecutive segments of one TCP flow are written to the TUN device as one
// super-packet with GSO asked for, as GRO would have merged them.
#pragma once

#include <encap/bytes.hpp>
#include <encap/wire/ip.hpp>

#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cstdint>
#include <cstring>

namespace tun_offload {

// struct virtio_net_hdr (virtio 1.x §5.1.6), written out: <linux/virtio_net.h> is not
// C++ (a member named `class`). Host byte order on a TUN device (little-endian here).
struct virtio_net_hdr {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len, gso_size, csum_start, csum_offset;
};
inline constexpr std::uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_NONE = 0, VIRTIO_NET_HDR_GSO_TCPV4 = 1, VIRTIO_NET_HDR_GSO_TCPV6 = 4,
                              VIRTIO_NET_HDR_GSO_ECN = 0x80;
inline constexpr std::size_t vnet_hdr_size = sizeof(virtio_net_hdr);  // 10 bytes: TUN's default
static_assert(vnet_hdr_size == 10);

// Turns TSO and checksum offload on for a TUN opened with IFF_VNET_HDR; false where the
// kernel refuses (the reads then carry plain packets behind the header).
inline bool enable(int tun) {
  return ioctl(tun, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) == 0;
}

// What a read holds behind its header.
struct packet {
  const std::uint8_t* p = nullptr;
  std::size_t size = 0;
  virtio_net_hdr h{};
};

inline packet parse(const std::uint8_t* buf, std::size_t n) {
  packet out;
  if (n < vnet_hdr_size) return out;
  std::memcpy(&out.h, buf, vnet_hdr_size);
  out.p = buf + vnet_hdr_size;
  out.size = n - vnet_hdr_size;
  return out;
}

// A packet without GSO whose checksum the kernel left to us (VIRTIO_NET_HDR_F_NEEDS_CSUM):
// the field holds the pseudo-header's sum, so the checksum is the complement of the sum
// from csum_start to the end, written at csum_start + csum_offset. False if out of bounds.
inline bool complete_checksum(std::uint8_t* p, std::size_t size, const virtio_net_hdr& h) {
  if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) return true;
  const std::size_t start = h.csum_start, at = start + h.csum_offset;
  if (start >= size || at + 2 > size) return false;
  encap::store_be16(p + at, encap::internet_checksum(p + start, size - start));
  return true;
}

// The headers of a TCP super-packet: IPv4 (any IHL) or IPv6 without extension headers.
struct tcp_layout {
  std::size_t ip = 0, tcp = 0;  // header lengths
  bool v6 = false;
};

inline bool layout(const std::uint8_t* p, std::size_t size, tcp_layout& l) {
  if (size < 20) return false;
  l.v6 = (p[0] >> 4) == 6;
  if (!l.v6 && (p[0] >> 4) != 4) return false;
  l.ip = l.v6 ? 40 : std::size_t{p[0] & 0x0fu} * 4;
  if ((!l.v6 && (l.ip < 20 || p[9] != encap::ip_proto::tcp)) || (l.v6 && p[6] != encap::ip_proto::tcp)) return false;
  if (size < l.ip + 20) return false;
  l.tcp = std::size_t{p[l.ip + 12]} / 16 * 4;
  return l.tcp >= 20 && size >= l.ip + l.tcp;
}

// A packet's IP length field for `tcp_len` bytes of TCP (IPv4: and its header checksum);
// returns the TCP pseudo-header's sum.
inline std::uint32_t set_length(std::uint8_t* p, const tcp_layout& l, std::size_t tcp_len) {
  if (l.v6) {
    encap::store_be16(p + 4, static_cast<std::uint16_t>(tcp_len));
    return encap::ipv6_pseudo_sum(p + 8, p + 24, tcp_len, encap::ip_proto::tcp);
  }
  encap::store_be16(p + 2, static_cast<std::uint16_t>(l.ip + tcp_len));
  encap::store_be16(p + 10, 0);
  encap::store_be16(p + 10, encap::internet_checksum(p, l.ip));
  return encap::ipv4_pseudo_sum(p + 12, p + 16, tcp_len, encap::ip_proto::tcp);
}

// Segment k (of `mss` payload bytes at most) of the super-packet at `p`, written to `out`
// (room for headers + mss); returns its size, 0 past the last segment.
inline std::size_t segment(const std::uint8_t* p, std::size_t size, const tcp_layout& l, std::size_t mss, std::size_t k,
                           std::uint8_t* out) {
  const std::size_t hdrs = l.ip + l.tcp, payload = size - hdrs, off = k * mss;
  if (off >= payload && !(k == 0 && payload == 0)) return 0;
  const std::size_t n = payload - off < mss ? payload - off : mss;
  const bool last = off + n >= payload;
  std::memcpy(out, p, hdrs);
  std::memcpy(out + hdrs, p + hdrs + off, n);
  std::uint8_t* t = out + l.ip;
  encap::store_be32(t + 4, encap::load_be32(t + 4) + static_cast<std::uint32_t>(off));  // sequence number
  std::uint8_t flags = t[13];
  if (!last) flags &= static_cast<std::uint8_t>(~0x09u);  // FIN, PSH: the last segment's
  if (k > 0) flags &= static_cast<std::uint8_t>(~0x80u);  // CWR: the first segment's (RFC 3168 §6.1.2)
  t[13] = flags;
  const std::size_t tcp_len = l.tcp + n;
  if (!l.v6) encap::store_be16(out + 4, static_cast<std::uint16_t>(encap::load_be16(p + 4) + k));  // IPv4 ID
  const std::uint32_t sum = set_length(out, l, tcp_len);
  encap::store_be16(t + 16, 0);
  encap::store_be16(t + 16, encap::internet_checksum(t, tcp_len, sum));
  return l.ip + tcp_len;
}

// ---- the receiving side: coalescing before the write (what GRO does for a NIC) -----------

// Whether segment q continues the flow of `first` right after `next_seq`: the same
// addresses, ports, IP fields (all but length, ID and checksum), ACK, window and TCP
// options; ACK alone or ACK + PSH; a payload of at most `mss`.
inline bool continues(const std::uint8_t* first, const std::uint8_t* q, std::size_t q_size, const tcp_layout& l,
                      std::uint32_t next_seq, std::size_t mss) {
  tcp_layout lq;
  if (!layout(q, q_size, lq) || lq.v6 != l.v6 || lq.ip != l.ip || lq.tcp != l.tcp) return false;
  const std::size_t payload = q_size - l.ip - l.tcp;
  if (payload == 0 || payload > mss) return false;
  const bool ip_same = l.v6 ? std::memcmp(first, q, 4) == 0 && std::memcmp(first + 6, q + 6, 34) == 0
                            : std::memcmp(first, q, 2) == 0 && std::memcmp(first + 6, q + 6, 4) == 0 &&
                                  std::memcmp(first + 12, q + 12, 8) == 0;
  const std::uint8_t *a = first + l.ip, *b = q + l.ip;
  return ip_same && (b[13] == 0x10 || b[13] == 0x18) && encap::load_be32(b + 4) == next_seq &&
         std::memcmp(a, b, 4) == 0 && std::memcmp(a + 8, b + 8, 5) == 0 && std::memcmp(a + 14, b + 14, 2) == 0 &&
         std::memcmp(a + 18, b + 18, l.tcp - 18) == 0;
}

// Coalesces pkts[0], pkts[1], ... (inner packets in arrival order) into one TCP
// super-packet behind a virtio_net_hdr asking the kernel for GSO (gso_size: the first
// segment's payload) and a partial checksum, written to `out`. `used` is how many packets
// went in; 0 is returned when fewer than two can (the caller writes pkts[0] alone).
inline std::size_t coalesce(const std::uint8_t* const* pkts, const std::size_t* sizes, std::size_t count, std::uint8_t* out,
                            std::size_t room, std::size_t& used) {
  used = 1;
  tcp_layout l;
  const std::uint8_t* p = pkts[0];
  if (count < 2 || !layout(p, sizes[0], l)) return 0;
  if (!l.v6 && (l.ip != 20 || (encap::load_be16(p + 6) & 0x3fff) != 0)) return 0;  // options, or a fragment
  const std::size_t hdrs = l.ip + l.tcp, mss = sizes[0] - hdrs;
  if (mss == 0 || p[l.ip + 13] != 0x10) return 0;  // ACK alone: a PSH, SYN, FIN, RST, URG or ECN flag ends a train
  std::size_t total = mss, k = 1;
  std::uint32_t next_seq = encap::load_be32(p + l.ip + 4) + static_cast<std::uint32_t>(mss);
  while (k < count && continues(p, pkts[k], sizes[k], l, next_seq, mss)) {
    const std::size_t payload = sizes[k] - hdrs;
    if (vnet_hdr_size + hdrs + total + payload > room || hdrs + total + payload > 65535) break;
    total += payload;
    next_seq += static_cast<std::uint32_t>(payload);
    const bool last = pkts[k][l.ip + 13] != 0x10 || payload < mss;
    ++k;
    if (last) break;
  }
  if (k < 2) return 0;
  used = k;
  std::uint8_t* o = out + vnet_hdr_size;
  std::memcpy(o, p, hdrs);
  std::size_t at = hdrs;
  for (std::size_t i = 0; i < k; ++i) {
    std::memcpy(o + at, pkts[i] + hdrs, sizes[i] - hdrs);
    at += sizes[i] - hdrs;
  }
  o[l.ip + 13] = pkts[k - 1][l.ip + 13];  // the last segment's PSH
  const std::size_t tcp_len = l.tcp + total;
  const std::uint32_t pseudo = set_length(o, l, tcp_len);
  // CHECKSUM_PARTIAL: the field holds the pseudo-header's folded sum; the kernel (or the
  // segments it cuts) completes it from csum_start
  encap::store_be16(o + l.ip + 16, static_cast<std::uint16_t>(~encap::checksum_fold(pseudo)));
  const virtio_net_hdr h{VIRTIO_NET_HDR_F_NEEDS_CSUM, l.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
                         static_cast<std::uint16_t>(hdrs), static_cast<std::uint16_t>(mss), static_cast<std::uint16_t>(l.ip), 16};
  std::memcpy(out, &h, vnet_hdr_size);
  return vnet_hdr_size + hdrs + total;
}

}  // namespace tun_offload
