// expect: carries its own ICV
#include <encap/encap.hpp>
using namespace encap;
using bad = esp<tunnel, suite<cipher_id::aes128_gcm_16, integ_id::hmac_sha1_96>>;
constexpr auto s = ipv4{} / bad{} / ipv4{};
