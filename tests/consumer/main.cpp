// The README's static_assert, compiled against the installed package.
#include <encap/encap.hpp>

#include <cstdio>

using namespace encap;

constexpr auto gre_over_ipsec = ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{} / gre{};
static_assert(max_inner_size(gre_over_ipsec, 1500) == 1414);

int main() { std::printf("%zu\n", max_inner_size(gre_over_ipsec, 1500).value()); }
