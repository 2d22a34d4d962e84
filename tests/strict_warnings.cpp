// Every public header, and the templates an embedder instantiates, under strict warnings:
// -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast
// -Werror (the embedding issue). Compiled, not run. Botan's and intel-ipsec-mb's headers
// come in as system headers, as they do through encap::botan and encap::ipsec_mb.
#include <encap/encap.hpp>

#include "support/backends.hpp"  // every backend built

#include <array>
#include <vector>

using namespace encap;

namespace {

template <class Backend, class Stack>
std::size_t round_trip(const Stack& s, esp_suite suite, std::span<const std::uint8_t> key, std::span<const std::uint8_t> auth) {
  esp_sa<Backend> out({.spi = 0x1001, .suite = suite, .keys = {key, auth}});
  esp_sa<Backend> in({.spi = 0x1001, .suite = suite, .keys = {key, auth}});
  endpoint ep(s, {.mtu = 1500}, &out, &in);
  std::vector<std::uint8_t> buf(ep.headroom + 1500 + ep.tailroom);
  write_ipv4(buf.data() + ep.headroom, 100, {{10, 0, 0, 1}, {10, 0, 0, 2}, 0, 64, 17, 1, false});
  std::array<frame, 2> frames{frame(buf, ep.headroom, 100), frame(buf, ep.headroom, 100)};
  std::array<result<byte_span>, 2> sent{};
  std::array<result<decap_info>, 2> got{};
  std::size_t n = ep.encap_burst(frames, sent);
  n += ep.decap_burst(frames, got);
  frame f(buf, ep.headroom, 100);
  if (ep.encap(f) && ep.decap(f)) ++n;
  (void)clamp_tcp_mss(f.data(), 1360);
  return n;
}

template <class Backend>
std::size_t all(std::span<const std::uint8_t> key, std::span<const std::uint8_t> auth) {
  constexpr ipv4 o{{192, 0, 2, 1}, {192, 0, 2, 2}};
  constexpr ipv6 o6{};
  return round_trip<Backend>(o / esp<tunnel, aes_256_gcm_16>{} / ipv4{} / gre<gre_opt::key | gre_opt::seq>{}, aes_256_gcm_16::value, key, auth) +
         round_trip<Backend>(o / udp{} / esp<transport, aes_256_gcm_16>{} / gre{}, aes_256_gcm_16::value, key, auth) +
         round_trip<Backend>(o6 / esp<tunnel, aes_256_gcm_16>{} / ipv6{}, aes_256_gcm_16::value, key, auth) +
         round_trip<Backend>(o / gre{}, aes_256_gcm_16::value, key, auth);
}

}  // namespace

int strict_warnings_main();
int strict_warnings_main() {
  std::vector<std::uint8_t> key(36, 1), auth;
  std::size_t n = 0;
  test::for_each_backend([&]<class B>() { n += all<B>(key, auth); });
  const auto spec = parse_spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre");
  if (spec) n += max_inner_size(*spec, 1500).value_or(0);
  std::array<std::uint8_t, 1500> a{}, b{};
  std::array<byte_span, 2> frags{byte_span(a), byte_span(b)};
  n += fragment_ipv4(a, 576, frags).value_or(0);
  std::array<std::uint8_t, 1280> icmp{};
  n += build_icmp_frag_needed(icmp, a, 1400, {192, 0, 2, 1}).value_or(0);
  n += build_icmpv6_packet_too_big(icmp, a, 1280, {}).value_or(0);
  return static_cast<int>(n & 1);
}
