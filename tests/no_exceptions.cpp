// Built with -fno-exceptions -fno-rtti: the MTU math must not need either.
#include <encap/layers/esp.hpp>
#include <encap/layers/gre.hpp>
#include <encap/layers/ipv4.hpp>
#include <encap/sizing.hpp>
#include <encap/stack.hpp>

int main() {
  using namespace encap;
  constexpr auto s = ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{} / gre{};
  volatile std::size_t mtu = 1500;  // a run-time value
  return max_inner_size(s, mtu) == 1414 ? 0 : 1;
}
