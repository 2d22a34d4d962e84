// expect: udp_carries_esp_or_an_overlay_not_ip
#include <encap/encap.hpp>
using namespace encap;
constexpr auto s = ipv6{} / udp{} / ipv4{};
