// The README's embedding example, built and run by ctest.
#include <encap/encap.hpp>

#include <cstdio>

using namespace encap;

// GRE over IPsec: outer IPv4, ESP tunnel mode, GRE delivery IPv4, GRE — outermost first.
constexpr auto gre_over_ipsec = ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{} / gre{};
static_assert(esp_plaintext_mtu(gre_over_ipsec, 1500) == 1438);  // Cisco IOS: "plaintext mtu 1438"
static_assert(max_inner_size(gre_over_ipsec, 1500) == 1414);     // ip mtu 1414
static_assert(tcp_mss_ipv4(gre_over_ipsec, 1500) == 1374);       // ip tcp adjust-mss 1374

int main() {
  const auto spec = parse_spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre");  // same stack, at run time
  std::printf("max inner %zu, wire size %zu\n", max_inner_size(*spec, 1500).value(), wire_size(gre_over_ipsec, 1414));
}
