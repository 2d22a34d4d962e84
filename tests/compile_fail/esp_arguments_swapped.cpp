// expect: the mode (tunnel or transport) comes first, then the suite
#include <encap/encap.hpp>
using namespace encap;
constexpr auto s = ipv4{} / esp<aes256_gcm_16, tunnel>{} / ipv4{};
