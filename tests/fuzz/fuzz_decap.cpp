// Fuzz target: endpoint decap of arbitrary bytes, per suite family and stack shape.
// The first byte picks the case; the rest is the packet, placed between guard bytes.
// A fuzzer cannot forge an ICV, so this covers everything up to and including the
// integrity check (fuzz_roundtrip covers what follows it).
#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>

#include <cstdlib>
#include <cstring>
#include <vector>

using namespace encap;

namespace {

std::vector<std::uint8_t> key(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> k(n);
  for (std::size_t i = 0; i < n; ++i) k[i] = static_cast<std::uint8_t>(seed + i);
  return k;
}

template <class Suite>
struct family {
  std::vector<std::uint8_t> ek = key(Suite::value.c().key_size + Suite::value.c().salt_size, 1);
  std::vector<std::uint8_t> ak = key(Suite::value.c().aead ? 0 : Suite::value.i().key_size, 2);
  esp_sa<botan_backend> sa{{.spi = 0x1001, .suite = Suite::value, .keys = {ek, ak}, .esn = true}};
  endpoint<botan_backend, decltype(ipv4{} / esp<tunnel, Suite>{} / ipv4{} / gre<gre_opt::csum | gre_opt::key>{})> tunnel_ep{
      ipv4{} / esp<tunnel, Suite>{} / ipv4{} / gre<gre_opt::csum | gre_opt::key>{}, {.mtu = 9000}, nullptr, &sa};
  endpoint<botan_backend, decltype(ipv6{} / udp{} / esp<transport, Suite>{} / gre{})> natt_ep{
      ipv6{} / udp{} / esp<transport, Suite>{} / gre{}, {.mtu = 9000}, nullptr, &sa};

  void run(const std::uint8_t* data, std::size_t size, bool natt) {
    constexpr std::size_t guard = 32;
    if (size > 65535) return;  // no IP packet is larger (and GCC then sees the memcpy bound)
    std::vector<std::uint8_t> buf(size + 2 * guard, 0xcd);
    std::memcpy(buf.data() + guard, data, size);
    frame f({buf.data() + guard, size}, 0, size);
    const auto r = natt ? natt_ep.decap(f) : tunnel_ep.decap(f);
    for (std::size_t i = 0; i < guard; ++i)
      if (buf[i] != 0xcd || buf[guard + size + i] != 0xcd) std::abort();  // wrote outside the packet
    if (r && (f.begin() < buf.data() + guard || f.begin() + f.size() > buf.data() + guard + size)) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static family<aes128_gcm_16> gcm;
  static family<aes256_cbc_hmac_sha1_96> cbc;
  static family<chacha20_poly1305> chacha;
  static family<aes128_ccm_16> ccm;
  static family<suite<cipher_id::aes128_ctr, integ_id::hmac_sha256_128>> ctr;
  static family<null_hmac_sha256_128> null;
  static family<aes128_gmac> gmac;
  if (size < 1) return 0;
  const std::uint8_t which = data[0];
  const bool natt = which & 0x80;
  switch ((which & 0x7f) % 7) {
    case 0: gcm.run(data + 1, size - 1, natt); break;
    case 1: cbc.run(data + 1, size - 1, natt); break;
    case 2: chacha.run(data + 1, size - 1, natt); break;
    case 3: ccm.run(data + 1, size - 1, natt); break;
    case 4: ctr.run(data + 1, size - 1, natt); break;
    case 5: null.run(data + 1, size - 1, natt); break;
    default: gmac.run(data + 1, size - 1, natt); break;
  }
  return 0;
}
