// Test support: the typed endpoint and the run-time one over the same stack, compared
// packet for packet (tests/test_runtime_endpoint.cpp, test_runtime_suites.cpp).
#pragma once

#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>
#include <encap/runtime_endpoint.hpp>
#include <encap/sa_table.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "packets.hpp"

namespace encap::test {


using bytes = std::vector<std::uint8_t>;

inline std::string describe(const char* what, std::size_t at, errc te, std::uint32_t td, errc re, std::uint32_t rd) {
  return std::string(what) + " at " + std::to_string(at) + ": typed " + to_string(te) + " (" + std::to_string(td) + "), runtime " +
         to_string(re) + " (" + std::to_string(rd) + ")";
}

// The typed endpoint and the run-time one over the same stack, each with its own SAs
// built from the same configuration.
template <class B, class Stack>
struct twins {
  test::suite_keys keys;
  std::optional<esp_sa<B>> t_out, t_in, r_out;
  sa_table<B> r_in;
  esp_sa<B>* r_in_sa = nullptr;
  std::optional<endpoint<B, Stack>> typed;
  std::optional<runtime_endpoint<B>> rt;
  std::size_t mismatches = 0;
  std::string first;
  // false: the SAs make their own IVs, so that the typed endpoint runs its header template
  // (set_next_iv sends it down the layer walk); counter IVs are equal in both, a CBC IV and
  // its ciphertext are not compared
  bool set_iv = true;
  // with set_iv false: the typed endpoint alone gets a set IV, so that it takes the layer
  // walk while the run-time one writes from its header template. For a counter suite that
  // IV is the one the run-time SA makes itself (the sequence number); CBC's are not compared.
  bool walk_typed = false;

  twins(const Stack& st, const stack_spec& spec, const esp_suite* s, tunnel_options o) : keys(s ? *s : esp_suite{}) {
    if (s) {
      const esp_sa_config c{.spi = 0x1001, .suite = *s, .keys = {keys.enc, keys.auth}, .allow_legacy = true};
      t_out.emplace(c);
      t_in.emplace(c);
      r_out.emplace(c);
      r_in_sa = &r_in.add(c);
    }
    typed.emplace(st, o, t_out ? &*t_out : nullptr, t_in ? &*t_in : nullptr);
    rt.emplace(spec, o, r_out ? &*r_out : nullptr, &r_in);
  }

  void mismatch(std::string m) {
    if (!mismatches++) first = std::move(m);
  }

  // Encapsulates `inner` with both (the same IV); compares; returns the packet (empty on an error).
  bytes encap(const bytes& inner, std::uint8_t iv_seed) {
    constexpr std::size_t head = Stack::headroom, tail = Stack::tailroom;
    if (rt->headroom() != head || rt->tailroom() != tail || rt->max_inner() != typed->max_inner()) mismatch("sizes");
    if (t_out && set_iv) {
      bytes iv(t_out->suite().iv_size(), iv_seed);
      if (!iv.empty()) {
        REQUIRE(t_out->set_next_iv(iv) == errc::ok);
        REQUIRE(r_out->set_next_iv(iv) == errc::ok);
      }
    }
    if (t_out && !set_iv && walk_typed && t_out->suite().iv_size() != 0) {
      bytes iv(t_out->suite().iv_size());
      counter_iv(t_out->next_seq(), iv);
      REQUIRE(t_out->set_next_iv(iv) == errc::ok);
    }
    // (built by insert: std::copy to begin() + head drew GCC 12's -Wstringop-overflow false
    // positive in Release builds)
    bytes a(head);
    a.insert(a.end(), inner.begin(), inner.end());
    a.resize(head + inner.size() + tail);
    bytes b = a;
    frame fa(a, head, inner.size()), fb(b, head, inner.size());
    const auto ra = typed->encap(fa);
    const auto rb = rt->encap(fb);
    if (ra.error() != rb.error() || ra.detail != rb.detail)
      mismatch(describe("encap", inner.size(), ra.error(), ra.detail, rb.error(), rb.detail));
    // too big: both say the tunnel MTU (the typed endpoint is the oracle only if it says it)
    if ((ra.error() == errc::packet_too_big || ra.error() == errc::needs_fragmentation) && ra.detail != typed->max_inner())
      mismatch("too big without the tunnel MTU in detail");
    if (t_out && !set_iv && t_out->suite().c().mode == cipher_mode::cbc) {
      std::size_t iv_at = fa.offset() + esp_header_size;  // the headers in front of the IV, SPI and Seq are compared
      for (std::size_t i = 0; i < endpoint<B, Stack>::esp_index; ++i) iv_at += Stack::rules[i].header_size;
      if (fa.size() != fb.size() || fa.offset() != fb.offset() || !std::equal(a.begin(), a.begin() + static_cast<long>(iv_at), b.begin()))
        mismatch("encap headers of a " + std::to_string(inner.size()) + "-byte packet");
    } else if (a != b) {
      mismatch("encap bytes of a " + std::to_string(inner.size()) + "-byte packet");
    }
    if (!ra) return {};
    bytes pkt(fa.data().begin(), fa.data().end());
    // Without ESP the outer addresses are checked (outer_check::automatic): turn the packet
    // into one the peer sent, by swapping source and destination (no checksum changes).
    if (!t_out) {
      const std::size_t at = (pkt[0] >> 4) == 4 ? 12 : 8, len = (pkt[0] >> 4) == 4 ? 4 : 16;
      std::swap_ranges(pkt.begin() + static_cast<long>(at), pkt.begin() + static_cast<long>(at + len), pkt.begin() + static_cast<long>(at + len));
    }
    return pkt;
  }

  // Decapsulates copies of `pkt` with both, each with a fresh window; compares.
  void decap(const bytes& pkt, const char* what, std::size_t at) {
    if (t_in) {
      t_in->reset_inbound(0);
      r_in_sa->reset_inbound(0);
    }
    test::guarded ga(pkt.size()), gb(pkt.size());
    std::copy(pkt.begin(), pkt.end(), ga.inside().begin());
    std::copy(pkt.begin(), pkt.end(), gb.inside().begin());
    frame fa(ga.inside(), 0, pkt.size()), fb(gb.inside(), 0, pkt.size());
    const auto ra = typed->decap(fa);
    const auto rb = rt->decap(fb);
    if (ra.error() != rb.error() || ra.detail != rb.detail) mismatch(describe(what, at, ra.error(), ra.detail, rb.error(), rb.detail));
    else if (ra && (ra.value().inner_version != rb.value().inner_version || ra.value().gre_seq != rb.value().gre_seq ||
                    ra.value().outer_ipv6 != rb.value().outer_ipv6 || ra.value().outer_source_port != rb.value().outer_source_port ||
                    (ra.value().outer_source - ga.inside().data()) != (rb.value().outer_source - gb.inside().data())))
      mismatch(std::string(what) + ": decap_info differs");
    if (!std::equal(fa.data().begin(), fa.data().end(), fb.data().begin(), fb.data().end()) || fa.offset() != fb.offset())
      mismatch(std::string(what) + ": inner packet differs at " + std::to_string(at));
    if (!ga.intact() || !gb.intact()) mismatch("guard bytes");
  }

  void hostile(const bytes& pkt) {
    decap(pkt, "genuine", 0);
    for (std::size_t n = 0; n < pkt.size(); n += n < 96 ? 1 : 37) decap(bytes(pkt.begin(), pkt.begin() + static_cast<long>(n)), "truncated", n);
    for (std::size_t i = 0; i < pkt.size(); i += i < 96 ? 1 : 41)
      for (std::uint8_t bit : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
        bytes m = pkt;
        m[i] ^= bit;
        decap(m, "bit flipped", i);
      }
  }
};

inline bytes garbage(std::size_t n) { bytes b(n, 0x00); return b; }

// Every shape runs these inner packets: both versions, the limits, and not-IP.
template <class T>
void exercise(T& t, std::size_t max_inner) {
  std::uint8_t seed = 1;
  std::vector<bytes> inner = {test::inner_ipv4(28), test::inner_ipv4(64), test::inner_ipv4(333), test::inner_ipv6(40),
                              test::inner_ipv6(100), garbage(60)};
  if (max_inner >= 28) {
    inner.push_back(test::inner_ipv4(max_inner));
    inner.push_back(test::inner_ipv4(max_inner + 1, true));
    inner.push_back(test::inner_ipv4(max_inner + 1, false));
    inner.push_back(test::inner_ipv6(max_inner + 1));
  }
  for (const auto& p : inner) {
    const bytes pkt = t.encap(p, seed++);
    if (!pkt.empty() && p.size() <= 400) t.hostile(pkt);
    else if (!pkt.empty()) t.decap(pkt, "genuine", 0);
  }
}

constexpr ipv4 outer4{{100, 1, 1, 1}, {100, 3, 3, 3}, 64};
constexpr ipv4 delivery4{{172, 16, 0, 1}, {172, 16, 0, 2}, 255};
constexpr ipv6 outer6{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 64};
constexpr const char* outer4_spec = "ipv4(src=100.1.1.1,dst=100.3.3.3,ttl=64)";
constexpr const char* delivery4_spec = "ipv4(src=172.16.0.1,dst=172.16.0.2,ttl=255)";
constexpr const char* outer6_spec = "ipv6(src=2001:db8::1,dst=2001:db8:0:0::2)";

template <class B, class Stack>
void run_shape(const Stack& st, const std::string& text, const esp_suite* s, tunnel_options o = {.mtu = 1500}) {
  const auto spec = parse_spec(text);
  INFO(text);
  REQUIRE_MESSAGE(spec.has_value(), spec.error().format(text));
  REQUIRE(std::equal(spec->rules.begin(), spec->rules.end(), Stack::rules.begin(), Stack::rules.end()));
  twins<B, Stack> t(st, spec.value(), s, o);
  exercise(t, t.typed->max_inner());
  INFO(t.first);
  CHECK(t.mismatches == 0);
}

}  // namespace encap::test
