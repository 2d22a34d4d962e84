// expect: data_path_layer: an endpoint drives IPv4, IPv6, UDP, GRE and ESP layers
#include <encap/crypto/esp_crypto.hpp>
#include <encap/encap.hpp>
using namespace encap;
struct no_crypto {  // enough of a backend for the endpoint's template to be chosen
  no_crypto(const esp_suite&, const esp_keys&) {}
  errc seal(const esp_packet_view&) noexcept { return errc::ok; }
  errc open(const esp_packet_view&) noexcept { return errc::ok; }
  void make_iv(std::uint64_t, byte_span) noexcept {}
  static bool supports(esp_suite) { return true; }
};
constexpr auto vx = ipv4{} / udp{} / vxlan{} / ethernet{} / ipv4{};
endpoint<no_crypto, std::remove_const_t<decltype(vx)>> ep(vx, {.mtu = 1500});
