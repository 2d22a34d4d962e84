// examples/udp_offload.hpp: NAT-T on a UDP socket with segmentation offload. The runs are
// checked against the rules of UDP_SEGMENT (Linux's Documentation/networking/
// segmentation-offloads.rst and udp_send_skb(): every segment gso_size bytes but a shorter
// last one, at most 64 segments, the payload within one IPv4 datagram's 65,507 bytes), the
// control messages against the kernel itself on loopback (a UDP GSO packet reaches a
// socket with UDP_GRO whole, and one without it cut into datagrams), and the rebuilt outer
// headers against RFC 791/768 with RFC 1071's sum written here. The strongSwan lab runs the
// tunnel's use of it against strongSwan (ctest -L strongswan, -L throughput).
#include "../examples/udp_offload.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <vector>

namespace {

// A packet as encap builds it for NAT-T: IPv4 (20 bytes, the TOS and DF given), UDP (8),
// `payload` bytes of a pattern that starts at `seed`.
std::vector<std::uint8_t> natt_packet(std::size_t payload, std::uint8_t tos = 0, bool df = true, std::uint8_t seed = 0) {
  std::vector<std::uint8_t> p(28 + payload);
  p[0] = 0x45;
  p[1] = tos;
  p[6] = df ? 0x40 : 0;
  p[9] = 17;
  for (std::size_t i = 0; i < payload; ++i) p[28 + i] = static_cast<std::uint8_t>(seed + i * 7);
  return p;
}

struct batch {
  std::vector<std::vector<std::uint8_t>> packets;
  std::vector<const std::uint8_t*> at;
  std::vector<std::size_t> size;
  void add(std::vector<std::uint8_t> p) { packets.push_back(std::move(p)); }
  void index() {
    at.clear();
    size.clear();
    for (auto& p : packets) at.push_back(p.data()), size.push_back(p.size());
  }
  // the runs from packet 0 on: (first, count) each
  std::vector<std::pair<std::size_t, std::size_t>> runs(std::size_t most) {
    index();
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (std::size_t i = 0; i < packets.size();) {
      const auto r = udp_offload::next_run(at.data(), size.data(), packets.size(), i, most);
      out.emplace_back(r.first, r.count);
      i += r.count;
    }
    return out;
  }
};

using runs_t = std::vector<std::pair<std::size_t, std::size_t>>;

std::uint16_t rfc1071(const std::uint8_t* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

TEST_CASE("udp_offload: a run is equal sizes but a shorter last one, one TOS, one DF, within a datagram") {
  SUBCASE("equal sizes, then a shorter one ends the run") {
    batch b;
    for (std::size_t z : {1438, 1438, 1438, 900, 1438, 1438}) b.add(natt_packet(z));
    CHECK(b.runs(64) == runs_t{{0, 4}, {4, 2}});
    CHECK(b.runs(1) == runs_t{{0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 1}});
    CHECK(b.runs(2) == runs_t{{0, 2}, {2, 2}, {4, 2}});
  }
  SUBCASE("a larger one starts a new run") {
    batch b;
    for (std::size_t z : {500, 1438, 1438}) b.add(natt_packet(z));
    CHECK(b.runs(64) == runs_t{{0, 1}, {1, 2}});
  }
  SUBCASE("another TOS byte or DF bit starts a new run") {
    batch b;
    b.add(natt_packet(1000, 0x00));
    b.add(natt_packet(1000, 0x00));
    b.add(natt_packet(1000, 0x03));  // ECN CE: the kernel writes one TOS per message
    b.add(natt_packet(1000, 0x03, false));
    CHECK(b.runs(64) == runs_t{{0, 2}, {2, 1}, {3, 1}});
    b.index();
    const auto r = udp_offload::next_run(b.at.data(), b.size.data(), 4, 2, 64);
    CHECK(r.tos == 0x03);
    CHECK(r.df);
    CHECK(!udp_offload::next_run(b.at.data(), b.size.data(), 4, 3, 64).df);
    CHECK(r.gso_size == 1000);
  }
  SUBCASE("at most 64 segments, and no more than 65,507 bytes of payload") {
    batch b;
    for (int i = 0; i < 70; ++i) b.add(natt_packet(100));
    CHECK(b.runs(64) == runs_t{{0, 64}, {64, 6}});
    batch big;  // 65,507 / 1,438 = 45.55: 45 fit
    for (int i = 0; i < 60; ++i) big.add(natt_packet(1438));
    CHECK(big.runs(64) == runs_t{{0, 45}, {45, 15}});
  }
}

TEST_CASE("udp_offload: the outer headers written back follow RFC 791 and RFC 768") {
  std::vector<std::uint8_t> p(28 + 1000, 0xee);
  const std::array<std::uint8_t, 4> src{192, 0, 2, 1}, dst{192, 0, 2, 2};
  udp_offload::write_outer(p.data(), 1000, src, 4500, dst, 4501, 0xb9, 61);
  CHECK(p[0] == 0x45);  // version 4, 5 words
  CHECK(p[1] == 0xb9);
  CHECK((p[2] << 8 | p[3]) == 1028);
  CHECK((p[6] & 0x3f) == 0);  // no fragment
  CHECK(p[7] == 0);
  CHECK(p[8] == 61);
  CHECK(p[9] == 17);
  CHECK(rfc1071(p.data(), 20) == 0);  // the header checksum is right
  CHECK(std::equal(src.begin(), src.end(), p.begin() + 12));
  CHECK(std::equal(dst.begin(), dst.end(), p.begin() + 16));
  CHECK((p[20] << 8 | p[21]) == 4500);
  CHECK((p[22] << 8 | p[23]) == 4501);
  CHECK((p[24] << 8 | p[25]) == 1008);  // UDP length: header and payload
  CHECK((p[26] << 8 | p[27]) == 0);     // no checksum (RFC 768)
  CHECK(p[28] == 0xee);                 // the payload untouched
}

TEST_CASE("udp_offload: the kernel sends a run as one GSO packet, whole to a GRO socket, as datagrams to another") {
  // loopback's own address, sockets on ports the kernel picks
  auto udp_socket = [] {
    const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return s;
  };
  auto address = [](int s) {
    sockaddr_in a{};
    socklen_t n = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
    return a;
  };
  const int tx = udp_socket();
  for (const bool gro : {true, false}) {
    CAPTURE(gro);
    const int rx = udp_socket();
    const int on = 1;
    REQUIRE(setsockopt(rx, IPPROTO_IP, IP_RECVTOS, &on, sizeof on) == 0);
    REQUIRE(setsockopt(rx, IPPROTO_IP, IP_RECVTTL, &on, sizeof on) == 0);
    if (gro) REQUIRE(setsockopt(rx, SOL_UDP, UDP_GRO, &on, sizeof on) == 0);
    batch b;
    for (std::uint8_t i = 0; i < 4; ++i) b.add(natt_packet(i < 3 ? 1000 : 600, 0xb9, true, static_cast<std::uint8_t>(i * 31)));
    b.index();
    const auto r = udp_offload::next_run(b.at.data(), b.size.data(), 4, 0, udp_offload::max_segments);
    REQUIRE(r.count == 4);
    std::vector<iovec> iov;
    for (auto& p : b.packets) iov.push_back({p.data() + udp_offload::outer, p.size() - udp_offload::outer});
    sockaddr_in to = address(rx);
    msghdr h{};
    h.msg_name = &to;
    h.msg_namelen = sizeof to;
    h.msg_iov = iov.data();
    h.msg_iovlen = iov.size();
    alignas(cmsghdr) std::uint8_t control[udp_offload::control_size];
    udp_offload::set_run_cmsgs(h, control, r);
    REQUIRE(sendmsg(tx, &h, 0) == 3600);

    std::vector<std::vector<std::uint8_t>> got;
    std::uint8_t tos = 0;
    int messages = 0;
    while (got.size() < 4) {
      std::vector<std::uint8_t> buf(65536);
      iovec v{buf.data(), buf.size()};
      alignas(cmsghdr) std::uint8_t rc[udp_offload::control_size];
      msghdr m{};
      m.msg_iov = &v;
      m.msg_iovlen = 1;
      m.msg_control = rc;
      m.msg_controllen = sizeof rc;
      const ssize_t len = recvmsg(rx, &m, MSG_DONTWAIT);
      REQUIRE(len > 0);
      ++messages;
      const auto k = udp_offload::read_cmsgs(m);
      tos = k.tos;
      CHECK(k.ttl == 64);  // loopback's default TTL
      if (gro) CHECK(k.gso_size == 1000);
      else CHECK(k.gso_size == 0);
      udp_offload::for_each_datagram(buf.data(), static_cast<std::size_t>(len), k.gso_size,
                                     [&](const std::uint8_t* q, std::size_t z) { got.emplace_back(q, q + z); });
    }
    CHECK(messages == (gro ? 1 : 4));
    CHECK(tos == 0xb9);
    REQUIRE(got.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(got[i] == std::vector<std::uint8_t>(b.packets[i].begin() + 28, b.packets[i].end()));
    ::close(rx);
  }
  ::close(tx);
}
