// expect: esp_tunnel_mode_carries_an_ip_packet
#include <encap/encap.hpp>
using namespace encap;
constexpr auto s = ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / gre{};  // the README's example
