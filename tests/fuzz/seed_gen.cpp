// Writes the seed corpora under tests/fuzz/corpus/ (committed): valid packets of each
// kind, made with the same keys as fuzz_decap, and specs from the tests.
//   seed_gen tests/fuzz/corpus
#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace encap;

namespace {

std::filesystem::path root;
int counter = 0;

void put(const std::string& target, const std::vector<std::uint8_t>& bytes) {
  const auto dir = root / target;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / ("seed-" + std::to_string(counter++)), std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> key(std::size_t n, std::uint8_t seed) {  // as fuzz_decap.cpp
  std::vector<std::uint8_t> k(n);
  for (std::size_t i = 0; i < n; ++i) k[i] = static_cast<std::uint8_t>(seed + i);
  return k;
}

std::vector<std::uint8_t> inner(std::size_t n, std::uint8_t tos = 0) {
  std::vector<std::uint8_t> p(n);
  write_ipv4(p.data(), n, {{192, 168, 1, 10}, {192, 168, 2, 20}, tos, 64, ip_proto::udp, 1, true});
  for (std::size_t i = 20; i < n; ++i) p[i] = static_cast<std::uint8_t>(i);
  return p;
}

template <class Suite>
void decap_seeds(std::uint8_t selector) {
  const auto ek = key(Suite::value.c().key_size + Suite::value.c().salt_size, 1);
  const auto ak = key(Suite::value.c().aead ? 0 : Suite::value.i().key_size, 2);
  esp_sa<botan_backend> sa({.spi = 0x1001, .suite = Suite::value, .keys = {ek, ak}, .esn = true});
  const auto st = ipv4{} / esp<tunnel, Suite>{} / ipv4{} / gre<gre_opt::csum | gre_opt::key>{};
  endpoint ep(st, {.mtu = 9000}, &sa, static_cast<esp_sa<botan_backend>*>(nullptr));
  for (std::size_t n : {28, 100, 600}) {
    auto p = inner(n, static_cast<std::uint8_t>(n & 3));
    std::vector<std::uint8_t> buf(ep.headroom + n + ep.tailroom);
    std::copy(p.begin(), p.end(), buf.begin() + ep.headroom);
    frame f(buf, ep.headroom, n);
    if (!ep.encap(f)) continue;
    std::vector<std::uint8_t> seed{selector};
    seed.insert(seed.end(), f.data().begin(), f.data().end());
    put("fuzz_decap", seed);
    put("fuzz_ip", {f.data().begin(), f.data().end()});
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  root = argv[1];
  for (std::size_t n : {20, 28, 64, 1500}) put("fuzz_ip", inner(n));
  std::vector<std::uint8_t> v6(60);
  write_ipv6(v6.data(), 20, {{}, {}, 0xb8, 64, ip_proto::udp, 0});
  put("fuzz_ip", v6);

  for (const char* s : {"ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre", "ipv6/udp/esp(aes-128-gcm-16)/ipv4",
                        "ipv4/esp(aes-256-gcm-16,tfc=512)/ipv4", "eth(qinq)/mpls(3)/ipv4", "ipv4/udp/l2tpv3(cookie=4,sublayer)/eth",
                        "eth/macsec(nosci)/ipv4", "ipv4/udp/geneve(opt=16)/eth/ipv6", "ipv4/esp(aes-128-cbc,none,transport)/udp",
                        "ipv6/udp/wireguard/ipv4", "ipv4/gre(csum,key,seq)", "ipv4/udp/vxlan/eth/ipv4", "pppoe/ipv4",
                        "ipv4/esp(aes-256-cbc,hmac-sha1-96,pad=32)/ipv4", "ipv4/udp/ipv4", "ipv4/esp(aes-128-gcm-16,hmac-sha1-96)"}) {
    const std::string t(s);
    put("fuzz_spec", {t.begin(), t.end()});
  }

  std::vector<std::uint8_t> udp(8 + 1);
  write_udp(udp.data(), 4500, 4500, 9);
  udp[8] = 0xff;
  put("fuzz_udp_gre", udp);
  std::vector<std::uint8_t> ike(8 + 12, 0);
  write_udp(ike.data(), 4500, 4500, 20);
  put("fuzz_udp_gre", ike);
  for (unsigned o = 0; o < 8; ++o) {
    std::vector<std::uint8_t> g(16 + 28);
    const auto in = inner(28);
    const std::size_t h = gre_header_size(static_cast<gre_opt>(o));
    std::copy(in.begin(), in.end(), g.begin() + static_cast<std::ptrdiff_t>(h));
    g.resize(h + 28);
    write_gre(g.data(), 28, static_cast<gre_opt>(o), ether_type::ipv4, 0x01020304, 7);
    put("fuzz_udp_gre", g);
  }

  decap_seeds<aes128_gcm_16>(0);
  decap_seeds<aes256_cbc_hmac_sha1_96>(1);
  decap_seeds<chacha20_poly1305>(2);
  decap_seeds<aes128_ccm_16>(3);
  decap_seeds<suite<cipher_id::aes128_ctr, integ_id::hmac_sha256_128>>(4);
  decap_seeds<null_hmac_sha256_128>(5);
  decap_seeds<aes128_gmac>(6);

  // fuzz_roundtrip: selector, pad choice, mode bits, next header, then an inner packet
  for (std::uint8_t sel = 0; sel < 5; ++sel)
    for (std::uint8_t mode : {0, 1, 2, 4, 0x40, 0xc0}) {
      std::vector<std::uint8_t> seed{sel, 1, mode, 4};
      const auto in = inner(40 + sel, static_cast<std::uint8_t>(mode & 3));
      seed.insert(seed.end(), in.begin(), in.end());
      put("fuzz_roundtrip", seed);
    }
  std::printf("%d seeds written to %s\n", counter, argv[1]);
}
