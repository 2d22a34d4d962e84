// expect: outer_layer_can_carry_inner_layer
#include <encap/encap.hpp>
using namespace encap;
constexpr auto s = ipv4{} / udp{} / vxlan{} / ipv4{};
