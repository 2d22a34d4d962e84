// examples/tun_offload.hpp: TCP segmentation of a TUN device's super-packets and the
// coalescing back. The checksums are checked with RFC 1071's loop written here (not the
// library's), the rest against the rules the header names (RFC 793 sequence numbers,
// RFC 3168 CWR, virtio's partial checksum). The strongSwan lab runs the same code against
// the kernel's TCP (ctest -L strongswan, -L throughput).
#include "../examples/tun_offload.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace {

std::uint16_t rfc1071(const std::vector<std::uint8_t>& b) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) sum += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
  if (b.size() % 2) sum += static_cast<std::uint32_t>(b.back() << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// The TCP checksum over the pseudo-header (RFC 793 §3.1, RFC 8200 §8.1) and the segment:
// 0 when the segment's checksum is right.
std::uint16_t tcp_check(const std::uint8_t* ip, bool v6, std::size_t ip_len, std::size_t tcp_len) {
  std::vector<std::uint8_t> b;
  const std::uint8_t* src = ip + (v6 ? 8 : 12);
  const std::size_t alen = v6 ? 16 : 4;
  b.insert(b.end(), src, src + 2 * alen);  // source and destination
  if (v6) b.insert(b.end(), {0, 0, static_cast<std::uint8_t>(tcp_len >> 8), static_cast<std::uint8_t>(tcp_len), 0, 0, 0, 6});
  else b.insert(b.end(), {0, 6, static_cast<std::uint8_t>(tcp_len >> 8), static_cast<std::uint8_t>(tcp_len)});
  b.insert(b.end(), ip + ip_len, ip + ip_len + tcp_len);
  return rfc1071(b);
}

// An IPv4 or IPv6 TCP packet: a 32-byte TCP header (timestamps), `payload` bytes of a pattern.
std::vector<std::uint8_t> tcp_packet(bool v6, std::size_t payload, std::uint8_t flags, std::uint32_t seq = 1000) {
  const std::size_t ip = v6 ? 40 : 20, tcp = 32;
  std::vector<std::uint8_t> p(ip + tcp + payload);
  if (v6) {
    p[0] = 0x60;
    encap::store_be16(&p[4], static_cast<std::uint16_t>(tcp + payload));
    p[6] = 6;
    p[7] = 64;
    for (int i = 0; i < 16; ++i) { p[8 + i] = static_cast<std::uint8_t>(0x20 + i); p[24 + i] = static_cast<std::uint8_t>(0x40 + i); }
  } else {
    p[0] = 0x45;
    encap::store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
    encap::store_be16(&p[4], 0x1234);
    p[6] = 0x40;  // DF
    p[8] = 64;
    p[9] = 6;
    const std::uint8_t a[8] = {10, 1, 0, 1, 10, 2, 0, 1};
    std::copy(a, a + 8, &p[12]);
  }
  std::uint8_t* t = &p[ip];
  encap::store_be16(t, 40000);
  encap::store_be16(t + 2, 5001);
  encap::store_be32(t + 4, seq);
  encap::store_be32(t + 8, 777);
  t[12] = 8 << 4;
  t[13] = flags;
  encap::store_be16(t + 14, 512);
  const std::uint8_t opts[12] = {1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0};  // NOP NOP timestamps
  std::copy(opts, opts + 12, t + 20);
  for (std::size_t i = 0; i < payload; ++i) p[ip + tcp + i] = static_cast<std::uint8_t>(i * 7 % 251);
  return p;
}

}  // namespace

TEST_SUITE("tun_offload") {
  TEST_CASE("a TSO super-packet is cut into segments a NIC would send: sequence, ID, lengths, flags, both checksums") {
    for (bool v6 : {false, true}) {
      CAPTURE(v6);
      const auto super = tcp_packet(v6, 5000, 0x99);  // CWR ACK PSH FIN
      const std::size_t ip = v6 ? 40 : 20, hdrs = ip + 32, mss = 1400;
      tun_offload::tcp_layout l;
      REQUIRE(tun_offload::layout(super.data(), super.size(), l));
      CHECK(l.ip == ip);
      CHECK(l.tcp == 32);
      std::vector<std::uint8_t> payload, seg(hdrs + mss);
      std::size_t k = 0;
      for (;; ++k) {
        const std::size_t n = tun_offload::segment(super.data(), super.size(), l, mss, k, seg.data());
        if (n == 0) break;
        CAPTURE(k);
        const std::size_t len = n - hdrs;
        CHECK(len == (k < 3 ? 1400u : 800u));
        const std::uint8_t* t = seg.data() + ip;
        CHECK(encap::load_be32(t + 4) == 1000 + k * mss);
        CHECK(t[13] == (k == 0 ? 0x90 : k < 3 ? 0x10 : 0x19));  // CWR first only; PSH, FIN last only
        CHECK(tcp_check(seg.data(), v6, ip, n - ip) == 0);
        if (v6) {
          CHECK(encap::load_be16(&seg[4]) == n - 40);
        } else {
          CHECK(encap::load_be16(&seg[2]) == n);
          CHECK(encap::load_be16(&seg[4]) == 0x1234 + k);
          CHECK(rfc1071(std::vector<std::uint8_t>(seg.begin(), seg.begin() + 20)) == 0);
        }
        CHECK(std::equal(t + 20, t + 32, super.data() + ip + 20));  // the options, unchanged
        payload.insert(payload.end(), seg.begin() + static_cast<long>(hdrs), seg.begin() + static_cast<long>(n));
      }
      CHECK(k == 4);
      CHECK(payload == std::vector<std::uint8_t>(super.begin() + static_cast<long>(hdrs), super.end()));
    }
  }

  TEST_CASE("a packet whose checksum the kernel left partial is completed from csum_start") {
    auto p = tcp_packet(false, 300, 0x18);
    // what the kernel hands over with NEEDS_CSUM: the field holds the pseudo-header's folded sum
    const std::uint32_t pseudo = encap::ipv4_pseudo_sum(&p[12], &p[16], p.size() - 20, 6);
    encap::store_be16(&p[36], static_cast<std::uint16_t>(~encap::checksum_fold(pseudo)));
    tun_offload::virtio_net_hdr h{tun_offload::VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 20, 16};
    REQUIRE(tun_offload::complete_checksum(p.data(), p.size(), h));
    CHECK(tcp_check(p.data(), false, 20, p.size() - 20) == 0);
    h.csum_start = static_cast<std::uint16_t>(p.size());  // out of bounds: refused, nothing written
    const auto before = p;
    CHECK_FALSE(tun_offload::complete_checksum(p.data(), p.size(), h));
    CHECK(p == before);
  }

  TEST_CASE("consecutive segments of one flow coalesce into one GSO write; the kernel's completion makes it whole") {
    for (bool v6 : {false, true}) {
      CAPTURE(v6);
      const std::size_t ip = v6 ? 40 : 20, hdrs = ip + 32;
      const auto whole = tcp_packet(v6, 4000, 0x18);  // ACK PSH
      tun_offload::tcp_layout l;
      REQUIRE(tun_offload::layout(whole.data(), whole.size(), l));
      std::vector<std::vector<std::uint8_t>> segs;
      std::vector<std::uint8_t> seg(hdrs + 1400);
      for (std::size_t k = 0;; ++k) {
        const std::size_t n = tun_offload::segment(whole.data(), whole.size(), l, 1400, k, seg.data());
        if (n == 0) break;
        segs.emplace_back(seg.begin(), seg.begin() + static_cast<long>(n));
      }
      REQUIRE(segs.size() == 3);
      std::vector<const std::uint8_t*> at;
      std::vector<std::size_t> sizes;
      for (auto& s : segs) { at.push_back(s.data()); sizes.push_back(s.size()); }
      std::vector<std::uint8_t> out(70000);
      std::size_t used = 0;
      const std::size_t z = tun_offload::coalesce(at.data(), sizes.data(), at.size(), out.data(), out.size(), used);
      REQUIRE(z == tun_offload::vnet_hdr_size + whole.size());
      CHECK(used == 3);
      tun_offload::virtio_net_hdr h{};
      std::memcpy(&h, out.data(), sizeof h);
      CHECK(h.flags == tun_offload::VIRTIO_NET_HDR_F_NEEDS_CSUM);
      CHECK(h.gso_type == (v6 ? tun_offload::VIRTIO_NET_HDR_GSO_TCPV6 : tun_offload::VIRTIO_NET_HDR_GSO_TCPV4));
      CHECK(h.gso_size == 1400);
      CHECK(h.hdr_len == hdrs);
      CHECK(h.csum_start == ip);
      CHECK(h.csum_offset == 16);
      std::vector<std::uint8_t> got(out.begin() + tun_offload::vnet_hdr_size, out.begin() + static_cast<long>(z));
      REQUIRE(tun_offload::complete_checksum(got.data(), got.size(), h));
      CHECK(tcp_check(got.data(), v6, ip, got.size() - ip) == 0);
      auto want = whole;  // the super-packet again, its checksums now filled in
      std::copy(got.begin() + static_cast<long>(ip) + 16, got.begin() + static_cast<long>(ip) + 18, want.begin() + static_cast<long>(ip) + 16);
      if (!v6) std::copy(got.begin() + 10, got.begin() + 12, want.begin() + 10);
      CHECK(got == want);
      if (!v6) CHECK(rfc1071(std::vector<std::uint8_t>(got.begin(), got.begin() + 20)) == 0);
    }
  }

  TEST_CASE("coalescing stops where the flow does: a gap, another port, a flag, a larger segment") {
    auto a = tcp_packet(false, 1000, 0x10, 1000), b = tcp_packet(false, 1000, 0x10, 2000), c = tcp_packet(false, 1000, 0x10, 3000);
    std::vector<std::uint8_t> out(70000);
    auto run = [&](std::vector<std::vector<std::uint8_t>*> ps) {
      std::vector<const std::uint8_t*> at;
      std::vector<std::size_t> sizes;
      for (auto* p : ps) { at.push_back(p->data()); sizes.push_back(p->size()); }
      std::size_t used = 0;
      const std::size_t z = tun_offload::coalesce(at.data(), sizes.data(), at.size(), out.data(), out.size(), used);
      return z == 0 ? std::size_t{0} : used;
    };
    CHECK(run({&a, &b, &c}) == 3);
    auto gap = tcp_packet(false, 1000, 0x10, 2001);
    CHECK(run({&a, &gap, &c}) == 0);  // only one would go: written alone
    auto port = b;
    encap::store_be16(&port[22], 5002);
    CHECK(run({&a, &b, &port}) == 2);
    auto syn = tcp_packet(false, 1000, 0x12, 2000);
    CHECK(run({&a, &syn}) == 0);
    auto psh_first = tcp_packet(false, 1000, 0x18, 1000);
    CHECK(run({&psh_first, &b}) == 0);  // a PSH ends a train: nothing follows it
    auto psh = tcp_packet(false, 1000, 0x18, 2000);
    CHECK(run({&a, &psh, &c}) == 2);
    auto big = tcp_packet(false, 1001, 0x10, 2000);
    CHECK(run({&a, &big}) == 0);  // larger than the first: not the same gso_size
    auto small = tcp_packet(false, 500, 0x10, 2000);
    CHECK(run({&a, &small, &c}) == 2);  // a shorter one ends the train
    auto ts = b;
    ts[20 + 24] ^= 1;  // another timestamp: options differ
    CHECK(run({&a, &ts}) == 0);
  }
}
