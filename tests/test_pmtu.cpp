// mss.hpp, icmp.hpp, fragment.hpp: MSS clamping with incremental checksums, ICMP
// "fragmentation needed" / "packet too big", the token bucket, and pre-fragmentation.
#include <encap/fragment.hpp>
#include <encap/icmp.hpp>
#include <encap/mss.hpp>

#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "support/packets.hpp"

using namespace encap;

namespace {

// A TCP segment's full checksum, computed from scratch (RFC 793 pseudo-header).
std::uint16_t tcp_checksum_v4(const std::vector<std::uint8_t>& p) {
  const std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4, len = load_be16(&p[2]) - ihl;
  std::vector<std::uint8_t> seg(p.begin() + static_cast<std::ptrdiff_t>(ihl), p.end());
  seg[16] = seg[17] = 0;
  return internet_checksum(seg.data(), len, ipv4_pseudo_sum(&p[12], &p[16], len, ip_proto::tcp));
}

// An IPv4 TCP SYN with the given options (padded to 4 bytes) and a valid checksum.
std::vector<std::uint8_t> syn_v4(std::vector<std::uint8_t> options, std::uint8_t flags = 0x02) {
  while (options.size() % 4) options.push_back(0);
  const std::size_t tcp_len = 20 + options.size(), total = 20 + tcp_len;
  std::vector<std::uint8_t> p(total);
  write_ipv4(p.data(), total, {{10, 1, 0, 2}, {10, 2, 0, 2}, 0, 64, ip_proto::tcp, 7, true});
  std::uint8_t* t = p.data() + 20;
  store_be16(t, 40000);
  store_be16(t + 2, 5001);
  store_be32(t + 4, 12345);
  t[12] = static_cast<std::uint8_t>((tcp_len / 4) << 4);
  t[13] = flags;
  store_be16(t + 14, 64240);
  std::copy(options.begin(), options.end(), t + 20);
  store_be16(t + 16, tcp_checksum_v4(p));
  return p;
}

}  // namespace

TEST_SUITE("pmtu") {
  TEST_CASE("MSS clamp lowers the option and keeps the TCP checksum valid (RFC 1624)") {
    // Linux's usual SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale
    auto p = syn_v4({2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7});
    CHECK(clamp_tcp_mss(p, 1374));
    CHECK(load_be16(&p[42]) == 1374);
    CHECK(load_be16(&p[36]) == tcp_checksum_v4(p));
    CHECK_FALSE(clamp_tcp_mss(p, 1400));  // never raises it
    CHECK(load_be16(&p[42]) == 1374);
  }

  TEST_CASE("MSS at an odd offset (after one NOP) still gets a correct checksum") {
    auto p = syn_v4({1, 2, 4, 0x05, 0xb4, 1, 1, 1});
    CHECK(clamp_tcp_mss(p, 1360));
    CHECK(load_be16(&p[43]) == 1360);
    CHECK(load_be16(&p[36]) == tcp_checksum_v4(p));
  }

  TEST_CASE("MSS clamp leaves everything else alone") {
    auto ack = syn_v4({2, 4, 0x05, 0xb4}, 0x10);  // ACK, not SYN
    const auto before = ack;
    CHECK_FALSE(clamp_tcp_mss(ack, 1000));
    CHECK(ack == before);
    auto synack = syn_v4({2, 4, 0x05, 0xb4}, 0x12);
    CHECK(clamp_tcp_mss(synack, 1000));  // SYN-ACK is clamped too
    auto no_mss = syn_v4({1, 1, 1, 1});
    CHECK_FALSE(clamp_tcp_mss(no_mss, 1000));
    auto bad = syn_v4({2, 40, 0x05, 0xb4});  // option length runs past the header
    CHECK_FALSE(clamp_tcp_mss(bad, 1000));
    auto udp = test::inner_ipv4(100);
    CHECK_FALSE(clamp_tcp_mss(udp, 1000));
  }

  TEST_CASE("ICMP fragmentation needed carries the next-hop MTU and quotes the packet (RFC 792, 1191)") {
    const auto offending = test::inner_ipv4(1415);
    std::vector<std::uint8_t> out(600);
    const auto r = build_icmp_frag_needed(out, offending, 1414, {10, 1, 0, 1});
    REQUIRE(r);
    CHECK(r.val == 576);  // RFC 1812: as much as fits in 576 bytes
    CHECK(internet_checksum(out.data(), 20) == 0);
    CHECK(out[9] == 1);
    CHECK(std::equal(out.begin() + 16, out.begin() + 20, offending.begin() + 12));  // back to the sender
    CHECK(out[20] == 3);
    CHECK(out[21] == 4);
    CHECK(load_be16(&out[26]) == 1414);
    CHECK(internet_checksum(out.data() + 20, r.val - 20) == 0);
    CHECK(std::equal(out.begin() + 28, out.begin() + 576, offending.begin()));
    std::vector<std::uint8_t> small(100);
    CHECK(build_icmp_frag_needed(small, offending, 1414, {10, 1, 0, 1}).error() == errc::no_tailroom);
  }

  TEST_CASE("ICMPv6 packet too big fits in 1280 bytes and checksums over the pseudo-header (RFC 4443)") {
    const auto offending = test::inner_ipv6(1500);
    std::vector<std::uint8_t> out(1300);
    const std::array<std::uint8_t, 16> router{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const auto r = build_icmpv6_packet_too_big(out, offending, 1414, router);
    REQUIRE(r);
    CHECK(r.val == 1280);
    CHECK(out[6] == 58);
    CHECK(out[40] == 2);
    CHECK(load_be32(&out[44]) == 1414);
    CHECK(internet_checksum(out.data() + 40, r.val - 40, ipv6_pseudo_sum(&out[8], &out[24], r.val - 40, 58)) == 0);
  }

  TEST_CASE("the token bucket allows a burst, then the rate") {
    token_bucket b(10, 3);  // 10 a second, bursts of 3
    CHECK(b.allow(0));
    CHECK(b.allow(0));
    CHECK(b.allow(0));
    CHECK_FALSE(b.allow(0));
    CHECK_FALSE(b.allow(50'000'000));  // half a token
    CHECK(b.allow(100'000'000));       // one token after 100 ms
    CHECK_FALSE(b.allow(100'000'000));
    CHECK(b.allow(10'000'000'000));    // refilled, but only to the burst
    CHECK(b.allow(10'000'000'000));
    CHECK(b.allow(10'000'000'000));
    CHECK_FALSE(b.allow(10'000'000'000));
  }

  TEST_CASE("pre-fragmentation: fragments fit, carry the right offsets and flags, and reassemble") {
    for (std::size_t total : {1415, 3000, 9000}) {
      for (std::size_t mtu : {576, 1400, 1414}) {
        CAPTURE(total);
        CAPTURE(mtu);
        const auto packet = test::inner_ipv4(total, false);
        std::vector<std::vector<std::uint8_t>> bufs(20, std::vector<std::uint8_t>(mtu));
        std::vector<byte_span> out;
        for (auto& b : bufs) out.emplace_back(b);
        const auto r = fragment_ipv4(packet, mtu, out);
        REQUIRE(r);
        // reassemble independently: data by offset, the last has MF clear
        std::map<std::size_t, std::vector<std::uint8_t>> parts;
        for (std::size_t i = 0; i < r.val; ++i) {
          const auto& f = out[i];
          CHECK(f.size() <= mtu);
          CHECK(internet_checksum(f.data(), 20) == 0);
          CHECK(load_be16(&f[4]) == load_be16(&packet[4]));  // same identification
          const std::uint16_t fl = load_be16(&f[6]);
          CHECK(((fl & 0x2000) != 0) == (i + 1 < r.val));
          if (i + 1 < r.val) CHECK((f.size() - 20) % 8 == 0);
          parts[(fl & 0x1fffu) * 8u] = {f.begin() + 20, f.end()};
        }
        std::vector<std::uint8_t> data;
        for (auto& [off, bytes] : parts) {
          CHECK(off == data.size());
          data.insert(data.end(), bytes.begin(), bytes.end());
        }
        CHECK(std::equal(data.begin(), data.end(), packet.begin() + 20, packet.end()));
      }
    }
  }

  TEST_CASE("pre-fragmentation refuses DF packets and repeats only copied options") {
    const auto df = test::inner_ipv4(2000, true);
    std::vector<std::uint8_t> b1(1400), b2(1400);
    std::array<byte_span, 2> out{b1, b2};
    const auto r = fragment_ipv4(df, 1400, out);
    CHECK(r.error() == errc::packet_too_big);
    CHECK(r.detail == 1400);
    // a packet with a copied option (type 0x94, router alert, 4 bytes) and a non-copied one (NOP)
    std::vector<std::uint8_t> p(2000);
    write_ipv4(p.data(), 2000, {{1, 1, 1, 1}, {2, 2, 2, 2}, 0, 64, 17, 9, false});
    p.insert(p.begin() + 20, {0x94, 4, 0, 0, 1, 1, 1, 0});
    p.resize(2000);
    p[0] = 0x47;  // IHL 7
    store_be16(&p[2], 2000);
    store_be16(&p[10], 0);
    store_be16(&p[10], internet_checksum(p.data(), 28));
    std::vector<std::vector<std::uint8_t>> bufs(3, std::vector<std::uint8_t>(1000));
    std::vector<byte_span> outs(bufs.begin(), bufs.end());
    const auto rr = fragment_ipv4(p, 1000, outs);
    REQUIRE(rr);
    CHECK((outs[0][0] & 0x0f) == 7);
    CHECK((outs[1][0] & 0x0f) == 6);  // 20 + the 4-byte copied option
    CHECK(outs[1][20] == 0x94);
  }

  TEST_CASE("pre-fragmentation never writes an offset past 65535 and trims the span of a packet that fits") {
    // a non-last fragment at offset 65000 carrying 1000 more bytes: reassembled it would be
    // 65000 + 20 + 1000 > 65535 (RFC 791 §3.1: 16-bit Total Length, 13-bit offset in 8-byte units)
    auto p = test::inner_ipv4(1020, false);
    store_be16(&p[6], 0x2000 | 65000 / 8);
    store_be16(&p[10], 0);
    store_be16(&p[10], internet_checksum(p.data(), 20));
    std::vector<std::vector<std::uint8_t>> bufs(4, std::vector<std::uint8_t>(600, 0xee));
    std::vector<byte_span> out(bufs.begin(), bufs.end());
    CHECK(fragment_ipv4(p, 576, out).error() == errc::ip_bad_total_length);
    CHECK(std::all_of(bufs[0].begin(), bufs[0].end(), [](auto b) { return b == 0xee; }));  // nothing written
    // at offset 64000 it still fits: fragments go up to 65000 + 20, offsets stay in 13 bits
    store_be16(&p[6], 0x2000 | 64000 / 8);
    store_be16(&p[10], 0);
    store_be16(&p[10], internet_checksum(p.data(), 20));
    const auto ok = fragment_ipv4(p, 576, out);
    REQUIRE(ok);
    for (std::size_t i = 0; i < ok.val; ++i) CHECK((load_be16(&out[i][6]) & 0x2000) != 0);  // MF kept: the input was not last
    // a packet that fits: copied, and the single span is exactly the packet
    const auto small = test::inner_ipv4(300, false);
    std::vector<std::uint8_t> big(1500);
    std::array<byte_span, 1> one{byte_span(big)};
    REQUIRE(fragment_ipv4(small, 1400, one) == std::size_t{1});
    CHECK(one[0].size() == 300);
  }
}
