// examples/udp_offload.hpp — NAT-T (RFC 3948) on a UDP socket, for the example tunnels.
// encap builds and opens whole packets, outer IPv4 and UDP headers included; on a UDP
// socket the kernel writes those two headers itself, and in exchange segmentation
// offload (UDP_SEGMENT, Linux 4.18) sends a run of equal-size ESP packets in one
// message, one pass through the stack, and UDP_GRO (Linux 5.0) hands a run back in one.
// Going out, each packet's first 28 bytes are skipped: their DSCP/ECN byte goes with the
// run as IP_TOS (RFC 6040 stays the library's), their DF picks the socket's PMTU mode.
// Coming in, the 28 bytes are written back in front of each datagram from what the
// kernel reports: the sender's address and port, TOS (IP_RECVTOS) and TTL (IP_RECVTTL);
// the UDP checksum zero (RFC 768: none; the kernel has verified it).
#pragma once

#include <encap/wire/ip.hpp>
#include <encap/wire/udp.hpp>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace udp_offload {

inline constexpr std::size_t outer = 20 + 8;  // IPv4 without options, UDP: what the kernel writes
inline constexpr std::size_t max_segments = 64;  // UDP_MAX_SEGMENTS before Linux 6.9 (128 since)
inline constexpr std::size_t max_payload = 65535 - outer;

// Packets [first, first + count) as encap built them (outer IPv4 first), sent as one
// message: all of gso_size bytes past the headers but a last one that may be shorter
// (what UDP_SEGMENT cuts), one TOS byte and one DF bit.
struct run {
  std::size_t first, count;
  std::uint16_t gso_size;
  std::uint8_t tos;
  bool df;
};

inline std::uint8_t tos_of(const std::uint8_t* p) { return p[1]; }
inline bool df_of(const std::uint8_t* p) { return (p[6] & 0x40) != 0; }

// The longest run from packet i of n, of at most `most` packets (1: no segmentation).
inline run next_run(const std::uint8_t* const* at, const std::size_t* size, std::size_t n, std::size_t i, std::size_t most) {
  const std::size_t seg = size[i] - outer;
  run r{i, 1, static_cast<std::uint16_t>(seg), tos_of(at[i]), df_of(at[i])};
  std::size_t total = seg;
  while (i + r.count < n && r.count < most) {
    const std::size_t k = i + r.count, z = size[k] - outer;
    if (z > seg || tos_of(at[k]) != r.tos || df_of(at[k]) != r.df || total + z > max_payload) break;
    total += z;
    ++r.count;
    if (z < seg) break;  // a shorter one ends the run
  }
  return r;
}

// The outer IPv4 and UDP headers of a received datagram of `len` payload bytes, written
// into the 28 bytes at p (the payload follows them) with the library's writers: no
// fragment (the kernel reassembled any), ID 0, UDP checksum 0.
inline void write_outer(std::uint8_t* p, std::size_t len, const std::array<std::uint8_t, 4>& src, std::uint16_t sport,
                        const std::array<std::uint8_t, 4>& dst, std::uint16_t dport, std::uint8_t tos, std::uint8_t ttl) {
  encap::write_ipv4(p, outer + len, {src, dst, tos, ttl, encap::ip_proto::udp, 0, false});
  encap::write_udp(p + 20, sport, dport, 8 + len);
}

// The datagrams of a received message of `len` bytes: one, or with GRO consecutive ones
// of gso_size bytes but the last; f(pointer, size) for each.
template <class F>
void for_each_datagram(const std::uint8_t* p, std::size_t len, std::size_t gso_size, F&& f) {
  const std::size_t seg = gso_size ? gso_size : len;
  for (std::size_t off = 0; off < len; off += seg) f(p + off, std::min(seg, len - off));
}

// What the kernel said of a received message: the GRO segment size (0: one datagram),
// TOS and TTL.
struct received {
  std::size_t gso_size = 0;
  std::uint8_t tos = 0, ttl = 64;
};

inline received read_cmsgs(msghdr& h) {
  received r;
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
    int v = 0;
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      std::memcpy(&v, CMSG_DATA(c), sizeof v);
      r.gso_size = static_cast<std::size_t>(std::max(v, 0));
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
      r.tos = *CMSG_DATA(c);  // one byte
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
      std::memcpy(&v, CMSG_DATA(c), sizeof v);
      r.ttl = static_cast<std::uint8_t>(v);
    }
  }
  return r;
}

// Room for the control messages of one sent run (UDP_SEGMENT, IP_TOS) or one received
// message (UDP_GRO, IP_TOS, IP_TTL).
inline constexpr std::size_t control_size = CMSG_SPACE(sizeof(int)) * 3;

// Fills h's control buffer for a run: UDP_SEGMENT where it has more than one packet, and
// IP_TOS always.
inline void set_run_cmsgs(msghdr& h, std::uint8_t* control, const run& r) {
  std::memset(control, 0, control_size);
  h.msg_control = control;
  h.msg_controllen = control_size;
  cmsghdr* c = CMSG_FIRSTHDR(&h);
  std::size_t used = 0;
  if (r.count > 1) {
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    std::memcpy(CMSG_DATA(c), &r.gso_size, sizeof r.gso_size);
    used += CMSG_SPACE(sizeof(std::uint16_t));
    c = CMSG_NXTHDR(&h, c);
  }
  const int tos = r.tos;
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_TOS;
  c->cmsg_len = CMSG_LEN(sizeof tos);
  std::memcpy(CMSG_DATA(c), &tos, sizeof tos);
  used += CMSG_SPACE(sizeof tos);
  h.msg_controllen = used;
}

}  // namespace udp_offload
