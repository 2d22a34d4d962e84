// bytes.hpp, frame.hpp and wire/*.hpp: checksums, header build and parse-and-validate.
#include <encap/bytes.hpp>
#include <encap/frame.hpp>
#include <encap/wire/esp.hpp>
#include <encap/wire/gre.hpp>
#include <encap/wire/ip.hpp>
#include <encap/wire/udp.hpp>

#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "support/packets.hpp"

using namespace encap;

TEST_SUITE("wire") {
  TEST_CASE("Internet checksum: RFC 1071 §3 worked example") {
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement), checksum 220d
    const std::array<std::uint8_t, 8> data{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(internet_checksum(data.data(), data.size()) == 0x220d);
  }

  // The oracle: RFC 1071 §4.1's loop, 16-bit big-endian words from the bytes, written here
  // independently of bytes.hpp (which adds 32-bit words as they lie in memory).
  static std::uint16_t rfc1071(const std::uint8_t* p, std::size_t n) {
    std::uint32_t sum = 0;
    for (; n > 1; n -= 2, p += 2) sum += static_cast<std::uint32_t>(p[0] << 8 | p[1]);
    if (n) sum += static_cast<std::uint32_t>(p[0] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
  }

  TEST_CASE("Internet checksum equals RFC 1071's loop: every length to 100, unaligned, all-ones and all-zero data") {
    std::uint32_t x = 12345;
    std::vector<std::uint8_t> buf(104);
    for (int fill = 0; fill < 3; ++fill) {
      for (auto& b : buf) b = fill == 0 ? static_cast<std::uint8_t>((x = x * 1103515245 + 12345) >> 16) : fill == 1 ? 0xff : 0;
      for (std::size_t off = 0; off < 4; ++off)
        for (std::size_t n = 0; n <= 100; ++n) {
          CAPTURE(fill);
          CAPTURE(off);
          CAPTURE(n);
          CHECK(internet_checksum(buf.data() + off, n) == rfc1071(buf.data() + off, n));
        }
    }
    // a partial sum carried into the next call, as the pseudo-header sums do
    const std::array<std::uint8_t, 8> a{0xff, 0xff, 0xff, 0xfe, 0x80, 0x01, 0x00, 0x7f};
    CHECK(internet_checksum(a.data() + 4, 4, checksum_add(0, a.data(), 4)) == rfc1071(a.data(), 8));
  }

  TEST_CASE("incremental checksum update matches recomputation (RFC 1624)") {
    auto p = test::inner_ipv4(60);
    for (std::uint16_t v : {0x0000, 0x00ff, 0xffff, 0x1234}) {
      const std::uint16_t old_word = load_be16(&p[8]);
      store_be16(&p[8], v);
      store_be16(&p[10], checksum_update(load_be16(&p[10]), old_word, v));
      CHECK(internet_checksum(p.data(), 20) == 0);
    }
  }

  TEST_CASE("frame push/pull/put/trim stay inside the storage") {
    std::array<std::uint8_t, 32> buf{};
    frame f(buf, 8, 16);
    CHECK(f.headroom() == 8);
    CHECK(f.tailroom() == 8);
    CHECK_FALSE(f.push(9));
    CHECK(f.size() == 16);
    CHECK(f.push(8));
    CHECK(f.headroom() == 0);
    CHECK_FALSE(f.put(9));
    CHECK(f.put(8));
    CHECK(f.size() == 32);
    CHECK_FALSE(f.pull(33));
    CHECK(f.pull(4));
    CHECK(f.trim(4));
    CHECK(f.size() == 24);
    CHECK(f.truncate(10));
    CHECK(f.size() == 10);
    CHECK_FALSE(f.truncate(11));
  }

  TEST_CASE("frame put_back returns to an earlier headroom and size after headers and a trailer") {
    std::array<std::uint8_t, 64> buf{};
    frame f(buf, 24, 16);
    const std::size_t head = f.headroom(), len = f.size();
    REQUIRE(f.push(20));  // headers in front, a trailer behind: what a failed encap leaves
    REQUIRE(f.put(12));
    f.put_back(head, len);
    CHECK(f.headroom() == 24);
    CHECK(f.size() == 16);
    CHECK(f.tailroom() == 24);
    CHECK(f.data().data() == buf.data() + 24);
    f.put_back(head, len);  // already there: unchanged
    CHECK(f.headroom() == 24);
    CHECK(f.size() == 16);
  }

  TEST_CASE("IPv4 header: built headers parse back, with a valid checksum") {
    std::array<std::uint8_t, 40> p{};
    write_ipv4(p.data(), 40, {{1, 2, 3, 4}, {5, 6, 7, 8}, 0xb8, 17, ip_proto::esp, 77, true});
    CHECK(internet_checksum(p.data(), 20) == 0);
    const auto h = parse_ipv4(p);
    REQUIRE(h);
    CHECK(h.val.total_length == 40);
    CHECK(h.val.protocol == ip_proto::esp);
    CHECK(h.val.tos == 0xb8);
    CHECK(h.val.df);
    CHECK(h.val.ttl == 17);
  }

  TEST_CASE("IPv4 header checksum as written equals RFC 1071's loop, on random headers and where it is 0x0000") {
    // the oracle recomputes over the header with its checksum field zeroed; write_ipv4 sums
    // the fields before storing them, and at run time (not in constant evaluation)
    std::uint32_t x = 5;
    auto next = [&] { return static_cast<std::uint8_t>((x = x * 1103515245 + 12345) >> 16); };
    auto check = [&](const ipv4_fields& f, std::size_t total) {
      std::array<std::uint8_t, 20> h{};
      write_ipv4(h.data(), total, f);
      const std::uint16_t written = load_be16(&h[10]);
      store_be16(&h[10], 0);
      CHECK(written == rfc1071(h.data(), 20));
      return written;
    };
    for (int i = 0; i < 20000; ++i) {
      ipv4_fields f{{next(), next(), next(), next()}, {next(), next(), next(), next()}, next(), next(), next(),
                    static_cast<std::uint16_t>(next() << 8 | next()), (next() & 1) != 0};
      check(f, 20 + (static_cast<std::size_t>(next()) << 8 | next()) % 65516);
    }
    // the identification that makes the other words sum to all ones: checksum 0x0000 (not 0xffff)
    ipv4_fields f{{10, 0, 0, 1}, {10, 0, 0, 2}, 0, 64, ip_proto::gre, 0, true};
    std::array<std::uint8_t, 20> h{};
    write_ipv4(h.data(), 1400, f);
    f.id = load_be16(&h[10]);
    CHECK(check(f, 1400) == 0x0000);
  }

  TEST_CASE("IPv4 parse rejects each malformed field with its own error") {
    auto good = test::inner_ipv4(60);
    auto with = [&](auto mutate, bool fix_checksum = true) {
      auto p = good;
      mutate(p);
      if (fix_checksum) { store_be16(&p[10], 0); store_be16(&p[10], internet_checksum(p.data(), 20)); }
      return parse_ipv4(p).error();
    };
    CHECK(with([](auto&) {}) == errc::ok);
    CHECK(with([](auto& p) { p[0] = 0x55; }) == errc::ip_bad_version);
    CHECK(with([](auto& p) { p[0] = 0x44; }) == errc::ip_bad_header_length);
    CHECK(with([](auto& p) { p[0] = 0x4f; }) == errc::ip_bad_checksum);  // IHL 60 fits the 60-byte packet
    CHECK(with([](auto& p) { store_be16(&p[2], 19); }) == errc::ip_bad_total_length);
    CHECK(with([](auto& p) { store_be16(&p[2], 61); }) == errc::truncated);
    CHECK(with([](auto& p) { p[11] ^= 1; }, false) == errc::ip_bad_checksum);
    CHECK(with([](auto& p) { store_be16(&p[6], 0x2000); }) == errc::ip_fragment);  // MF
    CHECK(with([](auto& p) { store_be16(&p[6], 0x0010); }) == errc::ip_fragment);  // offset
    CHECK(parse_ipv4(std::span(good).first(19)).error() == errc::truncated);
  }

  TEST_CASE("multiple_of_ffff agrees with the remainder, at the edges and on random sums of five words") {
    // the header check's test: five 32-bit words sum to at most 5 * (2^32 - 1)
    const std::uint64_t top = 5 * std::uint64_t{0xffffffff};
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0xfffe}, std::uint64_t{0xffff}, std::uint64_t{0x10000},
                            std::uint64_t{0x1fffe}, top, top - top % 0xffff, top - top % 0xffff - 1, ~std::uint64_t{0}})
      CHECK(multiple_of_ffff(v) == (v % 0xffff == 0));
    std::uint64_t x = 7;
    int multiples = 0;
    for (int i = 0; i < 100000; ++i) {
      x = x * 6364136223846793005u + 1442695040888963407u;
      const std::uint64_t v = (x >> 11) % (top + 1), m = v - v % 0xffff;  // a value, and the multiple below it
      CHECK(multiple_of_ffff(v) == (v % 0xffff == 0));
      CHECK(multiple_of_ffff(m));
      CHECK(!multiple_of_ffff(m + 1 + v % 0xfffe));
      multiples += v % 0xffff == 0;
    }
    CHECK(multiples < 10);  // (random values are rarely multiples: the two lines above test those)
  }

  TEST_CASE("IPv4 parse accepts either form of one's-complement zero in the checksum field (RFC 1624 §3)") {
    // the identification chosen so that the header's checksum computes to 0x0000: the words
    // without it sum to ~id, so with it to all ones
    auto p = test::inner_ipv4(60);
    store_be16(&p[4], 0);
    store_be16(&p[10], 0);
    store_be16(&p[4], rfc1071(p.data(), 20));
    REQUIRE(rfc1071(p.data(), 20) == 0);  // checksum 0x0000 is right
    CHECK(parse_ipv4(p).error() == errc::ok);
    store_be16(&p[10], 0xffff);           // and so is 0xffff, by RFC 1071's loop too
    REQUIRE(rfc1071(p.data(), 20) == 0);
    CHECK(parse_ipv4(p).error() == errc::ok);
    store_be16(&p[10], 0xfffe);
    CHECK(parse_ipv4(p).error() == errc::ip_bad_checksum);
  }

  TEST_CASE("IPv4 parse of option-less headers (the wide-load path) agrees with RFC 791's rules on random headers") {
    // The oracle is RFC 791 written out here: version 4, IHL 5, total length from 20 to
    // the buffer, checksum by RFC 1071's loop, neither MF nor a fragment offset.
    std::uint32_t x = 99;
    auto next = [&] { return static_cast<std::uint8_t>((x = x * 1103515245 + 12345) >> 16); };
    int accepted = 0;
    for (int round = 0; round < 4000; ++round) {
      std::array<std::uint8_t, 64> p{};
      for (auto& b : p) b = next();
      p[0] = 0x45;
      const std::size_t size = 20 + next() % 45;
      const int pick = next() % 4;  // mostly plausible headers, so every check is reached
      if (pick) store_be16(&p[2], static_cast<std::uint16_t>(next() % (size + 8)));
      if (pick >= 2 && next() % 2) p[6] &= 0x40;  // DF alone: not a fragment
      if (pick == 3) p[7] = 0;
      if (pick >= 2 && next() % 4) { store_be16(&p[10], 0); store_be16(&p[10], rfc1071(p.data(), 20)); }
      const std::size_t total = load_be16(&p[2]);
      errc expect = errc::ok;
      if (total < 20) expect = errc::ip_bad_total_length;
      else if (total > size) expect = errc::truncated;
      else if (rfc1071(p.data(), 20) != 0) expect = errc::ip_bad_checksum;
      else if ((load_be16(&p[6]) & 0x3fff) != 0) expect = errc::ip_fragment;
      const auto h = parse_ipv4(std::span(p).first(size));
      CAPTURE(round);
      REQUIRE(h.error() == expect);
      if (expect == errc::ok) {
        ++accepted;
        CHECK(h.val.header_length == 20);
        CHECK(h.val.total_length == total);
        CHECK(h.val.tos == p[1]);
        CHECK(h.val.protocol == p[9]);
        CHECK(h.val.ttl == p[8]);
        CHECK(h.val.df == ((p[6] & 0x40) != 0));
      }
    }
    CHECK(accepted > 100);  // the accepting branch was exercised, not only the errors
  }

  TEST_CASE("IPv6 parse checks version and payload length") {
    auto p = test::inner_ipv6(80);
    CHECK(parse_ipv6(p).has_value());
    CHECK(parse_ipv6(std::span(p).first(79)).error() == errc::truncated);
    p[0] = 0x40;
    CHECK(parse_ipv6(p).error() == errc::ip_bad_version);
  }

  TEST_CASE("RFC 6040 §4.2 decapsulation table, every combination") {
    using namespace ecn;
    // rows: inner Not-ECT, ECT(0), ECT(1), CE; columns: outer Not-ECT, ECT(0), ECT(1), CE; 255 = drop
    const std::uint8_t table[4][4] = {{not_ect, not_ect, not_ect, 255},
                                      {ect0, ect0, ect1, ce},
                                      {ect1, ect1, ect1, ce},
                                      {ce, ce, ce, ce}};
    const std::uint8_t code[4] = {not_ect, ect0, ect1, ce};
    for (int i = 0; i < 4; ++i)
      for (int o = 0; o < 4; ++o) {
        const auto r = ecn_decap(code[i], code[o]);
        if (table[i][o] == 255) CHECK(r.error() == errc::ecn_drop);
        else CHECK(r == table[i][o]);
      }
  }

  TEST_CASE("set_ecn keeps the IPv4 checksum valid") {
    auto p = test::inner_ipv4(40, true, 0xb8 | ecn::ect0);
    set_ecn(p, ecn::ce);
    CHECK((p[1] & 3) == ecn::ce);
    CHECK((p[1] & 0xfc) == 0xb8);
    CHECK(internet_checksum(p.data(), 20) == 0);
  }

  TEST_CASE("GRE: options, checksum and key are written and verified (RFC 2784, RFC 2890)") {
    std::vector<std::uint8_t> p(16 + 40);
    const gre_opt all = gre_opt::csum | gre_opt::key | gre_opt::seq;
    test::write_inner_ipv4(p.data() + 16, 40);
    write_gre(p.data(), 40, all, ether_type::ipv4, 0xdeadbeef, 42);
    CHECK(load_be16(&p[0]) == 0xb000);  // C, K, S
    CHECK(internet_checksum(p.data(), p.size()) == 0);
    const auto h = parse_gre(p, 0xdeadbeef);
    REQUIRE(h);
    CHECK(h.val.header_length == 16);
    CHECK(h.val.seq == 42u);
    CHECK(h.val.protocol == ether_type::ipv4);
    CHECK(parse_gre(p, 0xdeadbeee).error() == errc::gre_key_mismatch);
    CHECK(parse_gre(p, std::nullopt).error() == errc::gre_key_mismatch);
    auto bad = p;
    bad[30] ^= 0xff;
    CHECK(parse_gre(bad, 0xdeadbeef).error() == errc::gre_bad_checksum);
    bad = p;
    bad[1] |= 1;  // version 1 (PPTP's enhanced GRE)
    CHECK(parse_gre(bad, 0xdeadbeef).error() == errc::gre_bad_version);
    bad = p;
    bad[0] |= 0x40;  // routing present (RFC 1701), deprecated by RFC 2784
    CHECK(parse_gre(bad, 0xdeadbeef).error() == errc::gre_reserved_bits);
    CHECK(parse_gre(std::span(p).first(11), 0xdeadbeef).error() == errc::truncated);
  }

  TEST_CASE("GRE: the bare 4-byte header (RFC 2784 without options) parses alone, and refuses a configured key") {
    const std::array<std::uint8_t, 4> v6{0x00, 0x00, 0x86, 0xdd};
    const auto h = parse_gre(v6, std::nullopt);
    REQUIRE(h);
    CHECK(h.val.header_length == 4);
    CHECK(h.val.protocol == ether_type::ipv6);
    CHECK_FALSE(h.val.key);
    CHECK_FALSE(h.val.seq);
    CHECK(parse_gre(v6, 7u).error() == errc::gre_key_mismatch);
    CHECK(parse_gre(std::span(v6).first(3), std::nullopt).error() == errc::truncated);
  }

  TEST_CASE("NAT-T classification: keepalive and non-ESP marker are not ESP (RFC 3948)") {
    const std::array<std::uint8_t, 1> keepalive{0xff};
    const std::array<std::uint8_t, 8> ike{0, 0, 0, 0, 1, 2, 3, 4};
    const std::array<std::uint8_t, 8> esp{0, 0, 0x10, 0x01, 0, 0, 0, 1};
    CHECK(classify_nat_t(keepalive) == errc::nat_keepalive);
    CHECK(classify_nat_t(ike) == errc::non_esp_marker);
    CHECK(classify_nat_t(esp) == errc::ok);
  }

  // RFC 4303 §2.4: padding bytes are 1, 2, 3, ...; the checker reads the eight bytes
  // ending at the padding when it may (pad_len <= 8 and enough payload in front), so each
  // length, each corrupted byte and each amount of payload in front is tried.
  TEST_CASE("ESP padding: written and checked as RFC 4303 §2.4 says, at every length") {
    for (std::size_t pad_len = 0; pad_len <= 20; ++pad_len)
      for (std::size_t before = 0; before <= 10; ++before) {
        CAPTURE(pad_len);
        CAPTURE(before);
        std::vector<std::uint8_t> b(before + pad_len, 0xee);  // payload, then the padding
        for (std::size_t i = 0; i < pad_len; ++i) b[before + i] = static_cast<std::uint8_t>(i + 1);
        CHECK(esp_padding_valid(b.data() + before, pad_len, before));
        for (std::size_t i = 0; i < pad_len; ++i) {  // any one padding byte wrong
          auto bad = b;
          bad[before + i] ^= 0x10;
          CHECK_FALSE(esp_padding_valid(bad.data() + before, pad_len, before));
        }
        if (before) {  // the payload in front is not padding
          auto other = b;
          other[before - 1] = 0;
          CHECK(esp_padding_valid(other.data() + before, pad_len, before));
        }
      }
  }

  TEST_CASE("ESP trailer: padding, pad length and next header, nothing past the packet") {
    for (std::size_t pad_len = 0; pad_len <= 20; ++pad_len)
      for (std::size_t icv : {0, 8, 12, 16}) {
        CAPTURE(pad_len);
        CAPTURE(icv);
        const std::size_t n = 5, tfc = 3, tail = tfc + pad_len + 2 + icv;
        std::array<std::uint8_t, 64> buf;  // the packet, then guard bytes
        buf.fill(0xaa);
        REQUIRE(n + tail + 8 <= buf.size());
        write_esp_trailer(buf.data(), n, n + tfc, pad_len, ip_proto::ipv4, tail);
        for (std::size_t i = 0; i < n; ++i) CHECK(buf[i] == 0xaa);         // the payload untouched
        for (std::size_t i = 0; i < tfc; ++i) CHECK(buf[n + i] == 0);      // TFC padding: zeros (RFC 4303 §2.7)
        for (std::size_t i = 0; i < pad_len; ++i) CHECK(buf[n + tfc + i] == i + 1);
        CHECK(buf[n + tfc + pad_len] == pad_len);
        CHECK(buf[n + tfc + pad_len + 1] == ip_proto::ipv4);
        for (std::size_t i = n + tail; i < buf.size(); ++i) CHECK(buf[i] == 0xaa);  // the guard
      }
  }
}
