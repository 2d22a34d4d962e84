// esp-pcap — writes OUT.pcap with one ESP packet per suite and layout (tunnel and
// transport mode, GRE and plain, IPv4 and IPv6 underlay, NAT-T), and OUT.keys with the
// matching lines of Wireshark's esp_sa table, so tshark can decrypt and check them all:
//
//   esp-pcap out.pcap
//   args=(); while read -r l; do args+=(-o "uat:esp_sa:$l"); done < out.pcap.keys
//   tshark -r out.pcap -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE "${args[@]}" -V
//
// The keys are fixed test keys derived from the SPI: never use them for real traffic.
#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>
#include <encap/pcap.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace encap;

namespace {

constexpr std::array<std::uint8_t, 4> site_a{100, 1, 1, 1}, site_b{100, 3, 3, 3};
constexpr std::array<std::uint8_t, 4> gre_a{172, 16, 0, 1}, gre_b{172, 16, 0, 2};
constexpr std::array<std::uint8_t, 16> site_a6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr std::array<std::uint8_t, 16> site_b6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};

// An ICMP echo request from 192.168.1.10 to 192.168.2.20 with a recognisable payload.
std::size_t write_ping(std::uint8_t* p, std::uint16_t seq, std::size_t payload) {
  const std::size_t total = 20 + 8 + payload;
  write_ipv4(p, total, {{192, 168, 1, 10}, {192, 168, 2, 20}, 0, 64, 1 /* ICMP */, seq, true});
  std::uint8_t* icmp = p + 20;
  icmp[0] = 8; icmp[1] = 0;
  store_be16(icmp + 2, 0);
  store_be16(icmp + 4, 0x1234);
  store_be16(icmp + 6, seq);
  for (std::size_t i = 0; i < payload; ++i) icmp[8 + i] = static_cast<std::uint8_t>('a' + i % 26);
  store_be16(icmp + 2, internet_checksum(icmp, 8 + payload));
  return total;
}

std::vector<std::uint8_t> test_key(std::uint32_t spi, std::size_t n, std::uint8_t salt) {
  std::vector<std::uint8_t> k(n);
  for (std::size_t i = 0; i < n; ++i) k[i] = static_cast<std::uint8_t>(spi * 31 + i * 7 + salt);
  return k;
}

struct output {
  pcap_writer pcap;
  std::ofstream keys;
  int packets = 0;
};

template <class Stack>
void emit(output& out, const Stack& s, esp_suite suite, std::uint32_t spi, bool ipv6, const char* what) {
  const auto ek = test_key(spi, suite.c().key_size + suite.c().salt_size, 1);
  const auto ak = test_key(spi, suite.c().aead ? 0 : suite.i().key_size, 2);
  const esp_sa_config cfg{.spi = spi, .suite = suite, .keys = {ek, ak}};
  esp_sa<botan_backend> sa(cfg);
  endpoint ep(s, {.mtu = 1500}, &sa, static_cast<esp_sa<botan_backend>*>(nullptr));
  std::vector<std::uint8_t> buf(Stack::headroom + 1500 + Stack::tailroom);
  frame f(buf, Stack::headroom, write_ping(buf.data() + Stack::headroom, static_cast<std::uint16_t>(spi), 56));
  const auto r = ep.encap(f);
  if (!r) {
    std::fprintf(stderr, "esp-pcap: %s: %s\n", what, to_string(r.err));
    return;
  }
  out.pcap.write(f.data(), 1700000000u + static_cast<std::uint32_t>(out.packets));
  const std::string line = ipv6 ? wireshark_sa(cfg, true, "2001:db8::1", "2001:db8::3") : wireshark_sa(cfg, false, "100.1.1.1", "100.3.3.3");
  out.keys << line << "\n";
  std::printf("%-60s SPI 0x%08x  %zu bytes\n", what, spi, f.size());
  ++out.packets;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: esp-pcap OUT.pcap   (keys are written to OUT.pcap.keys)\n");
    return 2;
  }
  output out{pcap_writer(argv[1]), std::ofstream(std::string(argv[1]) + ".keys"), 0};
  if (!out.pcap || !out.keys) {
    std::fprintf(stderr, "esp-pcap: cannot write %s\n", argv[1]);
    return 2;
  }
  const ipv4 a{site_a, site_b}, ga{gre_a, gre_b};
  const ipv6 a6{site_a6, site_b6};

  emit(out, a / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ga / gre{}, aes256_cbc_hmac_sha1_96::value, 0x1001, false,
       "GRE over ESP tunnel, AES-256-CBC + HMAC-SHA1-96 (reference)");
  emit(out, a / esp<transport, aes256_cbc_hmac_sha1_96>{} / gre{}, aes256_cbc_hmac_sha1_96::value, 0x1002, false,
       "GRE over ESP transport, AES-256-CBC + HMAC-SHA1-96");
  emit(out, a / esp<tunnel, aes128_gcm_16>{} / ipv4{}, aes128_gcm_16::value, 0x1003, false, "ESP tunnel, AES-128-GCM-16");
  emit(out, a / esp<tunnel, aes256_gcm_16>{} / ga / gre<gre_opt::key | gre_opt::seq>{}, aes256_gcm_16::value, 0x1004, false,
       "GRE(key,seq) over ESP tunnel, AES-256-GCM-16");
  emit(out, a / esp<tunnel, suite<cipher_id::aes128_gcm_8>>{} / ipv4{}, {cipher_id::aes128_gcm_8}, 0x1005, false,
       "ESP tunnel, AES-128-GCM-8");
  emit(out, a / esp<tunnel, suite<cipher_id::aes256_gcm_12>>{} / ipv4{}, {cipher_id::aes256_gcm_12}, 0x1006, false,
       "ESP tunnel, AES-256-GCM-12");
  emit(out, a / esp<tunnel, aes128_cbc_hmac_sha256_128>{} / ipv4{}, aes128_cbc_hmac_sha256_128::value, 0x1007, false,
       "ESP tunnel, AES-128-CBC + HMAC-SHA-256-128");
  emit(out, a / esp<tunnel, suite<cipher_id::aes192_cbc, integ_id::hmac_sha384_192>>{} / ipv4{},
       {cipher_id::aes192_cbc, integ_id::hmac_sha384_192}, 0x1008, false, "ESP tunnel, AES-192-CBC + HMAC-SHA-384-192");
  emit(out, a / esp<tunnel, aes256_cbc_hmac_sha512_256>{} / ipv4{}, aes256_cbc_hmac_sha512_256::value, 0x1009, false,
       "ESP tunnel, AES-256-CBC + HMAC-SHA-512-256");
  emit(out, a / esp<tunnel, aes128_ctr_hmac_sha1_96>{} / ipv4{}, aes128_ctr_hmac_sha1_96::value, 0x100a, false,
       "ESP tunnel, AES-128-CTR + HMAC-SHA1-96");
  emit(out, a / esp<tunnel, null_hmac_sha256_128>{} / ipv4{}, null_hmac_sha256_128::value, 0x100b, false,
       "ESP tunnel, NULL + HMAC-SHA-256-128");
  emit(out, a / esp<transport, aes128_gcm_16>{} / gre{}, aes128_gcm_16::value, 0x100c, false, "GRE over ESP transport, AES-128-GCM-16");
  emit(out, a6 / esp<tunnel, aes256_gcm_16>{} / ipv4{}, aes256_gcm_16::value, 0x100d, true, "IPv6 underlay, ESP tunnel, AES-256-GCM-16");
  emit(out, a6 / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ga / gre{}, aes256_cbc_hmac_sha1_96::value, 0x100e, true,
       "IPv6 underlay, GRE over ESP tunnel, AES-256-CBC + HMAC-SHA1-96");
  emit(out, a / udp{4500, 4500} / esp<tunnel, aes128_gcm_16>{} / ipv4{}, aes128_gcm_16::value, 0x100f, false,
       "NAT-T (UDP 4500), ESP tunnel, AES-128-GCM-16");
  std::printf("%d packets written to %s, keys to %s.keys\n", out.packets, argv[1], argv[1]);
  return out.packets == 15 ? 0 : 1;
}
