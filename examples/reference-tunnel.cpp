// reference-tunnel — one packet through the reference GRE-over-IPsec tunnel, step by step:
// IPv4 / ESP tunnel mode (AES-256-CBC + HMAC-SHA1-96) / IPv4 / GRE, underlay MTU 1500.
//
// Prints the buffer sizes the stack asks for, the inner packet, each header as encap
// writes it, the packet on the wire, and decapsulation back to the same bytes.
#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>

#include <array>
#include <cstdio>
#include <vector>

using namespace encap;

namespace {

void dump(const char* what, const_byte_span b, std::size_t max = 48) {
  std::printf("%s (%zu bytes):", what, b.size());
  for (std::size_t i = 0; i < b.size() && i < max; ++i) std::printf("%s%02x", i % 16 ? " " : "\n  ", b[i]);
  std::printf("%s\n", b.size() > max ? " ..." : "");
}

}  // namespace

int main() {
  // The stack, outermost first; values carry addresses, the types carry every size.
  constexpr auto stack = ipv4{{100, 1, 1, 1}, {100, 3, 3, 3}} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} /
                         ipv4{{172, 16, 0, 1}, {172, 16, 0, 2}} / gre{};
  using stack_t = std::remove_const_t<decltype(stack)>;
  std::printf("1. stack: headroom %zu, tailroom %zu, tunnel MTU at 1500: %zu\n", stack_t::headroom, stack_t::tailroom,
              max_inner_size(stack, 1500).value());

  // Keys: fixed here for the demonstration; a real SA gets them from IKE.
  std::array<std::uint8_t, 32> enc_key{};
  std::array<std::uint8_t, 20> auth_key{};
  for (std::size_t i = 0; i < enc_key.size(); ++i) enc_key[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < auth_key.size(); ++i) auth_key[i] = static_cast<std::uint8_t>(0x80 + i);
  const esp_sa_config cfg{.spi = 0x1001, .suite = aes256_cbc_hmac_sha1_96::value, .keys = {enc_key, auth_key}};
  esp_sa<botan_backend> outbound(cfg), inbound(cfg);  // one per direction; both ends here
  endpoint ep(stack, {.mtu = 1500}, &outbound, &inbound);
  std::printf("2. SA 0x%08x: %s\n   wireshark: %s\n", outbound.spi(), to_string(outbound.suite()).c_str(),
              wireshark_sa(cfg, false, "100.1.1.1", "100.3.3.3").c_str());

  // The caller's buffer: headroom, the inner packet, tailroom. Nothing else is allocated.
  std::array<std::uint8_t, stack_t::headroom + 1414 + stack_t::tailroom> buf{};
  std::uint8_t* inner = buf.data() + stack_t::headroom;
  write_ipv4(inner, 1414, {{192, 168, 1, 10}, {192, 168, 2, 20}, 0, 64, ip_proto::udp, 1, true});
  for (std::size_t i = 20; i < 1414; ++i) inner[i] = static_cast<std::uint8_t>(i);
  frame f(buf, stack_t::headroom, 1414);
  dump("3. inner packet, DF set", f.data());

  const auto r = ep.encap(f);
  if (!r) {
    std::printf("encap failed: %s\n", to_string(r.err));
    return 1;
  }
  std::printf("4. encapsulated: %zu bytes on the wire (max 1500)\n", f.size());
  dump("   outer IPv4 header", f.data().first(20));
  dump("   ESP header: SPI, sequence number, IV", f.data().subspan(20, 24));
  dump("   ICV (HMAC-SHA1-96)", f.data().last(12));

  const auto d = ep.decap(f);
  if (!d) {
    std::printf("decap failed: %s at layer %u\n", to_string(d.err), d.detail);
    return 1;
  }
  std::printf("5. decapsulated: %zu bytes, IPv%d, at offset %zu of the same buffer\n", f.size(), d.val.inner_version, f.offset());

  frame big(buf, stack_t::headroom, 1415);
  store_be16(big.begin() + 2, 1415);
  const auto too_big = ep.encap(big);
  std::printf("6. a 1415-byte packet with DF: %s, MTU %u (answer with ICMP fragmentation needed)\n",
              to_string(too_big.err), too_big.detail);
  return f.size() == 1414 && too_big.err == errc::packet_too_big && too_big.detail == 1414 ? 0 : 1;
}
