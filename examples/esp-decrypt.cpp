// esp-decrypt — opens every ESP packet of a capture with the SAs of `ip xfrm state` lines,
// through encap's run-time endpoint and one SA table (old and new SAs of a rekey side by
// side), and writes the inner packets to a pcap. The strongSwan lab checks with it that
// what a real IKEv2 peer sent decapsulates to exactly what was sent.
//
//   esp-decrypt CAPTURE.pcap SA-LINES OUT.pcap [--window N]
//
// CAPTURE: Ethernet (tcpdump on a veth) or raw IP; ESP in IPv4 or in UDP 4500 (NAT-T);
// everything else (IKE, keepalives, other traffic) is counted and skipped. Prints, per
// SPI, the packets opened, the highest sequence number and any errors; exit status 1 if
// any ESP packet failed.
#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/pcap.hpp>
#include <encap/runtime_endpoint.hpp>
#include <encap/sa_config.hpp>
#include <encap/sa_table.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace encap;

namespace {

struct per_spi {
  std::uint64_t opened = 0, highest = 0;
  std::map<std::string, std::uint64_t> errors;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: esp-decrypt CAPTURE.pcap SA-LINES OUT.pcap [--window N]\n");
    return 2;
  }
  std::uint32_t window = 0;
  if (argc == 6 && std::string(argv[4]) == "--window") window = static_cast<std::uint32_t>(std::stoul(argv[5]));
  std::ifstream lines(argv[2]);
  if (!lines) { std::fprintf(stderr, "esp-decrypt: cannot open %s\n", argv[2]); return 2; }
  sa_table<botan_backend> table(64);
  std::string line;
  for (int no = 1; std::getline(lines, line); ++no) {
    if (line.find_first_not_of(" \t") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
    const auto e = parse_xfrm_state(line);
    if (!e) {
      std::fprintf(stderr, "esp-decrypt: %s:%d: %s\n", argv[2], no, e.error().format(line).c_str());
      return 2;
    }
    auto c = e->config();
    if (window) c.replay_window = window;
    table.add(c);
  }
  // Every SA decapsulates through one endpoint: ESP in IPv4, or in UDP (either carries
  // an inner IP packet of either version). The stack's suite only sizes encap (unused here).
  const auto plain = parse_spec("ipv4/esp(aes-256-gcm-16,tunnel)").value();
  const auto nat_t = parse_spec("ipv4/udp/esp(aes-256-gcm-16,tunnel)").value();
  runtime_endpoint<botan_backend> ep_plain(plain, {.mtu = 65535}, nullptr, &table), ep_nat_t(nat_t, {.mtu = 65535}, nullptr, &table);

  std::FILE* in = std::fopen(argv[1], "rb");
  if (!in) { std::fprintf(stderr, "esp-decrypt: cannot open %s\n", argv[1]); return 2; }
  std::uint32_t gh[6];
  if (std::fread(gh, sizeof gh, 1, in) != 1 || (gh[0] != 0xa1b2c3d4u && gh[0] != 0xa1b23c4du)) {
    std::fprintf(stderr, "esp-decrypt: %s: not a little-endian classic pcap\n", argv[1]);
    return 2;
  }
  const std::uint32_t linktype = gh[5];
  if (linktype != 1 && linktype != 101 && linktype != 12) {
    std::fprintf(stderr, "esp-decrypt: link type %u: Ethernet (1) or raw IP (101, 12) expected\n", linktype);
    return 2;
  }
  pcap_writer out(argv[3]);
  std::map<std::uint32_t, per_spi> spis;
  std::uint64_t records = 0, not_esp = 0, failed = 0;
  std::vector<std::uint8_t> pkt;
  std::uint32_t rh[4];
  while (std::fread(rh, sizeof rh, 1, in) == 1) {
    pkt.resize(rh[2]);
    if (std::fread(pkt.data(), 1, pkt.size(), in) != pkt.size()) break;
    ++records;
    std::size_t off = 0;
    if (linktype == 1) {
      if (pkt.size() < 14 || load_be16(&pkt[12]) != 0x0800) { ++not_esp; continue; }
      off = 14;
    }
    if (pkt.size() < off + 20 || (pkt[off] >> 4) != 4) { ++not_esp; continue; }
    const std::size_t ihl = std::size_t{pkt[off] & 0x0fu} * 4;
    const std::uint8_t proto = pkt[off + 9];
    const bool udp = proto == ip_proto::udp;
    if (!(proto == ip_proto::esp || (udp && pkt.size() >= off + ihl + 8 && load_be16(&pkt[off + ihl + 2]) == nat_t_port))) {
      ++not_esp;
      continue;
    }
    const std::size_t esp_at = off + ihl + (udp ? 8 : 0);
    if (udp && (pkt.size() < esp_at + 4 || load_be32(&pkt[esp_at]) == 0 || pkt.size() == esp_at + 1)) { ++not_esp; continue; }  // IKE, keepalive
    const std::uint32_t spi = pkt.size() >= esp_at + 8 ? load_be32(&pkt[esp_at]) : 0;
    const std::uint32_t seq = pkt.size() >= esp_at + 8 ? load_be32(&pkt[esp_at + 4]) : 0;
    per_spi& s = spis[spi];
    frame f(pkt, off, pkt.size() - off);
    const auto r = udp ? ep_nat_t.decap(f) : ep_plain.decap(f);
    if (!r) {
      ++s.errors[to_string(r.error())];
      ++failed;
      continue;
    }
    ++s.opened;
    if (seq > s.highest) s.highest = seq;
    out.write(f.data(), rh[0], rh[1]);
  }
  std::fclose(in);
  std::printf("esp-decrypt: %llu records, %llu not ESP\n", (unsigned long long)records, (unsigned long long)not_esp);
  for (const auto& [spi, s] : spis) {
    std::printf("  SPI 0x%08x: %llu opened, highest sequence number %llu\n", spi, (unsigned long long)s.opened, (unsigned long long)s.highest);
    for (const auto& [e, n] : s.errors) std::printf("    error: %s: %llu\n", e.c_str(), (unsigned long long)n);
  }
  return failed ? 1 : 0;
}
