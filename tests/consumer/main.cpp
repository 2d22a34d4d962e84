// The README's static_assert, compiled against the installed package, and a round trip
// through each backend component the package was asked for.
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>
#ifdef CONSUMER_BOTAN
#include <encap/crypto/botan.hpp>
#endif
#ifdef CONSUMER_IPSEC_MB
#include <encap/crypto/ipsec_mb.hpp>
#endif

#include <array>
#include <cstdio>
#include <vector>

using namespace encap;

constexpr auto gre_over_ipsec = ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{} / gre{};
static_assert(max_inner_size(gre_over_ipsec, 1500) == 1414);

template <class Backend>
bool round_trip() {
  std::vector<std::uint8_t> key(36, 0x42);  // AES-256-GCM: 32-byte key + 4-byte salt
  esp_sa<Backend> out({.spi = 0x1001, .suite = aes256_gcm_16::value, .keys = {key, {}}});
  esp_sa<Backend> in({.spi = 0x1001, .suite = aes256_gcm_16::value, .keys = {key, {}}});
  constexpr auto s = ipv4{{192, 0, 2, 1}, {192, 0, 2, 2}} / esp<tunnel, aes256_gcm_16>{} / ipv4{};
  endpoint tx(s, {.mtu = 1500}, &out, static_cast<esp_sa<Backend>*>(nullptr));
  endpoint rx(s, {.mtu = 1500}, static_cast<esp_sa<Backend>*>(nullptr), &in);
  std::array<std::uint8_t, decltype(tx)::headroom + 100 + decltype(tx)::tailroom> buf{};
  write_ipv4(buf.data() + tx.headroom, 100, {{10, 0, 0, 1}, {10, 0, 0, 2}, 0, 64, 17, 1, false});
  frame f(buf, tx.headroom, 100);
  return tx.encap(f) && rx.decap(f) && f.size() == 100;
}

int main() {
  std::printf("%zu\n", max_inner_size(gre_over_ipsec, 1500).value());
#ifdef CONSUMER_BOTAN
  std::printf("botan: round trip %s (Botan %d)\n", round_trip<botan_backend>() ? "ok" : "FAILED", botan_backend::botan_major);
#endif
#ifdef CONSUMER_IPSEC_MB
  std::printf("ipsec_mb: round trip %s\n", round_trip<ipsec_mb_backend>() ? "ok" : "FAILED");
#endif
}
