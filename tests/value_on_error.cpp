// result::value() on an error is a programming error: it must say which error before it
// aborts (ctest checks the message).
#include <encap/encap.hpp>

using namespace encap;

int main() {
  constexpr auto s = ipv4{} / esp<tunnel, aes256_gcm_16>{} / ipv4{};
  return static_cast<int>(max_inner_size(s, 40).value());  // MTU 40 carries nothing
}
