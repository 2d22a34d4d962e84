// runtime_endpoint.hpp against the typed endpoint, packet for packet (the harness is
// tests/support/twins.hpp): for each stack shape the typed tests cover (tunnel and
// transport, IPv4 and IPv6 underlays, NAT-T, GRE with options, TFC and extra padding,
// plain GRE and IP-in-IP) the same inner packets give the same bytes or the same error
// (code and detail), and the same hostile packets (every truncation, a flipped bit at
// every offset) give the same error and failing layer, or the same inner packet. The
// typed endpoint is the oracle here; its own bytes are checked against published vectors,
// tshark and scapy elsewhere. Every suite: test_runtime_suites.cpp. Also: the SA table.
#include <encap/runtime_endpoint.hpp>
#include <encap/sa_table.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support/backends.hpp"
#include "support/twins.hpp"


using namespace encap;
using namespace encap::test;

TEST_SUITE("runtime_endpoint") {
  TEST_CASE_TEMPLATE("every other stack shape: the same bytes and errors as the typed endpoint", B, ENCAP_BACKENDS) {
    for (const esp_suite s : {aes_256_cbc_hmac_sha1_96::value, aes_256_gcm_16::value, chacha20_poly1305::value}) {
      if (!B::supports(s)) continue;
      const std::string n(to_string(s));
      INFO(n);
      if (s == aes_256_cbc_hmac_sha1_96::value) {
        using S = aes_256_cbc_hmac_sha1_96;
        run_shape<B>(outer4 / udp{4500, 4501} / esp<tunnel, S>{} / ipv4{}, std::string(outer4_spec) + "/udp(sport=4500,dport=4501)/esp(" + n + ")/ipv4", &s);
        run_shape<B>(outer6 / esp<tunnel, S>{}, std::string(outer6_spec) + "/esp(" + n + ")", &s);
        run_shape<B>(outer4 / esp<tunnel, S, tfc_padding<256>>{} / ipv6{}, std::string(outer4_spec) + "/esp(" + n + ",tfc=256)/ipv6", &s);
        run_shape<B>(outer4 / esp<tunnel, S, extra_padding<32>>{} / delivery4 / gre<gre_opt::csum>{},
                     std::string(outer4_spec) + "/esp(" + n + ",pad=32)/" + delivery4_spec + "/gre(csum)", &s,
                     {.mtu = 1400, .df = df_policy::set, .check = outer_check::addresses});
      } else if (s == aes_256_gcm_16::value) {
        using S = aes_256_gcm_16;
        run_shape<B>(outer4 / udp{4500, 4501} / esp<tunnel, S>{} / ipv4{}, std::string(outer4_spec) + "/udp(sport=4500,dport=4501)/esp(" + n + ")/ipv4", &s);
        run_shape<B>(outer6 / esp<tunnel, S>{}, std::string(outer6_spec) + "/esp(" + n + ")", &s);
        run_shape<B>(outer4 / esp<tunnel, S, tfc_padding<256>>{} / ipv6{}, std::string(outer4_spec) + "/esp(" + n + ",tfc=256)/ipv6", &s);
        run_shape<B>(outer4 / esp<transport, S>{} / gre{}, std::string(outer4_spec) + "/esp(" + n + ",transport)/gre", &s,
                     {.mtu = 9000, .df = df_policy::clear});
      } else {
        using S = chacha20_poly1305;
        run_shape<B>(outer6 / udp{} / esp<tunnel, S>{} / ipv6{}, std::string(outer6_spec) + "/udp(4500)/esp(" + n + ")/ipv6", &s);
        run_shape<B>(outer4 / esp<tunnel, S>{} / outer6 / gre<gre_opt::key>{9} / ipv4{},
                     std::string(outer4_spec) + "/esp(" + n + ")/" + outer6_spec + "/gre(key=9)/ipv4", &s);
      }
    }
    // no ESP: plain GRE with every option and IP-in-IP, where the outer addresses are checked
    run_shape<B>(outer4 / gre<gre_opt::csum | gre_opt::key | gre_opt::seq>{42} / ipv6{},
                 std::string(outer4_spec) + "/gre(csum,key=42,seq)/ipv6", nullptr);
    run_shape<B>(outer4 / ipv4{}, std::string(outer4_spec) + "/ipv4", nullptr, {.mtu = 576});
    run_shape<B>(outer4 / gre<gre_opt::key | gre_opt::seq>{42}, std::string(outer4_spec) + "/gre(key=42,seq)", nullptr);
  }

  // Both endpoints write these shapes from their header templates (endpoint.hpp,
  // runtime_endpoint.hpp). With the SAs' own IVs, template against template; then the typed
  // endpoint by its layer walk (an IV set on its SA alone, the one the run-time SA makes)
  // against the run-time template: the same bytes, errors and sequence numbers.
  template <class B, class S>
  void template_shapes() {
    constexpr esp_suite s = S::value;
    if (!B::supports(s)) return;
    const std::string n(to_string(s));
    INFO(n);
    auto run = [&](const auto& st, const std::string& text, tunnel_options o = {.mtu = 1500}, bool rt_template = true) {
      using Stack = std::remove_cvref_t<decltype(st)>;
      INFO(text);
      const auto spec = parse_spec(text);
      REQUIRE(spec.has_value());
      for (const bool walk_typed : {false, true}) {
        CAPTURE(walk_typed);
        twins<B, Stack> t(st, spec.value(), &s, o);
        t.set_iv = false;
        t.walk_typed = walk_typed;
        CHECK(t.typed->header_template());
        CHECK(t.rt->header_template() == rt_template);
        exercise(t, t.typed->max_inner());
        INFO(t.first);
        CHECK(t.mismatches == 0);
        CHECK(t.t_out->next_seq() == t.r_out->next_seq());
        CHECK(t.t_out->next_seq() > 2);  // (sealed packets: shapes that carry one IP version refuse the other)
      }
    };
    run(outer4 / esp<tunnel, S>{} / delivery4 / gre{}, std::string(outer4_spec) + "/esp(" + n + ",tunnel)/" + delivery4_spec + "/gre");
    run(outer4 / udp{4500, 4501} / esp<tunnel, S>{} / ipv4{}, std::string(outer4_spec) + "/udp(sport=4500,dport=4501)/esp(" + n + ")/ipv4",
        {.mtu = 1400, .df = df_policy::set});
    run(outer4 / esp<transport, S, extra_padding<32>>{} / gre<gre_opt::key | gre_opt::seq>{7},
        std::string(outer4_spec) + "/esp(" + n + ",transport,pad=32)/gre(key=7,seq)", {.mtu = 9000, .df = df_policy::clear});
    run(outer4 / udp{} / esp<tunnel, S>{} / delivery4 / ipv6{},
        std::string(outer4_spec) + "/udp(4500)/esp(" + n + ")/" + delivery4_spec + "/ipv6", {.mtu = 1280},
        false);  // (not one of the run-time endpoint's unrolled shapes: its walk)
  }

  TEST_CASE_TEMPLATE("the typed endpoint's header template writes the layer walk's bytes, with the SAs' own IVs", B, ENCAP_BACKENDS) {
    template_shapes<B, aes_256_gcm_16>();
    template_shapes<B, aes_128_gcm_16>();
    template_shapes<B, chacha20_poly1305>();
    template_shapes<B, aes_128_ctr_hmac_sha1_96>();
    template_shapes<B, aes_128_ccm_16>();
    template_shapes<B, aes_256_gmac>();
    template_shapes<B, null_hmac_sha1_96>();
    template_shapes<B, aes_256_cbc_hmac_sha256_128>();  // IV and ciphertext not compared; decap is
  }

  // Decap checks the headers an encapsulator writes in a few wide compares before the codecs
  // (endpoint::decap_fits). A flipped bit in an IPv4 header also breaks its checksum, so
  // these edits keep the checksum right: each must get the same answer (error, layer,
  // decap_info, the bytes left) from the typed endpoint as from the run-time one's codecs.
  // (GRE and UDP headers carry no checksum here: the bit flips of exercise() reach them.)
  TEST_CASE_TEMPLATE("decap's wide compares answer as the codecs do: IPv4 edits with their checksum fixed", B, ENCAP_BACKENDS) {
    using S = aes_256_gcm_16;
    constexpr esp_suite s = S::value;
    const auto st = outer4 / udp{4500, 4501} / esp<tunnel, S>{} / delivery4 / gre<gre_opt::key | gre_opt::seq>{7};
    const std::string text = std::string(outer4_spec) + "/udp(sport=4500,dport=4501)/esp(" + std::string(to_string(s)) + ")/" +
                             delivery4_spec + "/gre(key=7,seq)";
    const auto spec = parse_spec(text);
    REQUIRE(spec.has_value());
    using edit = void (*)(bytes&);
    const std::pair<const char*, edit> edits[] = {
        {"as sent", [](bytes&) {}},
        {"MF", [](bytes& p) { p[6] |= 0x20; }},
        {"fragment offset", [](bytes& p) { p[7] |= 0x01; }},
        {"DF", [](bytes& p) { p[6] |= 0x40; }},
        {"IHL 6", [](bytes& p) { p[0] = 0x46; }},
        {"version 6", [](bytes& p) { p[0] = 0x65; }},
        {"protocol TCP", [](bytes& p) { p[9] = ip_proto::tcp; }},
        {"total length 19", [](bytes& p) { store_be16(&p[2], 19); }},
        {"total length short", [](bytes& p) { store_be16(&p[2], static_cast<std::uint16_t>(load_be16(&p[2]) - 1)); }},
        {"total length long", [](bytes& p) { store_be16(&p[2], static_cast<std::uint16_t>(load_be16(&p[2]) + 1)); }},
        {"link padding", [](bytes& p) { p.resize(p.size() + 4, 0); }},
        {"source address", [](bytes& p) { p[12] ^= 1; }},
        {"destination address", [](bytes& p) { p[19] ^= 1; }},
        {"ECN CE", [](bytes& p) { p[1] |= ecn::ce; }},
        {"TTL 1", [](bytes& p) { p[8] = 1; }},
        {"UDP checksum wrong", [](bytes& p) { store_be16(&p[26], 0x1234); }},
        {"NAT-keepalive", [](bytes& p) { p.resize(29); store_be16(&p[2], 29); store_be16(&p[24], 9); p[28] = 0xff; }},
        {"non-ESP marker", [](bytes& p) { std::fill(p.begin() + 28, p.begin() + 32, std::uint8_t{0}); }},
    };
    for (const outer_check oc : {outer_check::none, outer_check::addresses}) {
      twins<B, std::remove_cvref_t<decltype(st)>> t(st, spec.value(), &s, {.mtu = 1500, .check = oc});
      const bytes sent = t.encap(test::inner_ipv4(100), 1);
      REQUIRE(sent.size() > 100);
      // outer_check::addresses: the packet as the peer sends it, addresses and ports swapped
      bytes pkt = sent;
      if (oc == outer_check::addresses) {
        std::swap_ranges(pkt.begin() + 12, pkt.begin() + 16, pkt.begin() + 16);
        std::swap_ranges(pkt.begin() + 20, pkt.begin() + 22, pkt.begin() + 22);
      }
      for (const auto& [what, e] : edits) {
        bytes p = pkt;
        e(p);
        store_be16(&p[10], 0);
        store_be16(&p[10], internet_checksum(p.data(), 20));
        t.decap(p, what, 0);
      }
      INFO(t.first);
      CHECK(t.mismatches == 0);
      // the packet as sent opens: the edits are compared on a live path (with addresses
      // checked, the inner delivery header, encrypted, still names this side as its source)
      if (oc == outer_check::none) {
        t.t_in->reset_inbound(0);
        bytes live = pkt;
        frame f(live, 0, live.size());
        CHECK(t.typed->decap(f).has_value());
      }
    }
  }

  TEST_CASE_TEMPLATE("bursts give what one call per packet gives, on unrolled shapes and through the per-layer loop", B,
                     ENCAP_BACKENDS) {
    const esp_suite s = aes_256_gcm_16::value;
    const test::suite_keys k(s);
    const esp_sa_config c{.spi = 0x2002, .suite = s, .keys = {k.enc, k.auth}};
    const std::string n(to_string(s));
    struct shape_case {
      std::string text;
      bool unrolled;
    };
    for (const shape_case& sc :
         {shape_case{std::string(outer4_spec) + "/udp(4500)/esp(" + n + ")/ipv4", true},
          shape_case{std::string(outer4_spec) + "/esp(" + n + ")/" + delivery4_spec + "/gre(seq)", true},
          shape_case{std::string(outer6_spec) + "/esp(" + n + ",transport)/gre", true},
          shape_case{std::string(outer4_spec) + "/esp(" + n + ")/" + outer6_spec + "/gre(key=9)/ipv4", false}}) {
      const std::string& text = sc.text;  // (not a structured binding: Clang 14 cannot capture one in INFO)
      const bool unrolled = sc.unrolled;
      INFO(text);
      const auto spec = parse_spec(text).value();
      esp_sa<B> out(c);
      sa_table<B> one, many;
      one.add(c);
      many.add(c);
      runtime_endpoint<B> tx(spec, {.mtu = 1500}, &out, nullptr), rx_one(spec, {.mtu = 1500}, nullptr, &one),
          rx_many(spec, {.mtu = 1500}, nullptr, &many);
      CHECK(rx_one.unrolled() == unrolled);
      // 36 packets: more than one 32-packet chunk
      constexpr std::size_t count = 36;
      const std::size_t stride = tx.headroom() + 1500 + tx.tailroom();
      std::vector<std::uint8_t> buf(count * stride);
      std::vector<frame> frames(count);
      std::vector<result<byte_span>> sent(count);
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t len = 28 + i * 37;
        test::write_inner_ipv4(buf.data() + i * stride + tx.headroom(), len, true, 0, static_cast<std::uint16_t>(i));
        frames[i] = frame({buf.data() + i * stride, stride}, tx.headroom(), len);
      }
      REQUIRE(tx.encap_burst(frames, sent) == count);
      std::vector<bytes> wire;
      for (const auto& f : frames) wire.emplace_back(f.data().begin(), f.data().end());
      // what goes wrong in a burst: a duplicate (a replay), a forged ICV, a truncation,
      // a stranger's SPI, and a forged packet whose sequence number a later genuine one uses
      wire[4] = wire[2];
      wire[7].back() ^= 1;
      wire[9].resize(30);
      wire[11][spec.rules[0].kind == layer_kind::ipv4 ? 20 + (text.find("udp") != std::string::npos ? 8 : 0) : 40] ^= 0x40;
      wire[33] = wire[35];
      wire[33].back() ^= 0x80;
      std::vector<bytes> a = wire, b = wire;
      std::vector<frame> fa(count);
      std::vector<result<decap_info>> ra(count);
      for (std::size_t i = 0; i < count; ++i) fa[i] = frame(a[i], 0, a[i].size());
      const std::size_t ok = rx_many.decap_burst(fa, ra);
      std::size_t ok_one = 0;
      for (std::size_t i = 0; i < count; ++i) {
        CAPTURE(i);
        frame fb(b[i], 0, b[i].size());
        const auto rb = rx_one.decap(fb);
        ok_one += rb.has_value();
        CHECK(ra[i].error() == rb.error());
        CHECK(ra[i].detail == rb.detail);
        if (rb) CHECK(std::equal(fa[i].data().begin(), fa[i].data().end(), fb.data().begin(), fb.data().end()));
      }
      CHECK(ok == ok_one);
      CHECK(ok == count - 5);  // the duplicate, the forged ICV, the truncation, the stranger, the forged one
    }
  }

  TEST_CASE_TEMPLATE("the comparison sees a one-byte difference: a TTL on encap, a GRE key on decap", B,
                     ENCAP_BACKENDS) {
    constexpr esp_suite gcm = aes_256_gcm_16::value;
    const auto ttl = parse_spec("ipv4(src=100.1.1.1,dst=100.3.3.3,ttl=63)/esp(aes-256-gcm-16)/ipv4(src=172.16.0.1,dst=172.16.0.2,ttl=255)/gre");
    twins<B, std::remove_const_t<decltype(outer4 / esp<tunnel, aes_256_gcm_16>{} / delivery4 / gre{})>> a(
        outer4 / esp<tunnel, aes_256_gcm_16>{} / delivery4 / gre{}, ttl.value(), &gcm, {});
    CHECK(a.encap(test::inner_ipv4(100), 1).size() == 180);  // 20 + 8 + 8 + (100 + 20 + 4 + 2, aligned to 4: 128) + 16
    CHECK(a.mismatches == 1);
    CHECK(a.first.find("encap bytes") == 0);
    const auto key = parse_spec("ipv4(src=100.1.1.1,dst=100.3.3.3)/gre(key=8)/ipv4");
    twins<B, std::remove_const_t<decltype(outer4 / gre<gre_opt::key>{7} / ipv4{})>> b(outer4 / gre<gre_opt::key>{7} / ipv4{},
                                                                                               key.value(), nullptr, {});
    const bytes pkt = b.encap(test::inner_ipv4(64), 1);
    INFO(b.first);
    REQUIRE(b.mismatches == 1);  // the key in the header
    REQUIRE(pkt.size() == 20 + 8 + 64);
    b.decap(pkt, "genuine", 0);
    CHECK(b.mismatches == 3);  // the error, and the inner packet only the typed one released
    CHECK(b.first.find("encap bytes") == 0);
  }

  TEST_CASE_TEMPLATE("SA table: 10,000 SAs found by SPI; unknown SPI touches nothing; erase keeps the others reachable", B, ENCAP_BACKENDS) {
    const test::suite_keys keys(aes_128_gcm_16::value);
    sa_table<B> t;
    for (std::uint32_t i = 0; i < 10000; ++i) t.add({.spi = 0x100 + i * 7919u, .suite = aes_128_gcm_16::value, .keys = {keys.enc, keys.auth}});
    CHECK(t.size() == 10000);
    for (std::uint32_t i = 0; i < 10000; ++i) {
      const esp_sa<B>* sa = t.find(0x100 + i * 7919u);
      REQUIRE(sa);
      CHECK(sa->spi() == 0x100 + i * 7919u);
    }
    CHECK(t.find(0x101) == nullptr);
    CHECK(t.find(0) == nullptr);
    CHECK_THROWS_AS(t.add({.spi = 0x100, .suite = aes_128_gcm_16::value, .keys = {keys.enc, keys.auth}}), std::invalid_argument);
    CHECK_THROWS_AS(t.add({.spi = 0, .suite = aes_128_gcm_16::value, .keys = {keys.enc, keys.auth}}), std::invalid_argument);
    // erase every other one (backward-shift deletion must keep every probe chain whole)
    for (std::uint32_t i = 0; i < 10000; i += 2) CHECK(t.erase(0x100 + i * 7919u));
    CHECK_FALSE(t.erase(0x100));
    CHECK(t.size() == 5000);
    for (std::uint32_t i = 0; i < 10000; ++i) CHECK((t.find(0x100 + i * 7919u) != nullptr) == (i % 2 == 1));
    // adjacent SPIs (sequential allocation, as many IKE daemons do)
    sa_table<B> seq;
    for (std::uint32_t i = 1; i <= 3000; ++i) seq.add({.spi = 0xc0000000u + i, .suite = aes_128_gcm_16::value, .keys = {keys.enc, keys.auth}});
    for (std::uint32_t i = 1; i <= 3000; i += 3) CHECK(seq.erase(0xc0000000u + i));
    std::size_t found = 0;
    for (std::uint32_t i = 1; i <= 3000; ++i) found += seq.find(0xc0000000u + i) != nullptr;
    CHECK(found == 2000);
  }

  TEST_CASE_TEMPLATE("rekey: old and new inbound SAs side by side, the outbound switched in one step, nothing lost or sent twice", B,
                     ENCAP_BACKENDS) {
    constexpr esp_suite s = aes_256_gcm_16::value;
    const test::suite_keys k_old(s, 1), k_new(s, 2);
    const auto spec = parse_spec("ipv4(src=192.0.2.1,dst=192.0.2.2)/udp(4500)/esp(aes-256-gcm-16)/ipv4").value();
    const auto back = parse_spec("ipv4(src=192.0.2.2,dst=192.0.2.1)/udp(4500)/esp(aes-256-gcm-16)/ipv4").value();
    esp_sa<B> a_old({.spi = 0x1111, .suite = s, .keys = {k_old.enc, k_old.auth}});
    esp_sa<B> a_new({.spi = 0x2222, .suite = s, .keys = {k_new.enc, k_new.auth}});
    sa_table<B> a_in, b_in;
    b_in.add({.spi = 0x1111, .suite = s, .keys = {k_old.enc, k_old.auth}});
    runtime_endpoint<B> a(spec, {}, &a_old, &a_in), b(back, {}, nullptr, &b_in);
    std::vector<bytes> sent;
    auto send = [&](std::uint8_t tag) {
      bytes buf(a.headroom() + 200 + a.tailroom());
      test::write_inner_ipv4(buf.data() + a.headroom(), 200);
      buf[a.headroom() + 100] = tag;
      frame f(buf, a.headroom(), 200);
      REQUIRE(a.encap(f));
      sent.emplace_back(f.data().begin(), f.data().end());
    };
    for (std::uint8_t i = 0; i < 3; ++i) send(i);
    // IKE installs the new inbound SA at the peer first, then switches the sender
    b_in.add({.spi = 0x2222, .suite = s, .keys = {k_new.enc, k_new.auth}});
    CHECK(a.set_outbound(&a_new) == errc::ok);
    for (std::uint8_t i = 3; i < 6; ++i) send(i);
    // reordered across the switch: old and new both open, each exactly once
    std::vector<std::uint8_t> got;
    for (std::size_t i : {3u, 0u, 4u, 1u, 5u, 2u}) {
      bytes p = sent[i];
      frame f(p, 0, p.size());
      const auto r = b.decap(f);
      REQUIRE(r);
      got.push_back(f.data()[100]);
      frame again(sent[i], 0, sent[i].size());
      bytes copy = sent[i];
      frame g(copy, 0, copy.size());
      CHECK(b.decap(g).error() == errc::esp_replayed);
    }
    CHECK(got == std::vector<std::uint8_t>{3, 0, 4, 1, 5, 2});
    CHECK(load_be32(sent[2].data() + 28) == 0x1111);
    CHECK(load_be32(sent[3].data() + 28) == 0x2222);
    CHECK(load_be32(sent[3].data() + 32) == 1);  // the new SA starts at 1
    // IKE deletes the old SA: its packets are now unknown, and nothing else changed
    CHECK(b_in.erase(0x1111));
    bytes late = sent[0];
    frame f(late, 0, late.size());
    const auto r = b.decap(f);
    CHECK(r.error() == errc::esp_unknown_spi);
    CHECK(r.detail == 2);  // the ESP layer
    CHECK(late == sent[0]);
    // an outbound SA of another suite does not fit the stack: refused, nothing changes
    const test::suite_keys k_cbc(aes_256_cbc_hmac_sha1_96::value);
    esp_sa<B> cbc({.spi = 0x3333, .suite = aes_256_cbc_hmac_sha1_96::value, .keys = {k_cbc.enc, k_cbc.auth}});
    CHECK(a.set_outbound(&cbc) == errc::invalid_suite);
    CHECK(a.outbound() == &a_new);
  }

  TEST_CASE_TEMPLATE("construction refuses what the data path cannot drive, with a sentence", B, ENCAP_BACKENDS) {
    const auto vx = parse_spec("ipv4/udp/vxlan/eth").value();
    CHECK_THROWS_WITH_AS(runtime_endpoint<B>(vx, {}), doctest::Contains("data_path_layer"), std::invalid_argument);
    // the sizing-only layers of the layer table, and IPv4 options (the endpoint writes 20-byte headers)
    for (const char* text : {"ipv4/ah(sha1)/ipv4", "ipv4/tcp/esp(aes-256-gcm-16)/ipv4", "ipv4/esp(aes-256-gcm-16)/iptfs/ipv4",
                             "ipv6/srh(2)/esp(aes-256-gcm-16)/ipv6", "ipv4/udp/gtpu/ipv4"})
      CHECK_THROWS_WITH_AS(runtime_endpoint<B>(parse_spec(text).value(), {}), doctest::Contains("sizing-only"),
                           std::invalid_argument);
    CHECK_THROWS_WITH_AS(runtime_endpoint<B>(parse_spec("ipv4(options=8)/esp(aes-256-gcm-16)/ipv4").value(), {}),
                         doctest::Contains("IPv4 options are sizing-only"), std::invalid_argument);
    const test::suite_keys k(aes_256_cbc_hmac_sha1_96::value);
    esp_sa<B> cbc({.spi = 0x3333, .suite = aes_256_cbc_hmac_sha1_96::value, .keys = {k.enc, k.auth}});
    const auto gcm = parse_spec("ipv4/esp(aes-256-gcm-16)/ipv4").value();
    CHECK_THROWS_AS(runtime_endpoint<B>(gcm, {}, &cbc), std::invalid_argument);
  }

  TEST_CASE_TEMPLATE("NAT-T: a packet from a new address and port opens (the SA is found by SPI) and says where it came from", B,
                     ENCAP_BACKENDS) {
    constexpr esp_suite s = aes_128_gcm_16::value;
    const test::suite_keys k(s);
    const auto a_spec = parse_spec("ipv4(src=192.0.2.1,dst=198.51.100.7)/udp(4500)/esp(aes-128-gcm-16)/ipv4").value();
    const auto b_spec = parse_spec("ipv4(src=198.51.100.7,dst=192.0.2.1)/udp(4500)/esp(aes-128-gcm-16)/ipv4").value();
    esp_sa<B> out({.spi = 0x4242, .suite = s, .keys = {k.enc, k.auth}});
    sa_table<B> in;
    in.add({.spi = 0x4242, .suite = s, .keys = {k.enc, k.auth}});
    runtime_endpoint<B> a(a_spec, {}, &out, nullptr), b(b_spec, {}, nullptr, &in);
    for (const bool rebound : {false, true}) {
      bytes buf(a.headroom() + 100 + a.tailroom());
      test::write_inner_ipv4(buf.data() + a.headroom(), 100);
      frame f(buf, a.headroom(), 100);
      REQUIRE(a.encap(f));
      bytes pkt(f.data().begin(), f.data().end());
      if (rebound) {  // a NAT in between picked a new public address and port
        pkt[12] = 203, pkt[13] = 0, pkt[14] = 113, pkt[15] = 9;
        store_be16(&pkt[10], 0);
        store_be16(&pkt[10], internet_checksum(pkt.data(), 20));
        store_be16(&pkt[20], 61001);  // (UDP checksum 0 over IPv4: RFC 3948 §2.1)
      }
      frame g(pkt, 0, pkt.size());
      const auto r = b.decap(g);
      REQUIRE(r);
      REQUIRE(r.value().outer_source == pkt.data() + 12);
      CHECK_FALSE(r.value().outer_ipv6);
      const std::array<std::uint8_t, 4> want = rebound ? std::array<std::uint8_t, 4>{203, 0, 113, 9} : std::array<std::uint8_t, 4>{192, 0, 2, 1};
      CHECK(std::equal(want.begin(), want.end(), r.value().outer_source));
      CHECK(r.value().outer_source_port == (rebound ? 61001 : 4500));
    }
  }
  TEST_CASE_TEMPLATE("SA table bound to peers: one SPI, three SAs; each opens only its own peer's packets, the unbound one the rest", B,
                     ENCAP_BACKENDS) {
    // Manual keying can give two peers the same inbound SPI (each writes its own `ip xfrm
    // state` line); binding each SA to its peer's address and NAT-T port keeps them apart
    // (RFC 4301 §4.1: SPI plus addresses; RFC 3948 §2.2: the port). Three senders with
    // their own keys, all on SPI 0x5151: peer 1 at 192.0.2.1:4500, peer 2 at 192.0.2.1:61001
    // (the same address: a second host behind one NAT), and anyone else (unbound).
    constexpr esp_suite s = aes_128_gcm_16::value;
    const test::suite_keys k1(s, 1), k2(s, 2), k3(s, 3);
    const auto spec_from = [](const char* src) {
      return parse_spec(std::string("ipv4(src=") + src + ",dst=198.51.100.7)/udp(4500)/esp(aes-128-gcm-16)/ipv4").value();
    };
    const auto rx_spec = parse_spec("ipv4(src=198.51.100.7,dst=192.0.2.1)/udp(4500)/esp(aes-128-gcm-16)/ipv4").value();
    sa_table<B> in;
    esp_sa<B>& sa1 = in.add({.spi = 0x5151, .suite = s, .keys = {k1.enc, k1.auth}}, sa_peer::parse("192.0.2.1", 4500));
    esp_sa<B>& sa2 = in.add({.spi = 0x5151, .suite = s, .keys = {k2.enc, k2.auth}}, sa_peer::parse("192.0.2.1", 61001));
    esp_sa<B>& sa3 = in.add({.spi = 0x5151, .suite = s, .keys = {k3.enc, k3.auth}});
    CHECK_THROWS_AS(in.add({.spi = 0x5151, .suite = s, .keys = {k3.enc, k3.auth}}), std::invalid_argument);  // a second unbound
    CHECK_THROWS_AS(in.add({.spi = 0x5151, .suite = s, .keys = {k1.enc, k1.auth}}, sa_peer::parse("192.0.2.1", 4500)),
                    std::invalid_argument);  // the same peer twice
    CHECK(in.size() == 3);
    CHECK(in.peer_of(sa2) == sa_peer::parse("192.0.2.1", 61001));
    CHECK_FALSE(in.peer_of(sa3).has_value());
    runtime_endpoint<B> rx(rx_spec, {}, nullptr, &in);

    // One packet from `src`:`sport` sealed with `keys`; its decap result and which SA's
    // window moved.
    const auto send = [&](const test::suite_keys& keys, const char* src, std::uint16_t sport, std::uint64_t seq = 1) {
      esp_sa<B> out({.spi = 0x5151, .suite = s, .keys = {keys.enc, keys.auth}});
      REQUIRE(out.set_next_seq(seq) == errc::ok);
      runtime_endpoint<B> tx(spec_from(src), {}, &out, nullptr);
      bytes buf(tx.headroom() + 100 + tx.tailroom());
      test::write_inner_ipv4(buf.data() + tx.headroom(), 100);
      frame f(buf, tx.headroom(), 100);
      REQUIRE(tx.encap(f));
      bytes pkt(f.data().begin(), f.data().end());
      store_be16(&pkt[20], sport);  // (UDP checksum 0 over IPv4: RFC 3948 §2.1)
      const bytes sent = pkt;
      frame g(pkt, 0, pkt.size());
      const auto r = rx.decap(g);
      if (!r && r.error() == errc::esp_unknown_spi) CHECK(pkt == sent);  // no SA: nothing is touched
      return r;
    };
    const auto top = [](const esp_sa<B>& sa) { return sa.window().top(); };

    CHECK(send(k1, "192.0.2.1", 4500));   // peer 1's SA
    CHECK(top(sa1) == 1);
    CHECK(send(k2, "192.0.2.1", 61001));  // peer 2's SA, same address, other port
    CHECK(top(sa2) == 1);
    CHECK(send(k3, "203.0.113.9", 4500));  // anyone else: the unbound SA
    CHECK(top(sa3) == 1);
    // peer 1's key from peer 2's port reaches peer 2's SA and fails its ICV: a bound SA
    // never opens another peer's packets, and the SA it reached is untouched
    const auto wrong = send(k1, "192.0.2.1", 61001, 2);  // (a new number: past the replay check)
    CHECK(wrong.error() == errc::esp_bad_icv);
    CHECK(top(sa2) == 1);
    CHECK(top(sa1) == 1);

    // without the unbound SA, a stranger finds nothing: esp_unknown_spi, nothing touched
    REQUIRE(in.erase(0x5151));
    CHECK(in.size() == 2);
    const auto stranger = send(k3, "203.0.113.9", 4500);
    CHECK(stranger.error() == errc::esp_unknown_spi);
    CHECK(top(sa1) == 1);
    CHECK(top(sa2) == 1);
    // erasing one peer's SA leaves the other's reachable
    REQUIRE(in.erase(0x5151, sa_peer::parse("192.0.2.1", 4500)));
    CHECK_FALSE(in.erase(0x5151, sa_peer::parse("192.0.2.1", 4500)));
    CHECK(send(k2, "192.0.2.1", 61001, 3));
    CHECK(top(sa2) == 3);
    CHECK(send(k1, "192.0.2.1", 4500, 4).error() == errc::esp_unknown_spi);
    CHECK(in.find(0x5151) == &sa2);  // by SPI alone: the bound one that is left

    // an IPv6 peer and port 0 (any port)
    const auto v6 = sa_peer::parse("2001:db8::1");
    REQUIRE(v6);
    CHECK(v6->ipv6);
    const std::array<std::uint8_t, 16> a6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(v6->matches(a6.data(), true, 12345));
    CHECK_FALSE(v6->matches(a6.data(), false, 12345));
    CHECK_FALSE(sa_peer::parse("192.0.2.256").has_value());
  }

  TEST_CASE_TEMPLATE("SA table with bindings: 10,000 SAs, half bound, stay O(1) and survive erase", B, ENCAP_BACKENDS) {
    const esp_suite s = aes_256_gcm_16::value;
    const test::suite_keys k(s);
    sa_table<B> t;
    const std::uint8_t peer_a[4] = {192, 0, 2, 1}, peer_b[4] = {192, 0, 2, 2};
    for (std::uint32_t i = 0; i < 5000; ++i) {
      t.add({.spi = 0x1000 + i, .suite = s, .keys = {k.enc, k.auth}}, sa_peer::parse("192.0.2.1", 4500));
      t.add({.spi = 0x1000 + i, .suite = s, .keys = {k.enc, k.auth}});
    }
    std::size_t right = 0;
    for (std::uint32_t i = 0; i < 5000; ++i) {
      const esp_sa<B>* bound = t.find(0x1000 + i, peer_a, false, 4500);
      const esp_sa<B>* other = t.find(0x1000 + i, peer_b, false, 4500);
      right += bound && other && bound != other && t.peer_of(*bound) && !t.peer_of(*other);
    }
    CHECK(right == 5000);
    for (std::uint32_t i = 0; i < 5000; i += 2) REQUIRE(t.erase(0x1000 + i, sa_peer::parse("192.0.2.1", 4500)));
    right = 0;
    for (std::uint32_t i = 0; i < 5000; ++i) {
      const esp_sa<B>* got = t.find(0x1000 + i, peer_a, false, 4500);
      right += got && (t.peer_of(*got).has_value() == (i % 2 == 1));
    }
    CHECK(right == 5000);
    CHECK(t.size() == 7500);
  }
}
