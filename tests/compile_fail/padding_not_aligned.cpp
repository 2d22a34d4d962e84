// expect: extra ESP padding must be a multiple of the suite's alignment
#include <encap/encap.hpp>
using namespace encap;
constexpr auto s = ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96, extra_padding<5>>{} / ipv4{};
