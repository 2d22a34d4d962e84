// expect: esp_transport_mode_carries_no_ip_packet
#include <encap/encap.hpp>
using namespace encap;
constexpr auto s = ipv4{} / esp<transport, aes256_gcm_16>{} / ipv4{};
