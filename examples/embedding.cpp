// A complete program: a GRE-over-IPsec tunnel end, addresses set at run time, one packet
// out and back in. README.md shows this file verbatim; ctest builds and runs it.
#include <encap/crypto/botan.hpp>  // the crypto backend (CMake: encap::botan)
#include <encap/encap.hpp>

#include <array>
#include <utility>
#include <cstdio>
#include <vector>

using namespace encap;

int main() {
  // The stack, outermost first. Its type decides every size; its values (addresses) may
  // be set at run time, layer by layer.
  auto stack = ipv4{} / esp<tunnel, aes_256_gcm_16>{} / ipv4{} / gre{};
  using stack_t = decltype(stack);
  stack.get<0>().src = {192, 0, 2, 1};   // outer IPv4: this end
  stack.get<0>().dst = {192, 0, 2, 2};   //             the peer
  stack.get<2>().src = {172, 16, 0, 1};  // GRE delivery IPv4
  stack.get<2>().dst = {172, 16, 0, 2};

  // One SA per direction, each with its own key (one key both ways would reuse GCM
  // nonces). Keys as IKE derives them: an AEAD key carries its salt at the end (RFC 4106
  // §8.1: 32 + 4 = 36 bytes for AES-256-GCM); CBC/CTR suites take a separate integrity key.
  std::vector<std::uint8_t> key_ab(36, 0x11), key_ba(36, 0x22);
  const esp_suite suite = aes_256_gcm_16::value;
  esp_sa<botan_backend> a_out({.spi = 0x1001, .suite = suite, .keys = {key_ab, {}}});
  esp_sa<botan_backend> a_in({.spi = 0x2002, .suite = suite, .keys = {key_ba, {}}});
  endpoint a(stack, {.mtu = 1500}, &a_out, &a_in);

  // The peer, here in the same program: the same stack with the addresses swapped.
  auto mirrored = stack;
  std::swap(mirrored.get<0>().src, mirrored.get<0>().dst);
  std::swap(mirrored.get<2>().src, mirrored.get<2>().dst);
  esp_sa<botan_backend> b_out({.spi = 0x2002, .suite = suite, .keys = {key_ba, {}}});
  esp_sa<botan_backend> b_in({.spi = 0x1001, .suite = suite, .keys = {key_ab, {}}});
  endpoint b(mirrored, {.mtu = 1500}, &b_out, &b_in);

  // The inner packet goes in the caller's buffer after `headroom` bytes, with `tailroom`
  // behind it. It must be a whole IP packet: version, header checksum, and Total Length
  // equal to the frame's length (write_ipv4 writes such a header).
  std::array<std::uint8_t, stack_t::headroom + 1500 + stack_t::tailroom> buf{};
  const std::size_t n = 1000;
  write_ipv4(buf.data() + stack_t::headroom, n, {{10, 1, 0, 2}, {10, 2, 0, 2}, 0, 64, ip_proto::udp, 7, true});
  frame f(buf, stack_t::headroom, n);

  const auto sent = a.encap(f);  // f now holds the ESP packet, encrypted in place
  if (!sent) {
    std::printf("encap: %s\n", to_string(sent.error()));
    return 1;
  }
  std::printf("sent %zu bytes for a %zu-byte packet (tunnel MTU %zu)\n", f.size(), n, a.max_inner());

  const auto got = b.decap(f);  // at the peer: f holds the inner packet again
  if (!got) {
    std::printf("decap: %s at layer %u\n", to_string(got.error()), got.detail);
    return 1;
  }
  std::printf("received an IPv%u packet of %zu bytes\n", got.value().inner_version, f.size());
}
