// Exhaustive properties of the calculators over every suite x tunnel/transport x
// IPv4/IPv6 underlay x NAT-T on/off x GRE options x MTU 576..9216, and agreement with
// the Linux kernel's ESP MTU formula, written here independently of encap's code.
#include <encap/encap.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace encap;

namespace {

struct config {
  esp_suite suite;
  esp_mode mode;
  bool ipv6_underlay;
  bool nat_t;
  gre_opt gre_options;
};

std::vector<config> all_configs() {
  std::vector<config> out;
  for (const auto& s : all_suites)
    for (esp_mode m : {esp_mode::tunnel, esp_mode::transport})
      for (bool v6 : {false, true})
        for (bool natt : {false, true})
          for (unsigned g = 0; g < 8; ++g) out.push_back({s, m, v6, natt, static_cast<gre_opt>(g)});
  return out;
}

// GRE over IPsec in both modes: [outer IP, (UDP), ESP, (GRE delivery IPv4 in tunnel mode), GRE]
std::vector<layer_rule> rules_for(const config& c) {
  std::vector<layer_rule> r{c.ipv6_underlay ? ipv6_rule() : ipv4_rule()};
  if (c.nat_t) r.push_back(udp_rule());
  r.push_back(esp_rule(c.suite));
  if (c.mode == esp_mode::tunnel) r.push_back(ipv4_rule());
  r.push_back(gre_rule(c.gre_options));
  return r;
}

// Linux net/ipv4/esp4.c esp4_get_mtu() / net/ipv6/esp6.c esp6_get_mtu() (formerly
// xfrm_state_mtu()), transcribed with the kernel's own inputs:
//   header_len = [outer IP in tunnel mode] + [UDP for NAT-T] + ESP header + IV
//   net_adj    = IP header in transport mode (it is inside mtu), 0 in tunnel mode
//   blksize    = ALIGN(crypto_aead_blocksize, 4)
//   return ((mtu - header_len - authsize - net_adj) & ~(blksize - 1)) + net_adj - 2;
// Returns the largest ESP payload plus, in transport mode, the IP header.
long kernel_esp_mtu(const config& c, long mtu) {
  const cipher_info& ci = info(c.suite.cipher);
  const long ip_len = c.ipv6_underlay ? 40 : 20;
  long header_len = 8 + static_cast<long>(ci.iv_size);
  if (c.mode == esp_mode::tunnel) header_len += ip_len;
  if (c.nat_t) header_len += 8;
  const long authsize = static_cast<long>(ci.aead ? ci.icv_size : info(c.suite.integ).icv_size);
  const long blksize = (static_cast<long>(ci.block_size) + 3) & ~3L;
  const long net_adj = c.mode == esp_mode::transport ? ip_len : 0;
  const long body = mtu - header_len - authsize - net_adj;
  if (body < 0) return -1;
  return (body & ~(blksize - 1)) + net_adj - 2;
}

std::string describe(const config& c, std::size_t mtu) {
  return std::string(c.ipv6_underlay ? "ipv6" : "ipv4") + (c.nat_t ? "/udp" : "") + "/esp(" + to_string(c.suite) +
         (c.mode == esp_mode::tunnel ? ",tunnel)/ipv4" : ",transport)") + "/" + to_string(gre_rule(c.gre_options)) +
         " mtu " + std::to_string(mtu);
}

}  // namespace

TEST_SUITE("property") {
  TEST_CASE("the largest inner packet fits and one byte more does not, for every config and MTU 576..9216") {
    std::size_t checked = 0, failures = 0;
    for (const config& c : all_configs()) {
      const auto rules = rules_for(c);
      for (std::size_t mtu = 576; mtu <= 9216; ++mtu) {
        const auto m = max_inner_size(rules, mtu);
        if (!m || !fits(rules, m.val, mtu) || fits(rules, m.val + 1, mtu)) {
          if (++failures < 5) FAIL_CHECK(describe(c, mtu));
        }
        ++checked;
      }
    }
    CHECK(failures == 0);
    CHECK(checked == 78 * 2 * 2 * 2 * 8 * (9216 - 576 + 1));  // 78 suites: 22 AEAD + 8 ciphers x 7 integrity
  }

  TEST_CASE("the wire size never decreases as the inner size grows") {
    std::size_t failures = 0;
    for (const config& c : all_configs()) {
      const auto rules = rules_for(c);
      for (std::size_t mtu : {unlimited, std::size_t{1500}}) {
        std::size_t prev = wire_size(rules, 0, mtu);
        for (std::size_t n = 1; n <= 9216; ++n) {
          const std::size_t w = wire_size(rules, n, mtu);
          if (w < prev && ++failures < 5) FAIL_CHECK(describe(c, n));
          prev = w;
        }
      }
    }
    CHECK(failures == 0);
  }

  TEST_CASE("ESP plaintext MTU equals the Linux kernel's esp4_get_mtu()/esp6_get_mtu() formula") {
    std::size_t failures = 0;
    for (const config& c : all_configs()) {
      if (c.gre_options != gre_opt::none) continue;  // GRE is inside ESP: no effect on this figure
      const auto rules = rules_for(c);
      const std::size_t ip_len = c.ipv6_underlay ? 40 : 20;
      for (std::size_t mtu = 576; mtu <= 9216; ++mtu) {
        const auto ours = esp_plaintext_mtu(rules, mtu);
        const long k = kernel_esp_mtu(c, static_cast<long>(mtu));
        // the kernel reports an IP packet in transport mode: take its header off
        const long expect = c.mode == esp_mode::transport ? k - static_cast<long>(ip_len) : k;
        if ((!ours || static_cast<long>(ours.val) != expect) && ++failures < 5) FAIL_CHECK(describe(c, mtu));
      }
    }
    CHECK(failures == 0);
  }

  TEST_CASE("padding policies: max inner still fits exactly and the wire size is monotone") {
    const std::vector<esp_padding> policies{{0, 0}, {16, 0}, {64, 0}, {0, 64}, {0, 500}, {32, 256}};
    std::size_t failures = 0;
    for (const auto& s : all_suites)
      for (const auto& p : policies) {
        if (check_padding(s, p) != padding_error::ok) continue;
        const std::vector<layer_rule> rules{ipv4_rule(), esp_rule(s, p), ipv4_rule(), gre_rule()};
        for (std::size_t mtu = 576; mtu <= 9216; mtu += 13) {
          const auto m = max_inner_size(rules, mtu);
          if ((!m || !fits(rules, m.val, mtu) || fits(rules, m.val + 1, mtu)) && ++failures < 5) FAIL_CHECK(to_string(s));
        }
        std::size_t prev = 0;
        for (std::size_t n = 0; n <= 3000; ++n) {
          const std::size_t w = wire_size(rules, n, 1500);
          if (w < prev && ++failures < 5) FAIL_CHECK(to_string(s));
          prev = w;
        }
      }
    CHECK(failures == 0);
  }
}
