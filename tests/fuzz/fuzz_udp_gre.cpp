// Fuzz target: UDP and NAT-T classification, GRE with and without an expected key.
#include <encap/wire/gre.hpp>
#include <encap/wire/udp.hpp>

#include <cstdlib>
#include <optional>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace encap;
  const const_byte_span in(data, size);
  if (const auto u = parse_udp(in); u) {
    if (u.val.length < 8 || u.val.length > size) std::abort();
    (void)classify_nat_t(in.subspan(8, u.val.length - 8));
  }
  for (std::optional<std::uint32_t> key : {std::optional<std::uint32_t>{}, std::optional<std::uint32_t>{0x01020304}}) {
    if (const auto g = parse_gre(in, key); g) {
      if (g.val.header_length > size || g.val.header_length < 4 || g.val.key != key) std::abort();
    }
  }
  return 0;
}
